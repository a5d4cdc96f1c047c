// Teacher forcing as training (web/panels/training.js): for the words of tests/fixtures/g2p_parity.json the
// page's −log p per position, cross-entropy and label-smoothed cross-entropy equal PyTorch's; the pass's
// self-attention beside the same reference fed step by step (the native CLI's rows where the model's own
// output is the reference) differs by ≈ 0 with the causal mask and by more than 0.01 without; exposure bias
// shows where the model's own output departs (queue: W for Y), with the native CLI's and PyTorch's
// distributions after it, and says so truthfully when nothing departs; the texts follow the mask switch; a
// decoder-only model works too (PyTorch's golden logits). A screenshot goes to build/screenshots/teacher-forcing.png
// (docs/teacher-forcing.png is a copy).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { CLI, FIXTURES, SCREENSHOTS, launch, openPage, siteModelFile, startServer, state, typeWord } from './helpers.mjs';

let browser;
let server;
let session;
let modelFile;
let tokens;
const fixture = JSON.parse(readFileSync(path.join(FIXTURES, 'g2p_parity.json'), 'utf8'));
const cases = fixture.cases.filter((c) => c.reference);

// The target vocabulary stored in a model file's header.
function vocabulary(file) {
  const bytes = readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')).__metadata__.stepwise).target_vocab.tokens;
}

before(async () => {
  browser = await launch();
  server = await startServer();
  modelFile = siteModelFile();
  tokens = vocabulary(modelFile);
  session = await openPage(browser, server.url, { width: 1440, height: 900 });
  await session.page.click('label[for="mode-teacher"]');
});

after(async () => {
  await browser?.close();
  server?.close();
});

const near = (a, b, relative = 1e-4) => Math.abs(a - b) <= relative * Math.max(1, Math.abs(b));
const percent = (p) => (p >= 0.995 ? `${(p * 100).toFixed(0)} %` : p >= 0.001 ? `${(p * 100).toFixed(1)} %` : p > 0 ? '< 0.1 %' : '0 %');
const values = (page, selector) => page.$$eval(selector, (cells) => cells.map((c) => Number(c.dataset.value)));
const texts = (page, selector) => page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent));
const text = (page, selector) => page.$eval(selector, (n) => n.textContent);
const phonemesOf = (ids) => ids.map((id) => tokens[id]).join(' ');

/** The word and the reference fed, teacher forcing; returns the state. */
async function feed(page, word, reference) {
  await typeWord(page, word);
  await page.fill('#target', reference);
  await page.dispatchEvent('#target', 'change');
  const s = await state(page);
  assert.equal(s.mode, 'teacher');
  assert.equal(s.message, null, JSON.stringify(s.message));
  assert.equal(s.teacher.target, reference);
  return s;
}

async function setMask(page, on) {
  if ((await state(page)).causal !== on) await page.click('#causal-switch');
  assert.equal((await state(page)).causal, on);
}

/** The native CLI's greedy trace of a word: per step { token, top: [{ token, prob }], self_attention [l][h][keys] }. */
const nativeTrace = (word) => JSON.parse(execFileSync(CLI, ['trace', '--model', modelFile, word], { encoding: 'utf8' }));

/** The bars of an exposure column: [{ token, p }]. */
const bars = (page, column) => page.$$eval(`#exposure-body [data-name="${column}"] .bar-row`, (rows) => rows.map((r) => ({ token: r.dataset.token, p: Number(r.dataset.p) })));

