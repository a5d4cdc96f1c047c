// The lesson says what is true: in every mode (step by step with greedy, sampling and beam search;
// teacher forcing with the causal mask on and off) the diagram's caption, the teacher-forcing note, the
// mask legend, the diagram's mask box and the next-token bars (adding up to 100 %, with an "all others"
// bar) follow the state; and the causal-mask tab shows the course's expression and PyTorch's mask cell by
// cell as the formulas give them, with a switch that transposes the drawn mask.
// Run: node --test tests/browser/
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { baseline, exampleWords, launch, openPage, startServer, state, typeWord } from './helpers.mjs';

let browser;
let server;
let session;

before(async () => {
  browser = await launch();
  server = await startServer();
  session = await openPage(browser, server.url);
});

after(async () => {
  await browser?.close();
  server?.close();
});

const text = (page, selector) => page.$eval(selector, (n) => n.textContent);
const visible = (page, selector) => page.$eval(selector, (n) => !n.closest('[hidden]') && getComputedStyle(n).display !== 'none');

/** The next-token bars: [token, p] and whether an "all others" bar is there. */
const bars = (page) => page.$$eval('#distribution .bar-row', (rows) => rows.map((r) => ({
  token: r.querySelector('.bar-token').textContent, p: Number(r.dataset.p), others: r.classList.contains('others'),
})));

async function checkBars(page, label) {
  const rows = await bars(page);
  assert.ok(rows.length > 1, `${label}: bars drawn`);
  const others = rows.filter((r) => r.others);
  assert.equal(others.length, 1, `${label}: one "all others" bar`);
  assert.equal(others[0].token, 'all others');
  const sum = rows.reduce((a, r) => a + r.p, 0);
  assert.ok(Math.abs(sum - 1) < 1e-3, `${label}: the bars add up to ${sum * 100} %`);
}

async function checkMaskState(page, on, label) {
  const box = await page.$eval('#diagram [data-part="mask"]', (g) => ({ state: g.dataset.state, off: g.classList.contains('off'), text: g.textContent }));
  assert.equal(box.state, on ? 'on' : 'off', `${label}: the diagram's mask box`);
  assert.equal(box.off, !on);
  assert.equal(/off/.test(box.text), !on, `${label}: the mask box says ${box.text}`);
  await page.click('#tab-mask');
  assert.equal(await visible(page, '#legend .legend-masked'), on, `${label}: the −∞ swatch`);
  const explain = await text(page, '#view-explain');
  if (on) assert.match(explain, /−∞/);
  else assert.match(explain, /switched off/);
  const drawn = (await state(page)).drawn;
  const minusInf = drawn.rows.flat().filter((x) => x === -Infinity).length;
  const n = drawn.rows.length;
  assert.equal(minusInf, on ? (n * (n - 1)) / 2 : 0, `${label}: −∞ cells drawn`);
  assert.equal(await visible(page, '#mask-off-note'), !on);
  await page.click('#tab-self');
}

