// A decoder-only model started on '' begins from <s> alone (how a G2P decoder-only model invents a
// word); an encoder-decoder model still needs a word. Run: node --test tests/wasm/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const load = (name) => Stepwise.load(readFileSync(new URL(`${name}.safetensors`, FIXTURES)), { name });

test('a decoder-only run from <s> alone: its first step is the teacher-forced pass\'s row 0', async () => {
  const model = await load('decoder_only_prenorm_gelu');
  const run = model.start('', { probe: true });
  assert.deepEqual(run.inputIds, []);
  const first = run.step();
  assert.equal(first.position, 0);
  const logits = first.logits.slice();
  assert.equal(run.inside({ layer: 0, head: 0 }).position, 0);
  // the same position teacher-forced: <s> followed by any token; row 0 sees only <s>
  const V = model.targetTokens.length;
  const anyToken = model.targetTokens.find((t) => !/^</.test(t));
  const r = model.forward('', anyToken);
  assert.equal(r.ids[0], model.bos);
  for (let v = 0; v < V; v++) assert.ok(Math.abs(r.logits[v] - logits[v]) <= 1e-5, `logit ${v}`);
  while (!run.done) run.step();
  assert.ok(run.ids.length >= 1);
  run.dispose();
  model.dispose();
});

test('an encoder-decoder model still refuses an empty input', async () => {
  const model = await load('postnorm_relu_sinusoidal');
  assert.throws(() => model.start(''), (e) => e instanceof Stepwise.StepwiseError && /the input is empty: type a word/.test(e.message));
  model.dispose();
});
