// ONNX Runtime on the graphs of export_onnx.py: the teacher-forced pass (forward.onnx), greedy generation
// as a user of an exported nn.Transformer runs it (encoder.onnx once, then decoder.onnx on the whole
// prefix for every new token: no cache), and greedy generation with a KV cache (encoder_kv.onnx once:
// memory and every decoder layer's cross-attention K/V; then step_kv.onnx per token: the new token, its
// position and the past self-attention K/V in, logits and the present K/V out). Given the `ort`
// namespace, so the same code serves ONNX Runtime Web (WASM backend, SIMD) under Node and in the browser,
// and onnxruntime-node (the native CPU execution provider).
import { rate, scaled, timeCalls } from './timing.mjs';

const ids = (ort, list) => new ort.Tensor('int64', BigInt64Array.from(list, BigInt), [1, list.length]);
const scalar = (ort, value) => new ort.Tensor('int64', BigInt64Array.of(BigInt(value)), [1]);

function argmax(data, from, to) {
  let best = from;
  for (let v = from + 1; v < to; v++) if (data[v] > data[best]) best = v;
  return best - from;
}

const argmaxLastRow = (logits) => {
  const [, T, V] = logits.dims;
  return argmax(logits.data, (T - 1) * V, T * V);
};

/**
 * graphs: {forward, encoder, decoder, encoder_kv, step_kv} as Uint8Array; cases: [{source: ids, target: ids}]
 * with target the teacher-forced input (<s> + output); limits: {bos, eos, maxNew}; timing: {samples,
 * minSeconds, warmupSeconds}; backend: {kind: 'web' | 'node', threads} (web: always one thread, like
 * Stepwise; node: intra-op threads); sections: which of 'forward', 'greedy', 'greedy_kv' to time.
 */
export async function runOrtBenchmark(ort, graphs, cases, limits, timing, backend = { kind: 'web', threads: 1 },
  sections = ['forward', 'greedy', 'greedy_kv']) {
  let options;
  if (backend.kind === 'web') {
    ort.env.wasm.numThreads = 1;
    options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  } else {
    options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: backend.threads, interOpNumThreads: 1,
      executionMode: 'sequential' };
  }
  const session = (name) => ort.InferenceSession.create(graphs[name], options);
  const result = { version: ort.env.versions?.web ?? ort.env.versions?.node ?? ort.env.versions?.common, backend: backend.kind,
    threads: backend.kind === 'web' ? 1 : backend.threads };
  const words = cases.length;
  const greedyResult = (stats, outputs) => {
    const tokens = outputs.reduce((s, o) => s + o.length, 0);
    return { words, tokens, us_per_token: scaled(stats, 1e6 / tokens), tokens_per_s: rate(stats, tokens), words_per_s: rate(stats, words),
      outputs: outputs.map((o) => [...o]) };
  };

  if (sections.includes('forward')) {
    const forward = await session('forward');
    const forwardPass = async () => {
      for (const c of cases) await forward.run({ src: ids(ort, c.source), tgt: ids(ort, c.target) });
    };
    result.forward = { words, us_per_word: scaled(await timeCalls(forwardPass, timing), 1e6 / words) };
    // The first case's teacher-forced logits, to check both engines compute the same function.
    const first = await forward.run({ src: ids(ort, cases[0].source), tgt: ids(ort, cases[0].target) });
    result.first_logits = Array.from(first.logits.data);
  }

  if (sections.includes('greedy')) {  // no cache: the whole prefix through decoder.onnx at every step
    const encoder = await session('encoder');
    const decoder = await session('decoder');
    const outputs = [];
    const greedyPass = async () => {
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
      }
    };
    result.greedy = greedyResult(await timeCalls(greedyPass, timing), outputs);
  }

  if (sections.includes('greedy_kv')) {  // KV cache: cross K/V once per word, self K/V carried from step to step
    const encoder = await session('encoder_kv');
    const step = await session('step_kv');
    const layers = step.inputNames.filter((n) => n.startsWith('self_k_')).length;
    // The step's inputs for a new word: its cross-attention K/V, and empty self-attention caches.
    const start = async (source) => {
      const encoded = await encoder.run({ src: ids(ort, source) });
      const feeds = {};
      for (let l = 0; l < layers; l++) {
        feeds[`cross_k_${l}`] = encoded[`cross_k_${l}`];
        feeds[`cross_v_${l}`] = encoded[`cross_v_${l}`];
        const [heads, , headDim] = encoded[`cross_k_${l}`].dims;
        feeds[`self_k_${l}`] = new ort.Tensor('float32', new Float32Array(0), [heads, 0, headDim]);  // nothing cached yet
        feeds[`self_v_${l}`] = new ort.Tensor('float32', new Float32Array(0), [heads, 0, headDim]);
      }
      return feeds;
    };
    // Feeds `token` at `position`; the present K/V become the next step's past. Returns the logits [V].
    const stepOnce = async (feeds, token, position) => {
      feeds.token = scalar(ort, token);
      feeds.position = scalar(ort, position);
      const r = await step.run(feeds);
      for (let l = 0; l < layers; l++) {
        feeds[`self_k_${l}`] = r[`present_k_${l}`];
        feeds[`self_v_${l}`] = r[`present_v_${l}`];
      }
      return r.logits.data;
    };
    const outputs = [];
    const greedyPass = async () => {
      outputs.length = 0;
      for (const c of cases) {
        const feeds = await start(c.source);
        const out = [];
        let token = limits.bos;
        while (out.length < limits.maxNew) {
          const logits = await stepOnce(feeds, token, out.length);
          const next = argmax(logits, 0, logits.length);
          out.push(next);
          if (next === limits.eos) break;
          token = next;
        }
        outputs.push(out);
      }
    };
    result.greedy_kv = greedyResult(await timeCalls(greedyPass, timing), outputs);
    // The first case teacher-forced through the step graph, one token at a time: its logits against
    // forward.onnx's (which the run compares with Stepwise's).
    if (result.first_logits) {
      const feeds = await start(cases[0].source);
      const fed = cases[0].target;
      const vocab = result.first_logits.length / fed.length;
      let diff = 0;
      for (let p = 0; p < fed.length; p++) {
        const logits = await stepOnce(feeds, fed[p], p);
        for (let v = 0; v < vocab; v++) diff = Math.max(diff, Math.abs(logits[v] - result.first_logits[p * vocab + v]));
      }
      result.kv_logits_max_abs_diff = diff;
    }
  }
  return result;
}