test('the loss per position, the cross-entropy and its label-smoothed value equal PyTorch\'s for the fixture\'s 20 words', async () => {
  const { page, errors } = session;
  await setMask(page, true);
  assert.equal(cases.length, 20);
  for (const c of cases) {
    const reference = phonemesOf(c.reference.slice(1, -1));
    const s = await feed(page, c.word, reference);
    const nll = await values(page, '#loss-table td[data-name="nll"]');
    assert.equal(nll.length, c.nll.length, c.word);
    c.nll.forEach((x, i) => assert.ok(near(nll[i], x), `${c.word} position ${i}: ${nll[i]} vs PyTorch ${x}`));
    assert.deepEqual(await texts(page, '#loss-table td[data-name="nll"]'), nll.map((x) => x.toFixed(4)), c.word);
    const p = await values(page, '#loss-table td[data-name="p"]');
    p.forEach((x, i) => assert.ok(near(x, Math.exp(-c.nll[i])), `${c.word} p ${i}`));
    // the rows: fed token, reference token next (</s> after the last)
    const rows = await page.$$eval('#loss-table tr[data-position]', (trs) => trs.map((tr) => [...tr.cells].slice(1, 3).map((td) => td.textContent)));
    assert.deepEqual(rows, c.reference.slice(0, -1).map((id, i) => [tokens[id], tokens[c.reference[i + 1]]]), c.word);
    const ce = Number(await page.$eval('.loss-total[data-name="cross-entropy"] .loss-value', (n) => n.dataset.value));
    const smoothed = Number(await page.$eval('.loss-total[data-name="smoothed"] .loss-value', (n) => n.dataset.value));
    assert.ok(near(ce, c.cross_entropy), `${c.word} cross-entropy ${ce} vs ${c.cross_entropy}`);
    assert.ok(near(smoothed, c['smoothed_0.1']), `${c.word} smoothed ${smoothed} vs ${c['smoothed_0.1']}`);
    assert.equal(await text(page, '.loss-total[data-name="cross-entropy"] .loss-value'), ce.toFixed(4));
    assert.equal(s.training.loss.crossEntropy, ce);
    assert.equal(await page.$$eval('#loss-table td[data-name="nll-masked"]', (cells) => cells.length), 0, 'one column with the mask on');
  }
  // the shipped encoder-decoder was trained with label smoothing 0.1 (its card): the label says so
  assert.match(await text(page, '.loss-total[data-name="smoothed"]'), (await state(page)).model.name === 'g2p-cmudict.safetensors'
    ? /label smoothing ε = 0\.1.*what this model was trained to minimise \(tools\/train_g2p\.py --label-smoothing 0\.1\), the script's default/
    : /label smoothing ε = 0\.1.*what tools\/train_g2p\.py minimises by default/);
  assert.match(await text(page, '#training-lede'), /one training example.*one backward pass/);

  // Without the mask the pass's numbers change; the column "with the mask" still holds PyTorch's
  await setMask(page, false);
  for (const c of cases.slice(0, 4)) {
    await feed(page, c.word, phonemesOf(c.reference.slice(1, -1)));
    const open = await values(page, '#loss-table td[data-name="nll"]');
    const masked = await values(page, '#loss-table td[data-name="nll-masked"]');
    c.nll.forEach((x, i) => assert.ok(near(masked[i], x), `${c.word} masked position ${i}`));
    assert.ok(open.some((x, i) => Math.abs(x - c.nll[i]) > 1e-3), `${c.word}: the unmasked pass gives other numbers`);
    const masks = await page.$eval('.loss-total[data-name="cross-entropy"] .loss-value.masked', (n) => Number(n.dataset.value));
    assert.ok(near(masks, c.cross_entropy), c.word);
  }
  assert.match(await text(page, '#training-lede'), /mask is off, so this pass is not what training computes/);
  await setMask(page, true);
  assert.deepEqual(errors, []);
});

