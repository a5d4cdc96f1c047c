// One benchmark job under Node, in a fresh process (so every engine starts from the same state):
//
//   node tools/bench/node_runner.mjs JOB.json      results as JSON on stdout
//
// JOB: {"kind": "engine", "module": "stepwise-bench" | "stepwise-bench-eigen", "model": FILE, "options": {...}}
//      {"kind": "api", "model": FILE, "words": [...], "targets": [...], "timing": {...}}
//      {"kind": "ort", "onnx": DIR, "cases": [...], "limits": {...}, "timing": {...},
//       "backend": {"kind": "web"} | {"kind": "node", "threads": N}, "sections": [...]}
//      (web: onnxruntime-web's WASM backend; node: onnxruntime-node, the native CPU execution provider)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
try {
  process.stdout.write(`${JSON.stringify(await runJob(job))}\n`);
} catch (error) {
  // Caught here: the Emscripten module's own uncaughtException handler would print its whole source line.
  console.error(`node_runner (${job.kind}): ${error.stack ?? error}`);
  process.exitCode = 1;
}

async function runJob(job) {
  if (job.kind === 'engine') {
    const { runEngineBenchmark } = await import('./engine_wasm.mjs');
    const factory = createRequire(import.meta.url)(path.join(ROOT, 'build-wasm', `${job.module}.js`));
    return runEngineBenchmark(factory, readFileSync(job.model), job.options);
  }
  if (job.kind === 'api') {
    const { runApiBenchmark } = await import('./api.mjs');
    const Stepwise = await import('../../web/stepwise.js');
    return runApiBenchmark(Stepwise, readFileSync(job.model), job.words, job.targets, job.timing);
  }
  if (job.kind === 'ort') {
    const { runOrtBenchmark } = await import('./ort.mjs');
    const backend = job.backend ?? { kind: 'web' };
    const ort = await import(backend.kind === 'node' ? 'onnxruntime-node' : 'onnxruntime-web');
    const graphs = Object.fromEntries(['forward', 'encoder', 'decoder', 'encoder_kv', 'step_kv'].map((n) => [n, readFileSync(path.join(job.onnx, `${n}.onnx`))]));
    return runOrtBenchmark(ort, graphs, job.cases, job.limits, job.timing, backend, job.sections);
  }
  throw new Error(`unknown job kind '${job.kind}'`);
}
