// The shipped G2P model: the WebAssembly build and the native build agree token for token (greedy) on
// every word of the test split, with the WebAssembly build's matrices dequantized to float32 (its
// default for this model's small matrices) and kept int8 as the native build keeps them. Needs
// build/stepwise and data/cmudict/test.tsv (tools/test.sh makes both).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';

const root = new URL('../../', import.meta.url);
const weights = new URL('weights/g2p-cmudict.safetensors', root);

test('native and WebAssembly greedy outputs agree on every test-split word', async () => {
  const lines = readFileSync(new URL('data/cmudict/test.tsv', root), 'utf8').trim().split('\n');
  const words = [...new Set(lines.map((line) => line.split('\t')[0]))];
  const native = spawnSync(new URL('build/stepwise', root).pathname, ['generate', '--model', weights.pathname], {
    input: words.join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.equal(native.status, 0, native.stderr);
  const expected = native.stdout.trim().split('\n');
  assert.equal(expected.length, words.length);

  for (const [held, options] of [['float32', {}], ['int8', { dequantizeUpTo: 0 }]]) {
    const model = await Stepwise.load(readFileSync(weights), { name: 'g2p-cmudict.safetensors', ...options });
    const run = (word) => {
      const r = model.start(word);
      const text = r.complete();
      r.dispose();
      return `${word}\t${text}`;
    };
    const mismatches = words.map(run).filter((line, i) => line !== expected[i]);
    console.log(`matrices ${held}: ${words.length} words, ${mismatches.length} differ`);
    assert.deepEqual(mismatches, [], `matrices ${held}`);
    model.dispose();
  }
});
