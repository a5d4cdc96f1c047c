// run.inside(): the step probe and the teacher-forced probe through the WebAssembly build, against the
// PyTorch intermediates of tests/fixtures/NAME.probe.json (tools/make_probe_fixtures.py) -- the same file
// the native tests/test_probe.cpp reads, so native and WebAssembly probes agree through it -- and each
// stepped probe against the teacher-forced probe's row of the same position. Run: node --test tests/wasm/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const PROBED = ['postnorm_relu_sinusoidal', 'prenorm_gelu_learned_tied', 'decoder_only_prenorm_gelu'];
const TOLERANCE = 1e-5;  // as the native parity tests, relative to max(1, |expected|)

const read = (file) => JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8'));
const loadFixture = (name) => Stepwise.load(readFileSync(new URL(`${name}.safetensors`, FIXTURES)), { name });

function texts(model, c) {
  const t = model.targetTokens;
  if (model.encoderDecoder) return { input: c.source.map((id) => model.sourceTokens[id]).join(''), target: c.target.slice(1).map((id) => t[id]).join(' ') };
  return { input: c.prompt.map((id) => t[id]).join(' '), target: c.target.slice(1 + c.prompt.length).map((id) => t[id]).join(' ') };
}

// Largest |a - e| / max(1, |e|) between nested expected rows and a flat view of width `width`.
function relDiff(expected, actual, width) {
  const rows = Array.isArray(expected[0]) ? expected : [expected];
  let worst = 0;
  rows.forEach((row, r) => row.forEach((e, j) => (worst = Math.max(worst, Math.abs(actual[r * width + j] - e) / Math.max(1, Math.abs(e))))));
  return worst;
}

for (const name of PROBED) {
  test(`${name}: inside() of the teacher-forced pass equals PyTorch's intermediates`, async () => {
    const model = await loadFixture(name);
    const fx = read(`${name}.probe.json`);
    const { input, target } = texts(model, read(`${name}.golden.json`).cases[0]);
    const run = model.start(input);
    const r = run.forward(target, { probe: true });
    assert.deepEqual(Array.from(r.ids), fx.target);
    const c = model.config;
    for (let l = 0; l < c.n_decoder_layers; l++) {
      for (let h = 0; h < c.n_heads; h++) {
        const inside = run.inside({ layer: l, head: h, teacherForced: true });
        const t = inside.tensors;
        const e = fx.layers[l];
        const check = (name, expected) => {
          const { data, shape } = t[name];
          assert.ok(relDiff(expected, data, shape.at(-1)) <= TOLERANCE, `${name} (layer ${l}, head ${h})`);
        };
        check('token_embedding', fx.token_embedding);
        check('final_normed', fx.final_normed);
        check('input', e.input);
        check('hidden', e.hidden);
        for (const block of model.encoderDecoder ? ['self_block', 'cross_block', 'ff_block'] : ['self_block', 'ff_block']) {
          for (const field of ['normed', 'output', 'sum']) check(`${block}.${field}`, e[block][field]);
        }
        for (const kind of model.encoderDecoder ? ['self_attention', 'cross_attention'] : ['self_attention']) {
          for (const field of ['query', 'key', 'value', 'context']) check(`${kind}.${field}`, e[kind][field]);
          for (const field of ['raw', 'scaled', 'weights']) check(`${kind}.${field}`, e[kind][field][h]);
          const mask = t[`${kind}.mask`];
          e[kind].mask.forEach((row, i) => row.forEach((m, j) => assert.equal(mask.data[i * mask.shape[1] + j] === -Infinity, m === 1)));
        }
      }
    }
    run.dispose();
    model.dispose();
  });

  test(`${name}: each stepped inside() equals the teacher-forced row of its position`, async () => {
    const model = await loadFixture(name);
    const { input } = texts(model, read(`${name}.golden.json`).cases[0]);
    const run = model.start(input, { probe: true });
    const steps = [];
    while (!run.done) {
      run.step();
      const snap = run.inside({ layer: 0, head: 0 });
      steps.push({ position: snap.position, tensors: Object.fromEntries(Object.entries(snap.tensors).map(([k, v]) => [k, { data: v.data.slice(), shape: v.shape }])) });
    }
    // The sequence the steps fed, teacher-forced: row `position` must be what the step recorded. (These
    // random models also choose specials, which a target text cannot hold: compare up to the first.)
    const specials = new Set([model.bos, model.eos, model.pad]);
    const ids = run.ids.slice(0, -1);
    const typeable = ids.findIndex((id) => specials.has(id));
    const fed = (typeable < 0 ? ids : ids.slice(0, typeable)).map((id) => model.targetTokens[id]);
    const offset = steps[0].position;  // the first step fed <s> (and a decoder-only model's prompt)
    const compared = steps.filter(({ position }) => position - offset <= fed.length);
    assert.ok(compared.length >= 1);
    // (row `offset` depends only on what came before it, so any typeable token can follow when none was fed)
    const anyToken = model.targetTokens.find((_, id) => !specials.has(id));
    const tf = run.forward(fed.length ? fed.join(' ') : anyToken, { probe: true });
    const whole = run.inside({ layer: 0, head: 0, teacherForced: true }).tensors;
    const d = model.config.d_model;
    for (const { position, tensors } of compared) {
      assert.equal(tensors['self_attention.weights'].shape[0], position + 1, 'a step attends to positions 0..pos');
      for (const key of ['input', 'self_block.sum', 'ff_block.output', 'self_attention.query', 'self_attention.context', 'final_normed']) {
        const row = whole[key].data.subarray(position * d, (position + 1) * d);
        assert.ok(relDiff(Array.from(row), tensors[key].data, d) <= TOLERANCE, `${key} at position ${position}`);
      }
      const T = tf.ids.length;
      const weights = Array.from(whole['self_attention.weights'].data.subarray(position * T, position * T + position + 1));
      assert.ok(relDiff(weights, tensors['self_attention.weights'].data, position + 1) <= TOLERANCE, `weights at ${position}`);
      assert.equal(tensors['cache.key'].shape[0], position + 1, 'the cache holds positions 0..pos');
    }
    run.dispose();
    model.dispose();
  });
}

