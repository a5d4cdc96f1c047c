// ONNX Runtime Web on the graphs of export_onnx.py: the teacher-forced pass (forward.onnx) and greedy
// generation as a user of an exported nn.Transformer runs it (encoder.onnx once, then decoder.onnx on
// the whole prefix for every new token). Given the `ort` namespace, so the same code serves Node and
// the browser. WASM backend (SIMD), one thread -- like Stepwise, which is single-threaded.
import { rate, scaled, timeCalls } from './timing.mjs';

const ids = (ort, list) => new ort.Tensor('int64', BigInt64Array.from(list, BigInt), [1, list.length]);

function argmaxLastRow(logits) {
  const [, T, V] = logits.dims;
  const data = logits.data;
  let best = 0;
  for (let v = 1; v < V; v++) if (data[(T - 1) * V + v] > data[(T - 1) * V + best]) best = v;
  return best;
}

/**
 * graphs: {forward, encoder, decoder} as Uint8Array; cases: [{source: ids, target: ids}] with target the
 * teacher-forced input (<s> + output); limits: {bos, eos, maxNew}; timing: {samples, minSeconds}.
 */
export async function runOrtBenchmark(ort, graphs, cases, limits, timing) {
  ort.env.wasm.numThreads = 1;
  const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const forward = await ort.InferenceSession.create(graphs.forward, options);
  const encoder = await ort.InferenceSession.create(graphs.encoder, options);
  const decoder = await ort.InferenceSession.create(graphs.decoder, options);

  const forwardPass = async () => {
    for (const c of cases) await forward.run({ src: ids(ort, c.source), tgt: ids(ort, c.target) });
  };
  const outputs = [];
  let tokens = 0;
  const greedyPass = async () => {
    tokens = 0;
    outputs.length = 0;
    for (const c of cases) {
      const { memory } = await encoder.run({ src: ids(ort, c.source) });
      const fed = [limits.bos];
      const out = [];
      while (out.length < limits.maxNew) {
        const { logits } = await decoder.run({ tgt: ids(ort, fed), memory });
        const next = argmaxLastRow(logits);
        out.push(next);
        if (next === limits.eos) break;
        fed.push(next);
      }
      outputs.push(out);
      tokens += out.length;
    }
  };
  const forwardStats = await timeCalls(forwardPass, timing);
  const greedyStats = await timeCalls(greedyPass, timing);
  // The first case's teacher-forced logits, to check both engines compute the same function.
  const first = await forward.run({ src: ids(ort, cases[0].source), tgt: ids(ort, cases[0].target) });
  return {
    version: ort.env.versions?.web ?? ort.env.versions?.common,
    threads: 1,
    forward: { words: cases.length, us_per_word: scaled(forwardStats, 1e6 / cases.length) },
    greedy: {
      words: cases.length,
      tokens,
      us_per_token: scaled(greedyStats, 1e6 / tokens),
      tokens_per_s: rate(greedyStats, tokens),
      words_per_s: rate(greedyStats, cases.length),
      outputs,
    },
    first_logits: Array.from(first.logits.data),
  };
}