test('one pass vs step by step: max |Δ| ≈ 0 with the causal mask, large without; the stepped rows are the CLI\'s where it wrote the reference', async () => {
  const { page, errors } = session;
  await setMask(page, true);
  const c = cases.find((x) => x.word === 'aboard');
  assert.deepEqual(c.greedy, c.reference.slice(1), 'aboard: the model writes the reference');
  let s = await feed(page, c.word, phonemesOf(c.reference.slice(1, -1)));
  const t = s.training;
  assert.ok(t.maxDiff < 1e-5, `all heads: ${t.maxDiff}`);
  assert.ok(t.shown.maxDiff < 1e-5);
  const diff = await page.$eval('#twins-diff', (p) => ({ text: p.textContent, shown: Number(p.dataset.shown), all: Number(p.dataset.all) }));
  assert.equal(diff.shown, t.shown.maxDiff);
  assert.equal(diff.all, t.maxDiff);
  const format = (x) => (x === 0 ? '0' : x < 1e-3 ? x.toExponential(1) : x.toFixed(3));
  assert.ok(diff.text.startsWith(`max |Δ| = ${format(t.shown.maxDiff)} between these two matrices (over all 3 layers × 4 heads: ${format(t.maxDiff)})`), diff.text);
  assert.match(diff.text, /float rounding\. With the causal mask the parallel pass computes, row for row/);
  assert.match(await text(page, '#twins-title'), /^Masked self-attention · layer 3, mean of 4 heads/);
  // the left matrix is the page's teacher-forced one (the view's layer, the mean of its heads)
  const L = s.selfAttention.length - 1;
  const H = s.selfAttention[L].length;
  const mean = (heads, i, j) => heads.reduce((sum, head) => sum + (head[i][j] ?? 0), 0) / heads.length;
  t.shown.forced.forEach((row, i) => row.forEach((x, j) => assert.ok(Math.abs(x - mean(s.selfAttention[L], i, j)) < 1e-6, `forced [${i}, ${j}]`)));
  // the right one: the native CLI's steps (greedy, here the reference itself)
  const trace = nativeTrace(c.word);
  assert.equal(trace.steps.length, t.shown.stepped.length);
  trace.steps.forEach((step, i) => t.shown.stepped[i].forEach((x, j) => {
    const expected = j <= i ? step.self_attention[L].reduce((sum, head) => sum + head[j], 0) / H : 0;
    assert.ok(Math.abs(x - expected) < 1e-5, `stepped [${i}, ${j}]: ${x} vs CLI ${expected}`);
  }));
  for (const id of ['#twin-forced', '#twin-stepped']) assert.ok((await page.$eval(id, (n) => n.getBoundingClientRect().width)) > 100, id);

  // a word whose own output departs: the steps are fed the reference, not the model's choices, so Δ stays ≈ 0
  const departs = cases.find((x) => x.word === 'aarti');
  s = await feed(page, departs.word, phonemesOf(departs.reference.slice(1, -1)));
  assert.ok(s.training.maxDiff < 1e-5, `aarti: ${s.training.maxDiff}`);

  await setMask(page, false);
  s = await state(page);
  assert.ok(s.training.maxDiff > 0.01, `without the mask: ${s.training.maxDiff}`);
  assert.ok(s.training.shown.maxDiff > 0.01);
  const leak = await text(page, '#twins-diff');
  assert.match(leak, /^max \|Δ\| = \d\.\d{3} between/);
  assert.match(leak, /Without the mask the teacher-forced rows attend to later tokens/);
  assert.doesNotMatch(leak, /float rounding/);
  assert.match(await text(page, '.twin-forced figcaption'), /causal mask off/);
  assert.match(await text(page, '#twins-title'), /^Self-attention, mask off in the pass/);
  assert.match(await text(page, '#twins-legend'), /Hatched \(step by step only\)/);
  // the stepped rows do not move with the switch
  s.training.shown.stepped.forEach((row, i) => row.forEach((x, j) => j > i && assert.equal(x, 0)));
  await setMask(page, true);
  assert.match(await text(page, '.twin-forced figcaption'), /causal mask on/);
  assert.deepEqual(errors, []);
});

