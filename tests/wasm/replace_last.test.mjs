// Teacher forcing one step at a time: run.replaceLast(token) makes the next step feed the reference's token
// instead of the model's choice, so a stepped run with the KV cache computes the teacher-forced pass's rows
// (causal mask on) one at a time. Run: node --test tests/wasm/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';

const ROOT = new URL('../../', import.meta.url);
const FIXTURES = new URL('tests/fixtures/', ROOT);

// Steps `word` with the tokens `ids` (<s>, the prompt, the reference) fed from row `first` on; checks every
// row's logits and self-attention against the teacher-forced pass `forced`. Returns the stepped logits.
function stepAndCompare(model, word, forced, first) {
  const T = forced.ids.length;
  const V = model.targetTokens.length;
  const run = model.start(word);
  const logits = [];
  for (let i = first; i < T; i++) {
    assert.equal(run.done, false, `row ${i}`);
    const r = run.step();
    assert.equal(r.position, i);
    for (let v = 0; v < V; v++) assert.ok(Math.abs(r.logits[v] - forced.logits[i * V + v]) <= 1e-5, `row ${i} logit ${v}`);
    r.selfAttention.forEach((layer, l) => layer.forEach((row, h) => {
      for (let j = 0; j < T; j++) {
        const expected = forced.selfAttention[l][h][i * T + j];
        assert.ok(Math.abs((j <= i ? row[j] : 0) - expected) <= 1e-5, `row ${i} L${l} H${h} key ${j}`);
      }
    }));
    logits.push(r.logits.slice());
    if (i + 1 < T) {
      run.replaceLast(forced.ids[i + 1]);
      assert.equal(run.ids.at(-1), forced.ids[i + 1]);
      assert.equal(run.tokens.at(-1), model.targetTokens[forced.ids[i + 1]]);
    }
  }
  run.dispose();
  return logits;
}

const nll = (logits, id) => {
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  return max + Math.log(sum) - logits[id];
};

test('the shipped model fed the dictionary pronunciation step by step: the teacher-forced rows, and PyTorch\'s −log p', async () => {
  const model = await Stepwise.load(readFileSync(new URL('weights/g2p-cmudict.safetensors', ROOT)));
  const fixture = JSON.parse(readFileSync(new URL('g2p_parity.json', FIXTURES), 'utf8'));
  let departed = 0;
  for (const c of fixture.cases.filter((c) => c.reference)) {
    const phonemes = c.reference.slice(1, -1).map((id) => model.targetTokens[id]).join(' ');
    const forced = model.forward(c.word, phonemes, { causal: true });
    const logits = stepAndCompare(model, c.word, forced, 0);
    logits.forEach((row, i) => assert.ok(Math.abs(nll(row, c.reference[i + 1]) - c.nll[i]) < 1e-4, `${c.word} position ${i}`));
    if (c.greedy.join() !== c.reference.slice(1).join()) departed++;
  }
  assert.ok(departed > 0, 'some words depart from the reference: there the steps fed tokens the model did not choose');
  model.dispose();
});

test('a decoder-only model: from the prompt\'s last row on, the steps fed the reference are the teacher-forced rows', async () => {
  const name = 'decoder_only_prenorm_gelu';
  const model = await Stepwise.load(readFileSync(new URL(`${name}.safetensors`, FIXTURES)), { name });
  const golden = JSON.parse(readFileSync(new URL(`${name}.golden.json`, FIXTURES), 'utf8'));
  for (const c of golden.cases) {
    const prompt = c.prompt.map((id) => model.targetTokens[id]).join(' ');
    const rest = c.target.slice(1 + c.prompt.length).map((id) => model.targetTokens[id]).join(' ');
    if (!prompt || !rest) continue;
    const forced = model.forward(prompt, rest, { causal: true });
    assert.deepEqual(forced.ids, c.target);
    stepAndCompare(model, prompt, forced, c.prompt.length);
  }
  model.dispose();
});

test('replaceLast: </s> replaced lets the run go on; misuse gets a clear message and the run stays usable', async () => {
  const model = await Stepwise.load(readFileSync(new URL('postnorm_relu_sinusoidal.safetensors', FIXTURES)));
  const V = model.targetTokens.length;
  const word = 'abc';
  const run = model.start(word);
  const fails = (token, pattern) => assert.throws(() => run.replaceLast(token), (e) => e instanceof Stepwise.StepwiseError && pattern.test(e.message));
  fails(3, /no token chosen yet/);
  run.step();
  fails(V, new RegExp(`token ${V} is outside the target vocabulary \\[0, ${V}\\)`));
  fails(-1, /outside the target vocabulary/);
  fails(2 ** 32 + 3, /outside the target vocabulary/);  // would wrap to 3 as an int32
  fails(1.5, /a token's text or integer id, got 1.5/);
  fails('no such token', /the model has no token "no such token"/);
  run.replaceLast(model.targetTokens[model.eos]);
  assert.equal(run.done, true);
  run.replaceLast(3);
  assert.equal(run.done, false);
  assert.deepEqual(run.ids, [3]);
  assert.equal(run.step().position, 1);
  run.dispose();
  const beam = model.start(word, { strategy: 'beam', beamWidth: 2 });
  beam.step();
  assert.throws(() => beam.replaceLast(3), /beam search keeps several hypotheses/);
  beam.dispose();
  model.dispose();
});
