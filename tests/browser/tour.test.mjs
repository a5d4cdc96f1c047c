// The guided tour (issue 10 §4; web/tour.js, web/panels/tour.js): every stop opens from the card and from
// its link (#tour=N) over http and from file://, and applies its state (the word, the mode, the view, the
// layer and head, the step); its callout marks the real cell and names its value, the value the page holds
// (window.stepwiseState) and the native CLI computes; each question's experiment, done on the page, shows
// what the answer says; n / p / PageDown / PageUp walk the tour unless a control owns the key, Esc closes,
// the heading takes the focus; progress survives a reload (localStorage) and the tour is offered again
// where it was left; the tour brings back the built-in model from a decoder-only one; no console error.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { CLI, FIXTURES, fileUrl, launch, openPage, screenshot, siteModelFile, startServer, state } from './helpers.mjs';

const WIDTH = 1440;
const HEIGHT = 900;

let browser;
let server;
let model;  // the site's built-in model, for the native CLI
const trace = new Map();  // word -> the CLI's greedy trace
const sessions = [];

before(async () => {
  browser = await launch();
  server = await startServer();
  model = siteModelFile();
  for (const word of ['knight', 'phoenix', 'queue']) {
    trace.set(word, JSON.parse(execFileSync(CLI, ['trace', '--model', model, word], { encoding: 'utf8' })));
  }
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function open(url, size = { width: WIDTH, height: HEIGHT }) {
  const session = await openPage(browser, url, size);
  sessions.push(session);
  return session;
}

const close = (session) => session.context.close();

// What each stop must show: the stop's own state, as window.stepwiseState reads it. Layers and heads from 0.
const STOPS = [
  { title: 'The decoder block', word: 'knight', mode: 'steps', strategy: 'greedy', steps: 1, view: 'cross', selection: { layer: 2, head: 'mean' }, callout: 'box' },
  { title: 'Masked self-attention', word: 'knight', mode: 'steps', strategy: 'greedy', steps: 4, done: true, view: 'self', selection: { layer: 0, head: 0 }, callout: 'cell' },
  { title: 'Inside one head', word: 'knight', mode: 'steps', strategy: 'greedy', steps: 1, view: 'cross', selection: { layer: 2, head: 2 }, inside: { layer: 2, head: 2, kind: 'cross', stage: 4 }, callout: 'inside' },
  { title: 'Encoder–decoder attention', word: 'phoenix', mode: 'steps', strategy: 'greedy', steps: 1, view: 'cross', selection: { layer: 2, head: 1 }, callout: 'cell' },
  { title: 'Autoregressive generation', word: 'phoenix', mode: 'steps', strategy: 'greedy', steps: 5, view: 'cross', selection: { layer: 2, head: 1 }, callout: 'cell' },
  { title: 'The causal mask', word: 'knight', mode: 'teacher', causal: true, fed: 'N AY1 T', view: 'mask', callout: 'cell' },
  { title: 'Teacher forcing vs inference', word: 'queue', mode: 'teacher', causal: true, fed: 'K Y UW1', view: 'self', selection: { layer: 2, head: 'mean' }, row: 1, callout: 'bar' },
  { title: 'Greedy vs beam search', word: 'queue', mode: 'steps', strategy: 'beam', done: true, view: 'cross', selection: { layer: 2, head: 'mean' }, callout: 'beam' },
];

/** The card and the marker as the learner sees them. */
const card = (page) => page.evaluate(() => {
  const text = (id) => document.getElementById(id).textContent;
  const marker = document.getElementById('tour-marker');
  return {
    open: !document.getElementById('tour-card').hidden,
    count: text('tour-count'), title: text('tour-title'), body: text('tour-body'), callout: text('tour-callout'),
    question: text('tour-question'), answer: text('tour-answer-text'),
    note: document.getElementById('tour-note').hidden ? '' : text('tour-note'),
    marker: marker.hidden ? null : { ...marker.dataset, label: marker.textContent },
    focus: document.activeElement?.id ?? null,
  };
});

/** Waits until stop n is shown with its marker drawn. */
async function atStop(page, n) {
  await page.waitForFunction((k) => {
    const marker = document.getElementById('tour-marker');
    return window.stepwiseState.tourStop === k && !marker.hidden && marker.dataset.stop === String(k);
  }, n, { timeout: 10000 });
}

// "0.96", "−0.32", "−∞", as the card prints them
const f2 = (x) => (x === -Infinity ? '−∞' : x.toFixed(2).replace(/^-/, '−'));

/** Stop n's state is on the page, and its callout names the value of the cell it marks. */
async function checkStop(page, n, { cli = true } = {}) {
  await atStop(page, n);
  const want = STOPS[n - 1];
  const s = await state(page);
  const c = await card(page);
  const what = `stop ${n}`;
  assert.equal(c.count, `Stop ${n} of ${STOPS.length}`, what);
  assert.equal(c.title, want.title, what);
  assert.equal(s.model.builtin, true, `${what}: the built-in model`);
  for (const key of ['word', 'mode', 'view', 'steps', 'causal']) if (want[key] !== undefined) assert.equal(s[key], want[key], `${what}: ${key}`);
  if (want.strategy) assert.equal(s.strategy, want.strategy, `${what}: strategy`);
  if (want.done) assert.equal(s.done, true, `${what}: decoded to the end`);
  if (want.selection) assert.deepEqual(s.selection, want.selection, `${what}: layer and head`);
  if (want.inside) for (const [k, v] of Object.entries(want.inside)) assert.equal(s.inside[k], v, `${what}: open the box ${k}`);
  if (want.fed) assert.equal(s.teacher.fed, want.fed, `${what}: the reference fed`);
  if (want.row !== undefined) assert.equal(s.selectedRow, want.row, `${what}: the row`);
  assert.equal(s.message, null, `${what}: no message`);
  assert.ok(c.body.length > 80 && c.question.startsWith('Try it: ') && c.answer.length > 20, `${what}: the card has its texts`);

  // the marker: its kind, its value as the page holds it, and that value in the card's sentence
  const m = c.marker;
  assert.equal(m.kind, want.callout, what);
  const value = Number(m.value);
  const t = trace.get(want.word);
  if (m.kind === 'cell') {
    const [row, col] = [Number(m.row), Number(m.col)];
    const page_ = m.view === 'mask' ? s.drawn.rows[row][col] : (m.view === 'self' ? s.selfAttention : s.crossAttention)[m.layer][m.head][row][col];
    assert.equal(value, page_, `${what}: the marked cell's value is the page's`);
    if (cli && m.view !== 'mask') {
      const native = t.steps[row][m.view === 'self' ? 'self_attention' : 'cross_attention'][m.layer][m.head][col];
      assert.ok(Math.abs(value - native) < 1e-3, `${what}: ${value} on the page, ${native} natively`);
    }
    if (m.view === 'mask') assert.equal(value, -Infinity, `${what}: a masked cell`);
    // the marker lies over that cell: hovering its centre shows the cell's tooltip
    const box = await page.locator('#tour-marker').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tip = await page.textContent('#tooltip');
    const key = s.drawn.colLabels[col];
    assert.ok(tip.includes(`key ${key}`) && tip.includes(`query ${s.drawn.rowLabels[row]}`), `${what}: the marker is over another cell: ${tip}`);
    if (m.view !== 'mask') assert.ok(tip.includes(`weight ${value.toPrecision(6)}`), `${what}: ${tip}`);
    await page.mouse.move(0, 0);
  } else if (m.kind === 'inside') {
    // the head walk's softmax weight is the heatmap's cell (the cross-attention of layer 3, head 3, row 0)
    const col = Number(m.col);
    assert.ok(Math.abs(value - s.crossAttention[2][2][0][col]) < 1e-6, `${what}: ${value} in the head walk, ${s.crossAttention[2][2][0][col]} in the matrix`);
    assert.equal(s.input[col], 'n');
    assert.ok(Math.abs(value - t.steps[0].cross_attention[2][2][col]) < 1e-3, `${what}: natively`);
  } else if (m.kind === 'box') {
    assert.ok(Math.abs(value - t.steps[0].top[0].prob) < 1e-3, `${what}: p = ${value}, natively ${t.steps[0].top[0].prob}`);
    assert.ok(c.callout.includes(`${t.steps[0].token} p = ${f2(value)}`), `${what}: ${c.callout}`);
  } else if (m.kind === 'bar') {
    assert.equal(m.token, 'Y');
    const bar = await page.$eval('#distribution .bar-row[data-token="Y"]', (row) => Number(row.dataset.p));
    assert.equal(value, bar, `${what}: the marked bar`);
    // row 1 was fed <s> K, which greedy decoding also wrote: the same distribution natively
    const native = t.steps[1].top.find((x) => x.token === 'Y').prob;
    assert.ok(Math.abs(value - native) < 1e-3, `${what}: ${value} on the page, ${native} natively`);
  } else if (m.kind === 'beam') {
    const native = execFileSync(CLI, ['generate', '--model', model, '--beam', '5', '--n-best', '5', 'queue'], { encoding: 'utf8' }).split('\n')[0].split('\t');
    assert.equal(native[1], 'K Y UW1');
    assert.ok(Math.abs(value - Number(native[2])) < 1e-4, `${what}: score ${value}, natively ${native[2]}`);
    assert.ok(c.callout.includes(`K Y UW1, score ${value.toFixed(3).replace('-', '−')}`), `${what}: ${c.callout}`);
  }
  if (m.kind !== 'beam') assert.ok(c.callout.includes(f2(value)), `${what}: the card names the value ${f2(value)}: ${c.callout}`);
  assert.equal(m.label.includes(m.kind === 'beam' ? value.toFixed(3).replace('-', '−') : f2(value)), true, `${what}: marker label ${m.label}`);
  // the marker's centre is over its target
  const over = await page.evaluate(() => {
    const r = document.getElementById('tour-marker').getBoundingClientRect();
    return document.elementsFromPoint(r.left + r.width / 2, r.top + r.height / 2).flatMap((e) => [e.id, e.tagName, ...e.classList, e.closest('.box')?.dataset.part]);
  });
  const expected = { cell: 'main-map', box: 'next', inside: 'num', bar: 'bar-row', beam: 'TD' }[m.kind];
  assert.ok(over.includes(expected), `${what}: the marker is not over its ${expected}: ${over.join(', ')}`);
  return { s, c };
}

test('every stop from the card: its state, its callout, and the experiment its question asks for', async () => {
  const session = await open(server.url);
  const { page, errors } = session;
  assert.equal(await page.isVisible('#tour-start'), true);
  assert.equal(await page.isVisible('#tour-card'), false, 'the card waits to be asked for');
  await page.click('#tour-start');

  // 1. the decoder block: Step → feeds N back in and writes AY1
  let { c } = await checkStop(page, 1);
  assert.equal(c.focus, 'tour-title', 'the heading has the focus');
  assert.equal(await page.isDisabled('#tour-prev'), true);
  await page.click('#step');
  let s = await state(page);
  assert.deepEqual([s.queries[1], s.produced[1]], ['N', 'AY1']);
  assert.match(c.answer, /^It reads N, the phoneme it just wrote: .* it writes AY1 \(p = 0\.\d\d\)\.$/);
  assert.equal((await card(page)).marker, null, 'the page moved on: no marker');
  await page.click('#tour-again');
  await checkStop(page, 1);

  // 2. masked self-attention: the last row of layer 1, head 1 mostly reads the phoneme before it, sums to 1
  await page.click('#tour-next');
  ({ c, s } = await checkStop(page, 2));
  const last = s.selfAttention[0][0].at(-1);
  const top = last.indexOf(Math.max(...last));
  assert.equal(s.queries[top], 'AY1');
  assert.equal(top, last.length - 2, 'the position just before');
  assert.ok(Math.abs(last.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  assert.match(c.answer, /^Mostly at AY1 \(0\.\d\d\), again the position just before it/);
  assert.ok(c.answer.includes(last.map((x) => x.toFixed(3)).join(' + ')), c.answer);

  // 3. inside one head: the scaled scores of n and k, shown in sub-step 3, give the gap the answer names
  await page.click('#tour-next');
  ({ c, s } = await checkStop(page, 3));
  assert.match(c.callout, /^The softmax puts 1\.00 on n and 0\.00 on k: the silent k of knight gets nothing\.$/);
  const scaled = await page.$$eval('#inside-head section[data-stage="scaled"] .num', (cells) => cells.map((x) => Number(x.dataset.value)));
  assert.deepEqual(s.input, ['k', 'n', 'i', 'g', 'h', 't']);
  assert.ok(c.answer.startsWith(`n scores ${scaled[1].toFixed(2)}, k ${scaled[0].toFixed(2)}: a gap of ${(Number(scaled[1].toFixed(2)) - Number(scaled[0].toFixed(2))).toFixed(2)}.`), c.answer);

  // 4. encoder-decoder attention: layer 2, head 3 reads p while layer 3, head 2 reads h: "ph" -> F
  await page.click('#tour-next');
  ({ c, s } = await checkStop(page, 4));
  const onH = c.callout.match(/^Writing F for phoenix, layer 3, head 2 puts (\d\.\d\d) on h\.$/);
  assert.ok(onH, c.callout);
  await page.click('.thumb[aria-label="layer 3, head 2"]');
  s = await state(page);
  assert.equal(onH[1], f2(s.drawn.rows[0][s.input.indexOf('h')]), 'the callout names the drawn cell');
  await page.click('.thumb[aria-label="layer 2, head 3"]');
  s = await state(page);
  const row0 = s.drawn.rows[0];
  assert.equal(s.input[row0.indexOf(Math.max(...row0))], 'p');
  assert.ok(c.answer.startsWith(`p, with ${f2(Math.max(...row0))}. Two heads, one letter each: between them they read “ph”`), c.answer);
  assert.equal((await card(page)).marker, null, 'another head: no marker');

  // 5. autoregressive generation: one more step writes S, and this head still reads x
  await page.click('#tour-next');
  ({ c, s } = await checkStop(page, 5));
  assert.match(c.callout, /^Writing K \(row 4\), layer 3, head 2 puts 1\.00 on x\.$/);
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('ArrowRight');
  s = await state(page);
  assert.equal(s.produced[5], 'S');
  const row5 = s.crossAttention[2][1][5];
  assert.equal(s.input[row5.indexOf(Math.max(...row5))], 'x');
  assert.ok(c.answer.startsWith(`It writes S, and this head puts ${f2(Math.max(...row5))} on x again`), c.answer);
  assert.match(c.answer, /One letter, two phonemes: x → K S\./);

  // 6. the causal mask: switched off, layer 1 keeps only its last row; in layer 3 every row changes
  await page.click('#tour-next');
  ({ c, s } = await checkStop(page, 6));
  assert.equal(s.drawn.rows[0][1], -Infinity);
  await page.click('#tab-self');
  const masked = (await state(page)).selfAttention;
  await page.click('#causal-switch');
  const open_ = await state(page);
  assert.equal(open_.causal, false);
  const changed = (l) => masked[l].map((_, i) => masked[l].some((head, h) => head[i].some((x, j) => Math.abs(x - open_.selfAttention[l][h][i][j]) > 1e-6)));
  const n = masked[0][0].length;
  assert.deepEqual(changed(0), Array.from({ length: n }, (_, i) => i !== n - 1), 'layer 1: every row changes but the last');
  assert.deepEqual(changed(2), Array(n).fill(true), 'layer 3: every row changes');
  assert.ok(c.answer.startsWith(`In layer 1 every row changes but the last, row ${n - 1} (reads T)`), c.answer);
  assert.match(c.answer, /Row 0, which saw only <s>, now sees the whole reference, N included/);
  assert.match(c.answer, /In layer 3 every row changes, the last one too/);

  // 7. teacher forcing vs inference: stepping on its own, the model writes K W IY1
  await page.click('#tour-next');
  ({ c, s } = await checkStop(page, 7));
  assert.match(c.callout, /^The model gives W p = 0\.\d\d and Y p = 0\.\d\d; row 2 reads Y all the same/);
  await page.click('label[for="mode-steps"]');
  s = await state(page);
  assert.equal(s.done, true, 'stepping decodes to the end, as the question says');
  assert.equal(s.output, 'K W IY1');
  assert.ok(c.answer.startsWith('K W IY1. After K it chose W, its top choice'), c.answer);

  // 8. greedy vs beam search: greedy writes K W IY1, which beam search ranks below the dictionary's K Y UW1
  await page.click('#tour-next');
  ({ c, s } = await checkStop(page, 8));
  assert.equal(s.beams.results[0], 'K Y UW1');
  const rank = s.beams.results.indexOf('K W IY1');
  assert.ok(rank >= 1, `beam search keeps greedy's output below its best: ${s.beams.results.join(', ')}`);
  assert.equal(await page.textContent('#tour-next'), 'Finish');
  await page.click('label[for="strategy-greedy"]');
  s = await state(page);
  assert.equal(s.done, true, 'greedy decodes to the end, as the question says');
  assert.equal(s.output, 'K W IY1');
  assert.ok(c.answer.startsWith(`K W IY1, ranked ${['first', 'second', 'third', 'fourth', 'fifth'][rank]} by beam search (score −0.`), c.answer);
  assert.match(c.answer, /It is also the dictionary's pronunciation\.$/);

  // the answer is behind a disclosure, opened by the learner
  assert.equal(await page.isVisible('#tour-answer-text'), false);
  await page.click('#tour-answer summary');
  assert.equal(await page.isVisible('#tour-answer-text'), true);

  // Finish: the card closes, the tour is offered again
  await page.click('#tour-next');
  assert.equal(await page.isVisible('#tour-card'), false);
  assert.equal((await state(page)).tourStop, null);
  assert.equal(await page.textContent('#tour-start'), 'Take the tour again');
  assert.equal(await page.isVisible('#tour-resume'), false);
  assert.deepEqual(errors, []);
  await close(session);
});

test('the keys: n / p and PageDown / PageUp walk, not when a control owns them; Esc closes; the dots', async () => {
  const session = await open(server.url);
  const { page, errors } = session;
  await page.click('#tour-start');
  await atStop(page, 1);
  await page.keyboard.press('n');
  await checkStop(page, 2, { cli: false });
  assert.equal((await card(page)).focus, 'tour-title');
  await page.keyboard.press('PageDown');
  await atStop(page, 3);
  await page.keyboard.press('p');
  await atStop(page, 2);
  await page.keyboard.press('PageUp');
  await atStop(page, 1);
  await page.keyboard.press('p');  // nothing before stop 1
  assert.equal((await state(page)).tourStop, 1);

  // a slider and the word box keep their keys
  await page.focus('#scrub');
  await page.keyboard.press('PageDown');
  assert.equal((await state(page)).tourStop, 1, 'PageDown on the scrubber is the scrubber\'s');
  await page.focus('#word');
  await page.keyboard.press('End');
  await page.keyboard.press('n');
  assert.equal((await state(page)).tourStop, 1, 'n in the word box is a letter');
  assert.equal(await page.inputValue('#word'), 'knightn');
  await page.keyboard.press('Escape');  // the page's: leaves the word box
  assert.equal((await state(page)).tourStop, 1, 'Esc in the word box leaves the box, not the tour');

  // the dots go anywhere
  await page.click('.tour-dot[data-stop="7"]');
  await checkStop(page, 7, { cli: false });
  assert.equal(await page.getAttribute('.tour-dot[data-stop="7"]', 'aria-current'), 'true');
  // Esc closes, and does not also reset the decoder (the page's Esc)
  await page.keyboard.press('Escape');
  assert.equal(await page.isVisible('#tour-card'), false);
  const s = await state(page);
  assert.equal(s.tourStop, null);
  assert.equal(s.word, 'queue');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'tour-start', 'the focus goes back to the entry');
  await page.keyboard.press('n');
  assert.equal((await state(page)).tourStop, null, 'closed: n does nothing');
  assert.deepEqual(errors, []);
  await close(session);
});

test('skip, then reload: the tour is offered where it was left (localStorage), over http and from file://', async () => {
  for (const url of [server.url, fileUrl()]) {
    const session = await open(url);
    const { page, errors } = session;
    assert.equal(await page.isVisible('#tour-resume'), false, 'nothing to resume yet');
    await page.click('#tour-start');
    await atStop(page, 1);
    for (let k = 2; k <= 4; k++) {
      await page.click('#tour-next');
      await atStop(page, k);
    }
    await page.click('#tour-skip');
    assert.equal(await page.isVisible('#tour-card'), false);
    await page.waitForFunction(() => !location.hash.includes('tour='), null, { timeout: 5000 });
    await page.reload();
    await page.waitForFunction(() => window.stepwiseState?.ready === true);
    assert.equal(await page.isVisible('#tour-card'), false, 'a skipped tour stays closed');
    assert.equal(await page.textContent('#tour-resume'), 'Resume at stop 4: Encoder–decoder attention', url);
    await page.click('#tour-resume');
    await checkStop(page, 4, { cli: false });
    assert.deepEqual(errors, [], url);
    await close(session);
  }
});

test('each stop is a link: #tour=N applies the stop, over http and from file://', async () => {
  for (const base of [server.url, fileUrl()]) {
    for (let n = 1; n <= STOPS.length; n++) {
      const session = await open(`${base}#tour=${n}`);
      const { page, errors } = session;
      await checkStop(page, n, { cli: false });
      // the address now holds the whole state, the stop with it
      await page.waitForFunction((k) => location.hash.includes(`tour=${k}`) && location.hash.includes('word='), n, { timeout: 5000 });
      assert.deepEqual(errors, [], `${base}#tour=${n}`);
      await close(session);
    }
  }
});

test('a link to the page as an experiment left it keeps that state, with the stop\'s card open', async () => {
  const session = await open(`${server.url}#tour=6`);
  const { page } = session;
  await atStop(page, 6);
  await page.click('#causal-switch');
  await page.waitForFunction(() => location.hash.includes('causal=0') && location.hash.includes('tour=6'), null, { timeout: 5000 });
  const hash = await page.evaluate(() => location.hash);
  const other = await open(`${server.url}${hash}`);
  await other.page.waitForFunction(() => !document.getElementById('tour-card').hidden);
  const s = await state(other.page);
  assert.equal(s.tourStop, 6);
  assert.equal(s.causal, false, 'the link\'s state, not the stop\'s');
  assert.equal((await card(other.page)).title, 'The causal mask');
  assert.equal((await card(other.page)).marker, null, 'the page is not as the stop shows it: no marker');
  // following the card's own link puts the stop back
  await other.page.click('#tour-link');
  await checkStop(other.page, 6, { cli: false });
  assert.equal((await state(other.page)).causal, true);
  assert.deepEqual([...session.errors, ...other.errors], []);
  await close(session);
  await close(other);
});

test('a stop that does not exist: a clear message, no card', async () => {
  for (const stop of ['9', '0', '2.5']) {
    const session = await open(`${server.url}#tour=${stop}`);
    const { page, errors } = session;
    const s = await state(page);
    assert.equal(s.tourStop, null);
    assert.match(s.message.text, new RegExp(`the tour has no stop “${stop.replace('.', '\\.')}” \\(its stops are 1 to 8\\)`));
    assert.equal(await page.isVisible('#tour-card'), false);
    assert.deepEqual(errors, []);
    await close(session);
  }
});

test('from a decoder-only model, the tour brings back the built-in encoder-decoder and says so', async () => {
  const session = await open(server.url);
  const { page, errors } = session;
  await page.setInputFiles('#model-file', path.join(FIXTURES, 'decoder_only_prenorm_gelu.safetensors'));
  await page.waitForFunction(() => window.stepwiseState.model?.builtin === false, null, { timeout: 10000 });
  await page.click('#tour-start');
  await checkStop(page, 1, { cli: false });
  assert.match((await card(page)).note, /^The tour switched to the built-in model, g2p-cmudict\.safetensors: it was written for it\. decoder_only_prenorm_gelu\.safetensors is still in the model menu\.$/);
  await page.click('#tour-next');
  await atStop(page, 2);
  assert.equal((await card(page)).note, '', 'said once');
  assert.deepEqual(errors, []);
  await close(session);
});

test('screenshots: a stop at 1440 × 900 and on a phone (390 × 844)', async () => {
  const wide = await open(server.url);
  await wide.page.click('#tour-start');
  await wide.page.click('.tour-dot[data-stop="4"]');
  await checkStop(wide.page, 4, { cli: false });
  await wide.page.mouse.move(0, 0);
  await screenshot(wide.page, 'tour-1440');
  // Previous, the dots and Next fit in the card, wide and on a phone (the last stop's Finish too)
  const navFits = (page) => page.evaluate(() => {
    const inner = document.getElementById('tour-card').getBoundingClientRect();
    return ['tour-prev', 'tour-next'].map((id) => document.getElementById(id).getBoundingClientRect())
      .every((r) => r.left >= inner.left && r.right <= inner.right - 8);
  });
  assert.ok(await navFits(wide.page), 'Previous and Next inside the card (1440)');
  const phone = await open(`${server.url}#tour=4`, { width: 390, height: 844 });
  await atStop(phone.page, 4);
  // on a phone the card is a sheet at the bottom, the marked cell above it
  const [sheet, marker] = await phone.page.evaluate(() => ['tour-card', 'tour-marker'].map((id) => document.getElementById(id).getBoundingClientRect().toJSON()));
  assert.ok(sheet.width >= 389 && sheet.bottom <= 845, JSON.stringify(sheet));
  assert.ok(marker.bottom <= sheet.top && marker.top >= 0, `the marked cell shows above the card: ${JSON.stringify({ marker, sheet })}`);
  await screenshot(phone.page, 'tour-390');
  // the step controls, fixed at the bottom of a phone's screen while stepping, are not under the card
  const stepReachable = (page) => page.evaluate(() => {
    const r = document.getElementById('step').getBoundingClientRect();
    return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)?.closest('#step') !== null;
  });
  assert.ok(await stepReachable(phone.page), 'Step is not covered by the card (390)');
  assert.ok(await navFits(phone.page), 'Previous and Next inside the card (390)');
  for (const page of [wide.page, phone.page]) {
    await page.click('.tour-dot[data-stop="8"]');
    await atStop(page, 8);
    assert.ok(await navFits(page), `Previous and Finish inside the card (${page.viewportSize().width})`);
  }
  await phone.page.click('#tour-fold');
  assert.equal(await phone.page.isVisible('#tour-body'), false, 'folded');
  assert.equal(await phone.page.isVisible('#tour-next'), true);
  assert.ok(await stepReachable(phone.page), 'Step is not covered by the folded card (390)');
  assert.deepEqual([...wide.errors, ...phone.errors], []);
  await close(wide);
  await close(phone);
});

test('no console errors in any page opened', () => {
  for (const { errors } of sessions) assert.deepEqual(errors, []);
});
