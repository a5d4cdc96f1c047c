// The WebAssembly SIMD kernels against the Eigen reference (tests/wasm/kernels_test.cpp, built by
// tools/build_wasm.sh into build-wasm/stepwise-kernel-tests.js). Run: node --test tests/wasm/
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

test('kernels::simd matches kernels::eigen (exact on integers, within 1e-5 of the term scale on floats)', () => {
  const program = fileURLToPath(new URL('../../build-wasm/stepwise-kernel-tests.js', import.meta.url));
  const run = spawnSync(process.execPath, [program], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  assert.match(run.stdout, / 0 failed/);
});
