// The WebAssembly build, through the JavaScript wrapper, against the same golden fixtures as the native
// tests (tools/make_fixtures.py): teacher-forced logits and attention with and without the mask, the
// stepped rows, and greedy tokens. Run: node --test tests/wasm/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const NAMES = [
  'postnorm_relu_sinusoidal',
  'postnorm_relu_sinusoidal_f16',
  'prenorm_gelu_learned_tied',
  'prenorm_gelu_learned_tied_q8',
  'postnorm_gelu_3layers_1head',
  'prenorm_relu_mixed_depth',
  'decoder_only_prenorm_gelu',
  'decoder_only_postnorm_relu',
];
// Every fixture as the module loads it by default (which dequantizes the Q8 fixture's small matrices
// to float32), and the Q8 one also with its matrices kept int8, and mixed: in_proj [48, 16] int8, the
// other matrices (at most 384 weights) float32. As tests/fixtures.cpp's loadings().
const Q8 = 'prenorm_gelu_learned_tied_q8';
const LOADINGS = [
  ...NAMES.map((name) => ({ name, label: name })),
  { name: Q8, options: { dequantizeUpTo: 0 }, label: `${Q8} (int8 matrices)` },
  { name: Q8, options: { dequantizeUpTo: 384 }, label: `${Q8} (in_proj int8, the other matrices float32)` },
];
// Same tolerance as tests/test_parity.cpp (the SIMD kernels sum in another order than Eigen and BLAS).
const TOLERANCE = 1e-5;

const loadFixture = (name, options = {}) =>
  Stepwise.load(readFileSync(new URL(`${name}.safetensors`, FIXTURES)), { name, ...options });
const golden = (name) => JSON.parse(readFileSync(new URL(`${name}.golden.json`, FIXTURES), 'utf8'));

// The case's input as text, and its target (after <s>) as text.
function texts(model, c) {
  const target = model.targetTokens;
  if (model.encoderDecoder) {
    return { input: c.source.map((id) => model.sourceTokens[id]).join(''), target: c.target.slice(1).map((id) => target[id]).join(' ') };
  }
  return {
    input: c.prompt.map((id) => target[id]).join(' '),
    target: c.target.slice(1 + c.prompt.length).map((id) => target[id]).join(' '),
  };
}

function maxDiff(expectedRows, actual, width) {
  let worst = 0;
  expectedRows.forEach((row, r) => row.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - actual[r * width + j])))));
  return worst;
}

for (const { name, options, label } of LOADINGS) {
  test(`${label}: teacher-forced pass matches PyTorch with and without the mask`, async () => {
    const model = await loadFixture(name, options);
    for (const c of golden(name).cases) {
      const { input, target } = texts(model, c);
      for (const key of ['masked', 'unmasked']) {
        const g = c[key];
        const r = model.forward(input, target, { causal: key === 'masked' });
        assert.deepEqual(r.ids, c.target);
        const V = model.targetTokens.length;
        const T = c.target.length;
        assert.ok(maxDiff(g.logits, r.logits, V) <= TOLERANCE, `${key} logits`);
        g.self_attention.forEach((layer, l) =>
          layer.forEach((m, h) => assert.ok(maxDiff(m, r.selfAttention[l][h], T) <= TOLERANCE, `${key} self ${l}.${h}`)),
        );
        (g.cross_attention ?? []).forEach((layer, l) =>
          layer.forEach((m, h) => assert.ok(maxDiff(m, r.crossAttention[l][h], c.source.length) <= TOLERANCE, `${key} cross ${l}.${h}`)),
        );
      }
    }
    model.dispose();
  });

  test(`${label}: stepping gives PyTorch's rows and greedy tokens`, async () => {
    const model = await loadFixture(name, options);
    for (const c of golden(name).cases) {
      const { input } = texts(model, c);
      const run = model.start(input);
      if (model.encoderDecoder) {
        const S = c.source.length;
        c.masked.encoder_attention.forEach((layer, l) =>
          layer.forEach((m, h) => assert.ok(maxDiff(m, run.encoderAttention()[l][h], S) <= TOLERANCE, `encoder ${l}.${h}`)),
        );
      }
      const ids = [];
      while (!run.done) {
        const step = run.step();
        ids.push(step.id);
        const sum = step.probs.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, 'probabilities sum to 1');
        for (const layer of step.selfAttention) for (const row of layer) assert.equal(row.length, step.position + 1);
      }
      assert.deepEqual(ids, c.greedy);
      run.dispose();
    }
    model.dispose();
  });
}