test('exposure bias: queue departs at W for Y, with the CLI\'s distributions; a fixture word\'s "fed its own" is PyTorch\'s; aboard does not depart', async () => {
  const { page, errors } = session;
  await setMask(page, true);
  const trace = nativeTrace('queue');
  assert.equal(trace.output, 'K W IY1', 'the model\'s own output for queue');
  let s = await feed(page, 'queue', 'K Y UW1');
  const d = s.training.departure;
  assert.equal(d.position, 1);
  assert.equal(d.reference, 'Y');
  assert.equal(d.own, 'W');
  assert.deepEqual(await texts(page, '#exposure-body [data-name="reference"] .seq-token'), ['K', 'Y', 'UW1', '</s>']);
  assert.deepEqual(await texts(page, '#exposure-body [data-name="own"] .seq-token'), ['K', 'W', 'IY1', '</s>']);
  assert.deepEqual(await texts(page, '#exposure-body .seq-token.departs'), ['Y', 'W']);
  const at = trace.steps[1].top;
  const p = (token) => at.find((x) => x.token === token).prob;
  assert.equal(await text(page, '#exposure-body [data-name="departure"]'),
    `After “<s> K”, the reference continues with Y (p = ${percent(p('Y'))}) but the model's top choice is W (p = ${percent(p('W'))}).`);
  // fed its own W: the CLI's next step
  const own = await bars(page, 'fed-own');
  assert.deepEqual(own.map((b) => b.token), trace.steps[2].top.map((x) => x.token));
  own.forEach((b, i) => assert.ok(Math.abs(b.p - trace.steps[2].top[i].prob) < 1e-5, `fed own ${b.token}`));
  assert.match(await text(page, '#exposure-body [data-name="fed-own"] h4'), /^Fed its own W, it predicts/);
  assert.match(await text(page, '#exposure-body [data-name="fed-reference"] h4'), /^Fed the reference's Y, it predicts/);
  assert.match(await text(page, '#exposure-body .exposure-why'), /called exposure bias\.$/);

  // a fixture word that departs: PyTorch's rows fed the model's own tokens (the fixture's logits) give the
  // column "fed its own", and its −log p of the reference the bar of the reference's next token
  const c = cases.find((x) => x.word === 'aarti');
  const k = c.greedy.findIndex((id, i) => id !== c.reference[i + 1]);
  assert.ok(k >= 0 && c.greedy[k] !== 2);
  s = await feed(page, c.word, phonemesOf(c.reference.slice(1, -1)));
  assert.equal(s.training.departure.position, k);
  const logits = c.logits[k + 1];  // PyTorch, fed <s> and the model's own tokens 0..k
  const max = Math.max(...logits);
  const z = logits.reduce((sum, x) => sum + Math.exp(x - max), 0);
  const expected = logits.map((x, id) => ({ token: tokens[id], p: Math.exp(x - max) / z })).sort((a, b) => b.p - a.p).slice(0, 5);
  const ownBars = await bars(page, 'fed-own');
  assert.deepEqual(ownBars.map((b) => b.token), expected.map((e) => e.token));
  ownBars.forEach((b, i) => assert.ok(Math.abs(b.p - expected[i].p) < 1e-4, `fed own ${b.token}: ${b.p} vs PyTorch ${expected[i].p}`));
  const next = tokens[c.reference[k + 2]];
  const fedBar = (await bars(page, 'fed-reference')).find((b) => b.token === next);
  assert.ok(fedBar, `fed the reference, ${next} is among the bars`);
  assert.ok(Math.abs(fedBar.p - Math.exp(-c.nll[k + 1])) < 1e-4, `fed reference ${next}: ${fedBar.p} vs PyTorch ${Math.exp(-c.nll[k + 1])}`);
  assert.equal(await page.$eval('#exposure-body [data-name="fed-reference"] .bar-row.chosen', (r) => r.dataset.token), next);

  // where the reference goes on with an unlikely token, its bar is drawn (in place of the fifth), highlighted
  s = await feed(page, 'queue', 'K UW1 Z');
  assert.equal(s.training.departure.position, 1);
  const goesOn = await bars(page, 'fed-reference');
  assert.equal(goesOn.length, 5);
  assert.equal(await page.$eval('#exposure-body [data-name="fed-reference"] .bar-row.chosen', (r) => r.dataset.token), 'Z');
  assert.match(await text(page, '#exposure-body [data-name="fed-reference"] .panel-note'), /highlighted: Z, where the reference goes on/);
  s = await feed(page, c.word, phonemesOf(c.reference.slice(1, -1)));

  // the switch: the comparison comes from stepped runs, and says so without the mask
  await setMask(page, false);
  assert.deepEqual((await state(page)).training.departure, s.training.departure);
  assert.match(await text(page, '#exposure-body .exposure-why'), /Both columns come from step-by-step runs/);
  await setMask(page, true);
  assert.doesNotMatch(await text(page, '#exposure-body .exposure-why'), /Both columns/);

  // no departure
  const same = cases.find((x) => x.word === 'aboard');
  s = await feed(page, same.word, phonemesOf(same.reference.slice(1, -1)));
  assert.equal(s.training.departure, null);
  assert.equal(await text(page, '#exposure-body [data-name="none"]'),
    `No departure: the model's own greedy output is the reference, token for token (${phonemesOf(same.reference.slice(1))}). Fed the reference or its own output, every row reads the same prefix, so here training and writing agree all the way.`);
  assert.equal(await page.$$eval('#exposure-body .exposure-column', (n) => n.length), 0);

  // the screenshot of docs/teacher-forcing.png: the panel across the 1440-wide page
  await feed(page, 'queue', 'K Y UW1');
  const box = await page.$eval('#training', (n) => {
    const r = n.getBoundingClientRect();
    return { y: r.top + window.scrollY, height: r.height };
  });
  const folder = process.env.STEPWISE_SCREENSHOTS || SCREENSHOTS;  // (another folder when build/ is shared)
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: path.join(folder, 'teacher-forcing.png'), fullPage: true, clip: { x: 0, y: box.y - 16, width: 1440, height: box.height + 32 } });
  assert.deepEqual(errors, []);
});