test('each mode: captions, notes, legend, diagram mask box and next-token bars follow the state', async () => {
  const { page } = session;
  await baseline(page);
  await typeWord(page, (await exampleWords(page))[0]);
  const caption = () => page.$eval('#diagram .fed-note', (n) => n.textContent);

  for (const strategy of ['greedy', 'sample', 'beam']) {
    await page.click(`label[for="strategy-${strategy}"]`);
    if (strategy === 'sample') {
      await page.fill('#temperature', '1.5');
      await page.press('#temperature', 'Enter');
    }
    await page.click('#reset');
    await page.click('#step');
    await page.click('#step');
    const s = await state(page);
    assert.equal(s.mode, 'steps');
    assert.equal(await caption(), 'its own output so far', strategy);
    assert.equal(await visible(page, '#transport-note'), false);
    await checkMaskState(page, true, `steps, ${strategy}`);
    await checkBars(page, `steps, ${strategy}`);
    const note = await text(page, '#next-note');
    if (strategy === 'sample') {
      assert.doesNotMatch(note, /green/);
      assert.match(note, /grey/);
      assert.ok(await page.$('#distribution .bar-model'), 'the model\'s own distribution behind the sampled one');
    }
  }

  await page.click('label[for="strategy-greedy"]');
  await page.click('label[for="mode-teacher"]');
  for (const on of [true, false]) {
    const s = await state(page);
    if (s.causal !== on) await page.click('#causal-switch');
    assert.equal((await state(page)).causal, on);
    assert.equal(await caption(), 'the reference, fed whole');
    const note = await text(page, '#transport-note');
    assert.equal(/keeps each row to its past/.test(note), on, `teacher, mask ${on}: ${note}`);
    if (!on) assert.match(note, /switched off/);
    await checkMaskState(page, on, `teacher, mask ${on ? 'on' : 'off'}`);
    await checkBars(page, `teacher, mask ${on}`);
    // Open the box says the same: one pass and no cache, the mask as it is
    await page.click('#stream-diagram [data-part="self"]');
    const residual = await text(page, '#residual-note');
    assert.doesNotMatch(residual, /KV cache|so far/, residual);
    assert.match(residual, on ? /ones before it \(the causal mask\), every row in one pass/ : /the later ones too \(the causal mask is off\)/, residual);
    const kv = await text(page, '#kv-note');
    assert.equal(/the mask keeps each row from reading the later ones/.test(kv), on, kv);
    if (!on) assert.match(kv, /the causal mask is off/);
    await page.focus('#inside-head');
    for (let k = 0; k < 3; k++) await page.keyboard.press(']');
    const keys = await text(page, '#inside-head section[data-stage="qk"] .stage-text');
    assert.doesNotMatch(keys, /written so far/, keys);
    assert.equal(/the mask \(sub-step 4\) hides the later ones/.test(keys), on, keys);
    assert.match(await page.textContent('#inside-head section[data-stage="qk"]'), /K: the keys of the whole pass \(self_attention\.key\)/);
    const mask = await text(page, '#inside-head section[data-stage="mask"] .stage-text');
    assert.match(mask, on ? /the mask adds −∞ there/ : /the causal mask is off, so nothing is added/, mask);
    for (let k = 0; k < 3; k++) await page.keyboard.press('[');
  }
  await page.click('#causal-switch');
  assert.equal((await state(page)).causal, true);
  await baseline(page);
});

// The next-token panel may draw after the frame that shows a step (web/offscreen.js): its note, once it says this.
async function nextNote(page, pattern) {
  await page.waitForFunction(([source, flags]) => new RegExp(source, flags).test(document.querySelector('#next-note').textContent), [pattern.source, pattern.flags]);
}