// The engine's default in WebAssembly: int8 matrices small enough to run faster as float32 are dequantized
// (every matrix of the fixtures and of the shipped G2P model), larger ones stay int8.
test('small int8 matrices are dequantized at load, unless dequantizeUpTo says otherwise', async () => {
  const held = async (options) => {
    const model = await loadFixture(Q8, options);
    const bytes = model.weightBytes;
    model.dispose();
    return bytes;
  };
  const [byDefault, int8, mixed, float32] = await Promise.all([{}, { dequantizeUpTo: 0 }, { dequantizeUpTo: 384 }, { dequantizeUpTo: Infinity }].map(held));
  assert.equal(byDefault, float32);
  assert.ok(int8 < mixed && mixed < float32, `${int8} < ${mixed} < ${float32}`);
  const g2p = readFileSync(new URL('../../weights/g2p-cmudict.safetensors', import.meta.url));
  const model = await Stepwise.load(g2p, { name: 'g2p-cmudict.safetensors' });
  const kept = await Stepwise.load(g2p, { name: 'g2p-cmudict.safetensors', dequantizeUpTo: 0 });
  // 1.4 M parameters, all but ~20 k of them in matrices: ~4 bytes each as float32, ~1 as int8
  assert.ok(model.weightBytes > 3.5 * model.parameters, `${model.weightBytes} bytes for ${model.parameters} parameters`);
  assert.ok(kept.weightBytes < 1.2 * kept.parameters, `${kept.weightBytes} bytes for ${kept.parameters} parameters`);
  model.dispose();
  kept.dispose();
  for (const bad of [-1, 1.5, '384', null, NaN]) {
    await assert.rejects(loadFixture(Q8, { dequantizeUpTo: bad }), {
      name: 'StepwiseError',
      message: /^option dequantizeUpTo must be a whole number >= 0 or Infinity, got /,
    });
  }
});

test('the stepped rows equal the teacher-forced rows of the same sequence', async () => {
  let compared = 0;
  for (const { name, options } of LOADINGS) {
    const model = await loadFixture(name, options);
    for (const c of golden(name).cases) {
      const { input } = texts(model, c);
      const run = model.start(input);
      const rows = [];
      while (!run.done) rows.push(run.step().selfAttention.map((layer) => layer.map((r) => r.slice())));
      const fed = run.ids.slice(0, -1);  // what the run fed back after <s> (its last choice is never fed)
      run.dispose();
      if (fed.length === 0 || fed.some((id) => id === model.eos || id === model.bos || model.targetTokens[id] === '<pad>')) continue;
      const forced = model.forward(input, fed.map((id) => model.targetTokens[id]).join(' '));
      const T = forced.ids.length;
      const offset = T - rows.length;  // a decoder-only model's prompt occupies the first rows
      rows.forEach((layers, i) =>
        layers.forEach((heads, l) =>
          heads.forEach((row, h) =>
            row.forEach((x, j) => assert.ok(Math.abs(x - forced.selfAttention[l][h][(i + offset) * T + j]) <= 1e-5)),
          ),
        ),
      );
      compared++;
    }
    model.dispose();
  }
  assert.ok(compared >= 5, `compared ${compared} runs`);
});

test('sampling with a fixed seed is reproducible; beam search runs to ranked results', async () => {
  const model = await loadFixture('prenorm_relu_mixed_depth');
  const sample = (seed) => model.start('abc', { strategy: 'sample', temperature: 1.5, seed }).complete();
  assert.equal(sample(7), sample(7));
  const run = model.start('abc', { strategy: 'beam', beamWidth: 3, nBest: 3 });
  let last;
  while (!run.done) last = run.step();
  assert.ok(last.results.length >= 1);
  for (let i = 1; i < last.results.length; i++) assert.ok(last.results[i - 1].score >= last.results[i].score);
  run.dispose();
});

test('engine errors arrive as StepwiseError with the engine message; the module keeps working', async () => {
  await assert.rejects(Stepwise.load(new Uint8Array([1, 2, 3]), { name: 'tiny.bin' }), {
    name: 'StepwiseError',
    message: /tiny\.bin: not a safetensors file: 3 bytes/,
  });
  const bytes = readFileSync(new URL('postnorm_relu_sinusoidal.safetensors', FIXTURES));
  await assert.rejects(Stepwise.load(bytes.subarray(0, 500), { name: 'cut.safetensors' }), /cut\.safetensors: header length \d+ runs past the end/);
  const model = await loadFixture('postnorm_relu_sinusoidal');
  assert.throws(() => model.start('abz'), /input: 'z' at position 3 is not in the model's vocabulary/);
  assert.throws(() => model.start(''), /the input is empty/);
  assert.throws(() => model.start('a'.repeat(10000)), /the input is too long/);
  assert.throws(() => model.start('abc', { strategy: 'sample', temperature: 0 }), /temperature must be greater than 0/);
  assert.throws(() => model.start('abc', { strategy: 'sample', topP: 2 }), /top_p must be in \(0, 1\]/);
  assert.throws(() => model.start('abc', { strategy: 'sample', topK: 'many' }), /option topK must be an integer/);
  assert.throws(() => model.start('abc', { strategy: 'nucleus' }), /unknown strategy/);
  const run = model.start('abc', { maxLength: 1 });
  run.step();
  assert.throws(() => run.step(), /this run is finished/);
  run.dispose();
  assert.throws(() => run.step(), /this run was disposed/);
  assert.equal(model.start('abc').complete().length >= 0, true);  // still usable
  const info = await Stepwise.info();
  assert.equal(info.kernels, 'wasm-simd128 + q8-simd128');  // float32 and int8 (Q8) weights' kernels
  model.dispose();
  assert.throws(() => model.start('abc'), /this model was disposed/);
});