test('hidden step by step; a decoder-only model: every position\'s loss (the prompt\'s too) is PyTorch\'s, Δ ≈ 0 from the prompt\'s last row', async () => {
  const { page, errors } = session;
  await page.click('label[for="mode-steps"]');
  assert.equal(await page.$eval('#training', (n) => n.hidden), true);
  assert.equal((await state(page)).training, null);
  await page.click('label[for="mode-teacher"]');
  assert.equal(await page.$eval('#training', (n) => n.hidden), false);

  const name = 'decoder_only_prenorm_gelu';
  const file = path.join(FIXTURES, `${name}.safetensors`);
  await page.setInputFiles('#model-file', file);
  await page.waitForFunction((n) => window.stepwiseState.model?.name === n && window.stepwiseState.ready, `${name}.safetensors`, { timeout: 20000 });
  const vocab = vocabulary(file);
  const golden = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.golden.json`), 'utf8')).cases[0];
  const P = golden.prompt.length;
  const s = await feed(page, golden.prompt.map((id) => vocab[id]).join(' '), golden.target.slice(1 + P).map((id) => vocab[id]).join(' '));
  assert.equal(s.model.encoderLayers, 0);
  assert.equal(s.training.first, P);
  const gold = [...golden.target.slice(1), 2];  // each position predicts the next token, the last one </s>
  const expected = golden.masked.logits.map((row, i) => {
    const max = Math.max(...row);
    return max + Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0)) - row[gold[i]];
  });
  const nll = await values(page, '#loss-table td[data-name="nll"]');
  assert.equal(nll.length, golden.target.length);
  expected.forEach((x, i) => assert.ok(near(nll[i], x), `position ${i}: ${nll[i]} vs PyTorch ${x}`));
  assert.equal(await page.$$eval('#loss-table tr.prompt', (rows) => rows.length), P);
  assert.match(await text(page, '#loss-note'), /the prompt's too/);
  assert.ok(s.training.maxDiff < 1e-5, `decoder-only Δ ${s.training.maxDiff}`);
  assert.equal(s.training.shown.stepped.length, golden.target.length - P);
  assert.match(await text(page, '#twins-note'), new RegExp(`Rows from position ${P} \\(the prompt's last token\\) on`));
  // its own greedy output departs at once (an untrained model): C where the reference has A
  assert.equal(s.training.departure.position, 0);
  assert.equal(s.training.departure.reference, vocab[golden.target[1 + P]]);
  assert.equal(s.training.departure.own, vocab[golden.greedy[0]]);
  await page.selectOption('#model-select', { index: 0 });
  await page.waitForFunction(() => window.stepwiseState.model?.encoderLayers > 0);
  assert.deepEqual(errors, []);
});
