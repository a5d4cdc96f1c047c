// Beam search, step by step, as the page draws its tree: every step's live beams and the hypotheses it
// finished (run.step().finishedNow, from the engine's list of finished hypotheses), each with `parent`, the
// beam it extends among those before the step. Checked two ways: against a beam search written here from
// the engine's rule (src/engine/decoding.cpp, BeamSearch::step) over the teacher-forced pass's logits, and
// for structure (a child is its parent plus one token, its log p its parent's plus that token's) on a
// random model that runs into the length limit.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';

const root = new URL('../../', import.meta.url);
const load = (file) => Stepwise.load(readFileSync(new URL(file, root)), { name: file.split('/').pop() });

/** Every step of a beam search: [{ live, finishedNow }], and the last step's results. */
function stepsOf(model, word, options) {
  const run = model.start(word, { strategy: 'beam', ...options });
  const steps = [];
  let last = null;
  try {
    while (!run.done) {
      last = run.step();
      steps.push({ live: last.beams, finishedNow: last.finishedNow, finished: last.finished });
    }
  } finally {
    run.dispose();
  }
  return { steps, results: last.results };
}

function logSoftmax(row) {
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  const logZ = max + Math.log(sum);
  return Array.from(row, (x) => x - logZ);
}

/**
 * The engine's beam search rule, over the logits of teacher-forced passes (one per live prefix): the
 * candidates of every live beam ranked by log p (ties: lower beam, then lower token), the first 2 W looked
 * at; </s> among the first W finishes a hypothesis, other tokens fill the W live slots. Returns the steps
 * and the smallest gap between two candidates ranked next to each other at a cut (a near tie there could
 * go either way in float32).
 */
function referenceSearch(model, word, W) {
  const run = model.start(word, { strategy: 'greedy' });
  const eos = model.eos;
  const filler = model.targetTokens.find((_, id) => ![model.bos, model.eos, model.pad].includes(id));
  const limit = model.config.max_target_len;
  let live = [{ ids: [], logProb: 0 }];
  const steps = [];
  let finishedCount = 0;
  let closest = Infinity;
  try {
    while (true) {
      const candidates = [];
      live.forEach((beam, b) => {
        // row `length` of a causal pass over the prefix (and one more token, never seen by that row)
        const text = [...beam.ids.map((id) => model.targetTokens[id]), filler].join(' ');
        const f = run.forward(text, { causal: true });
        const V = model.targetTokens.length;
        const row = logSoftmax(f.logits.slice(beam.ids.length * V, (beam.ids.length + 1) * V));
        row.forEach((lp, t) => candidates.push({ logProb: beam.logProb + lp, beam: b, token: t }));
      });
      candidates.sort((a, b) => b.logProb - a.logProb || a.beam - b.beam || a.token - b.token);
      for (const cut of [W, 2 * W]) if (cut < candidates.length) closest = Math.min(closest, candidates[cut - 1].logProb - candidates[cut].logProb);
      const next = [];
      const finishedNow = [];
      for (let r = 0; r < Math.min(candidates.length, 2 * W) && next.length < W; r++) {
        const c = candidates[r];
        const h = { ids: [...live[c.beam].ids, c.token], logProb: c.logProb, parent: c.beam, finished: c.token === eos };
        if (c.token === eos) {
          if (r < W) finishedNow.push(h);
        } else next.push(h);
      }
      let kept = next;
      if (kept.length && kept[0].ids.length >= limit) {
        finishedNow.push(...kept);
        kept = [];
      }
      finishedCount += finishedNow.length;
      steps.push({ live: kept, finishedNow });
      live = kept;
      if (live.length === 0 || finishedCount >= W) break;
    }
  } finally {
    run.dispose();
  }
  return { steps, closest };
}

const brief = (list) => list.map((h) => `${h.ids.join(',')}<-${h.parent}`);

test('the shipped model: every step\'s beams, finished hypotheses and parents are the engine rule\'s, over teacher-forced logits', async () => {
  const model = await load('weights/g2p-cmudict.safetensors');
  let compared = 0;
  for (const [word, W] of [['hello', 4], ['beautiful', 3], ['quixotic', 5], ['read', 2], ['wednesday', 4], ['onomatopoeia', 6]]) {
    const engine = stepsOf(model, word, { beamWidth: W, nBest: W });
    const reference = referenceSearch(model, word, W);
    if (reference.closest < 1e-4) {
      console.log(`${word} (width ${W}): a near tie at a cut (${reference.closest}), not compared`);
      continue;
    }
    assert.equal(engine.steps.length, reference.steps.length, `${word}: steps`);
    engine.steps.forEach((step, k) => {
      assert.deepEqual(brief(step.live), brief(reference.steps[k].live), `${word}, step ${k + 1}: live beams and parents`);
      assert.deepEqual(brief(step.finishedNow), brief(reference.steps[k].finishedNow), `${word}, step ${k + 1}: finished and parents`);
      [...step.live, ...step.finishedNow].forEach((h, i) => {
        const expected = [...reference.steps[k].live, ...reference.steps[k].finishedNow][i];
        assert.ok(Math.abs(h.logProb - expected.logProb) < 1e-4, `${word}, step ${k + 1}: log p ${h.logProb} vs ${expected.logProb}`);
        assert.ok(Math.abs(h.score - h.logProb / h.ids.length) < 1e-5, `${word}: score = log p / length (α = 1)`);
      });
    });
    // every finished hypothesis is in exactly one step's finishedNow, in the order they finished
    assert.deepEqual(engine.steps.flatMap((s) => s.finishedNow).map((h) => h.text), engine.steps.at(-1).finished.map((h) => h.text));
    compared++;
  }
  assert.ok(compared >= 4, `compared ${compared} words`);
  model.dispose();
});

test('a random model at the length limit: each kept hypothesis extends its parent by one token, finished ones are marked', async () => {
  const model = await load('tests/fixtures/postnorm_relu_sinusoidal.safetensors');
  for (const [W, maxLength, alpha] of [[3, 4, 1], [5, 6, 0.5], [1, 3, 0]]) {
    const { steps, results } = stepsOf(model, 'abc', { beamWidth: W, nBest: W, maxLength, lengthPenalty: alpha });
    let before = [{ ids: [], logProb: 0 }];
    steps.forEach((step, k) => {
      assert.ok(step.live.length <= W, 'at most W live beams');
      for (const h of [...step.live, ...step.finishedNow]) {
        assert.equal(h.ids.length, k + 1, 'a hypothesis of step k has k tokens');
        assert.ok(h.parent >= 0 && h.parent < before.length, `parent ${h.parent} among ${before.length}`);
        const parent = before[h.parent];
        assert.deepEqual(h.ids.slice(0, -1), parent.ids, 'its parent\'s tokens, then one');
        assert.ok(h.logProb <= parent.logProb + 1e-6, 'log p only falls');
        assert.ok(Math.abs(h.score - h.logProb / h.ids.length ** alpha) <= 1e-5 * Math.max(1, Math.abs(h.score)), `score with α = ${alpha}`);
        assert.equal(h.finished, h.ids.at(-1) === model.eos, 'finished means it chose </s>');
      }
      // beams are distinct prefixes, so a parent is never ambiguous
      assert.equal(new Set(step.live.map((h) => h.ids.join(','))).size, step.live.length);
      before = step.live;
    });
    assert.ok(steps.length <= maxLength);
    const all = steps.flatMap((s) => s.finishedNow);
    for (const r of results) assert.ok(all.some((h) => h.text === r.text && h.score === r.score), `result ${r.text} is in the tree`);
  }
  model.dispose();
});