test('inside(): clear errors for a run without the probe, bad layers and heads, and beam search', async () => {
  const model = await loadFixture('postnorm_relu_sinusoidal');
  const plain = model.start('abc');
  plain.step();
  assert.throws(() => plain.inside({ layer: 0 }), (e) => e instanceof Stepwise.StepwiseError && /start the run with \{ probe: true \}/.test(e.message));
  const run = model.start('abc', { probe: true });
  assert.throws(() => run.inside(), /no probe to read: .* step it first/);
  run.step();
  assert.throws(() => run.inside({ layer: 2 }), /layer must be an integer in \[0, 2\), got 2/);
  assert.throws(() => run.inside({ head: -1 }), /head must be an integer in \[0, 2\), got -1/);
  assert.throws(() => run.inside({ teacherForced: true }), /run forward\(\) with \{ probe: true \} first/);
  assert.throws(() => model.start('abc', { strategy: 'beam', probe: true }), /not beam search/);
  assert.throws(() => model.start('abc', { probe: 1 }), /option probe must be true or false/);
  assert.ok(run.inside().tensors['self_attention.weights'].data.length === 1);
  plain.dispose();
  run.dispose();
  model.dispose();
});

test('inside({ only }): just the names asked for, the same numbers as a full inside(); an unknown name refused', async () => {
  const model = await loadFixture('postnorm_relu_sinusoidal');
  const run = model.start('abc', { probe: true });
  run.step();
  run.step();
  const full = run.inside({ layer: 1, head: 1 });
  const fullCopy = Object.fromEntries(Object.entries(full.tensors).map(([k, v]) => [k, { data: Array.from(v.data), shape: v.shape }]));
  const names = ['self_attention.weights', 'cache.key', 'cross_attention.raw'];
  const some = run.inside({ layer: 1, head: 1, only: names });
  assert.deepEqual(Object.keys(some.tensors).sort(), [...names].sort());
  for (const name of names) {
    assert.deepEqual(Array.from(some.tensors[name].data), fullCopy[name].data, name);
    assert.deepEqual(some.tensors[name].shape, fullCopy[name].shape, name);
  }
  assert.equal(some.position, full.position);
  assert.deepEqual(Object.keys(run.inside({ only: [] }).tensors), []);
  assert.throws(() => run.inside({ only: ['self_attention.mask'] }), (e) => e instanceof Stepwise.StepwiseError && /"self_attention.mask" is not recorded for a step/.test(e.message));
  assert.throws(() => run.inside({ only: 'cache.key' }), /only must be a list of names/);
  run.forward('A B', { probe: true });
  assert.equal(run.inside({ teacherForced: true, only: ['self_attention.mask'] }).tensors['self_attention.mask'].shape[0], 3);
  run.dispose();
  model.dispose();
});