// Stepping, the decoder adds no mask (the positions after a row do not exist yet when it is computed); a
// parallel pass needs it. The page says which of the two emptied the triangle, in the view's text, the
// legend and the mask tab; and it says what a beam of 1 is, and draws grey bars only when sampling reshapes.
test('why the triangle is empty, by mode; a beam of 1; grey bars only when sampling reshapes the distribution', async () => {
  const { page } = session;
  await baseline(page);
  await typeWord(page, 'knight');
  await page.click('label[for="strategy-greedy"]');
  await page.click('#tab-mask');  // step 0: no position, no mask, and no tensor of size 0 × 0
  assert.match(await text(page, '#mask-relation'), /^No position yet, so no mask/);
  assert.equal(await visible(page, '#mask-literal'), false);
  await page.click('#step');
  await page.click('#step');
  assert.equal(await visible(page, '#mask-literal'), true);
  await page.click('#tab-self');
  assert.match(await text(page, '#view-explain'), /stepping, each row was computed before the positions after it existed/);
  assert.doesNotMatch(await text(page, '#view-explain'), /the mask set those scores/);
  assert.match(await text(page, '#legend .legend-masked'), /not there yet when the row was computed/);
  await page.click('#tab-mask');
  assert.match(await text(page, '#view-explain'), /a parallel pass over these tokens \(teacher forcing, as in training\) adds this matrix.*Stepping needs no mask/);
  await nextNote(page, /^Greedy decoding takes the most likely token/);
  assert.equal(await page.$('#distribution .dist-legend'), null, 'greedy: no "sampled from" legend');

  await page.click('label[for="mode-teacher"]');
  await page.click('#tab-self');
  assert.match(await text(page, '#view-explain'), /The upper triangle is empty because the mask set those scores to −∞/);
  assert.match(await text(page, '#legend .legend-masked'), /masked \(−∞ before the softmax\)/);
  await page.click('#causal-switch');
  assert.match(await text(page, '#view-title'), /^Self-attention, mask off · /);
  await page.click('#causal-switch');
  assert.match(await text(page, '#view-title'), /^Masked self-attention · /);
  await page.click('label[for="mode-steps"]');

  // sampling at T = 1 with no cut is the model's own distribution: said so, no grey bars
  await page.click('label[for="strategy-sample"]');
  for (const [id, value] of [['temperature', '1'], ['top-k', '0'], ['top-p', '1']]) {
    await page.fill(`#${id}`, value);
    await page.press(`#${id}`, 'Enter');
  }
  await page.click('#reset');
  await page.click('#step');
  await nextNote(page, /from the model's own distribution, softmax\(logits\) \(T = 1, no top-k or top-p cut\)/);
  assert.equal(await page.$('#distribution .bar-model'), null);
  await page.fill('#top-k', '3');
  await page.press('#top-k', 'Enter');
  await page.click('#reset');
  await page.click('#step');
  await nextNote(page, /T = 1, cut to top-k 3: the bars; behind them in grey/);
  assert.ok(await page.$('#distribution .bar-model'));
  await page.fill('#top-k', '0');
  await page.press('#top-k', 'Enter');

  // a beam of 1 keeps one hypothesis: greedy decoding, as the notes say
  await page.click('label[for="strategy-beam"]');
  await page.fill('#beam-width', '1');
  await page.press('#beam-width', 'Enter');
  await page.click('#reset');
  await page.click('#step');
  await nextNote(page, /with a beam of 1, beam search keeps only the best token, as greedy decoding does/);
  await page.fill('#beam-width', '4');
  await page.press('#beam-width', 'Enter');
  await page.click('label[for="strategy-greedy"]');
});

test('the causal-mask tab: the course\'s expression and PyTorch\'s mask, cell by cell; the switch transposes', async () => {
  const { page } = session;
  await baseline(page);
  await typeWord(page, (await exampleWords(page))[1]);
  await page.click('#run');
  await page.click('#tab-mask');
  const n = (await state(page)).queries.length;
  assert.ok(n >= 3);
  const grid = (id) => page.$$eval(`#${id} tbody tr`, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
  // torch.triu(torch.ones(n, n)) == 0: True where triu left 0, strictly below the diagonal
  const triu = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (j >= i ? 1 : 0)));
  const future = triu.map((row) => row.map((x) => x === 0));
  assert.deepEqual(await grid('mask-literal'), future.map((row) => row.map((v) => (v ? 'T' : 'F'))));
  // generate_square_subsequent_mask(n): -inf strictly above the diagonal
  const M = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (j > i ? -Infinity : 0)));
  assert.deepEqual(await grid('mask-pytorch'), M.map((row) => row.map((v) => (v === -Infinity ? '−∞' : '0'))));
  M.forEach((row, i) => row.forEach((v, j) => assert.equal(v === -Infinity, future[j][i])));
  assert.ok(await visible(page, '#mask-relation'));
  assert.match(await text(page, '#mask-relation'), new RegExp(`\\(M == -inf\\) == future\\.T .*True in every cell for n = ${n}`));

  // [query, key]: the drawn mask is M, as PyTorch adds it
  let s = await state(page);
  assert.equal(s.maskOrder, 'query-key');
  assert.deepEqual(s.drawn.rows, M);
  assert.equal(s.drawn.rowAxis, 'query');
  assert.equal(s.drawn.colAxis, 'key →');
  assert.match(await text(page, '#view-title'), /\[query, key\]/);
  // [key, query]: transposed, as the course's expression reads it
  await page.click('label[for="mask-order-key-query"]');
  s = await state(page);
  assert.equal(s.maskOrder, 'key-query');
  assert.deepEqual(s.drawn.rows, M.map((row, i) => row.map((_, j) => M[j][i])));
  s.drawn.rows.forEach((row, i) => row.forEach((v, j) => assert.equal(v === -Infinity, future[i][j])));
  assert.equal(s.drawn.rowAxis, 'key');
  assert.equal(s.drawn.colAxis, 'query →');
  assert.match(await text(page, '#view-title'), /\[key, query\]/);
  assert.match(await text(page, '#view-explain'), /keys as rows/);
  await page.click('label[for="mask-order-query-key"]');
  assert.equal((await state(page)).maskOrder, 'query-key');
  assert.deepEqual(session.errors, []);
});
