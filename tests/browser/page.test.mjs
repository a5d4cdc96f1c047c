// The page, served under a sub-path as GitHub Pages serves it: the decoder steps to the same tokens as the
// native CLI, every attention row drawn is a distribution, the causal mask holds, teacher forcing agrees
// with stepping, sampling is reproducible, beam search matches the CLI; the keyboard works; under the
// Content-Security-Policy, with no request outside the site's folder and no console error.
// Run: node --test tests/browser/   (after tools/test.sh has built build/, build-wasm/ and site/)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  BASE, baseline, exampleWords, special, launch, matrices, nativeGenerate, openPage, outside, screenshot, siteModelFile, startServer, state,
  stepToEnd, typeWord,
} from './helpers.mjs';

let browser;
let server;
let session;  // { page, requests, errors }
let model;

before(async () => {
  browser = await launch();
  server = await startServer();
  model = siteModelFile();
  session = await openPage(browser, server.url);
});

after(async () => {
  await browser?.close();
  server?.close();
});

const near = (a, b, tolerance = 1e-5) => Math.abs(a - b) <= tolerance;

async function setStrategy(page, strategy) {
  await page.click(`label[for="strategy-${strategy}"]`);
}

test('served under a sub-path, under a strict Content-Security-Policy', async () => {
  const { page } = session;
  assert.ok(server.url.endsWith(BASE));
  const csp = await page.$eval('meta[http-equiv="Content-Security-Policy"]', (m) => m.content);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.doesNotMatch(csp, /'unsafe-eval'|'unsafe-inline'/);
  const html = await (await fetch(server.url)).text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline scripts');
  assert.doesNotMatch(html, /<style|\sstyle=/, 'no inline styles');
  assert.doesNotMatch(html, /\son[a-z]+=/, 'no inline event handlers');
  // The policy is enforced (in a page of its own, to keep the main page's console clean): an inline
  // script is refused, with a violation report.
  const probe = await openPage(browser, server.url);
  const verdict = await probe.page.evaluate(() => new Promise((resolve) => {
    document.addEventListener('securitypolicyviolation', (e) => resolve(`blocked by ${e.effectiveDirective}`), { once: true });
    const script = document.createElement('script');
    script.textContent = 'window.inlineScriptRan = true;';
    document.body.append(script);
    setTimeout(() => resolve(window.inlineScriptRan ? 'inline script ran' : 'no report'), 2000);
  }));
  assert.match(verdict, /^blocked by script-src/);
  assert.equal(probe.errors.length, 1, probe.errors.join('\n'));
  assert.match(probe.errors[0], /Content Security Policy/);
  await probe.context.close();
  const s = await state(page);
  assert.equal(s.model.builtin, true);
  assert.equal(s.steps, 0, 'the first example waits at step 0 on load');
  assert.equal(await page.isEnabled('#step'), true);
});

test('stepping each example word gives the native CLI\'s tokens', async () => {
  const { page } = session;
  await baseline(page);
  const words = await exampleWords(page);
  assert.ok(words.length >= 3);
  const native = nativeGenerate(model, words);
  for (const [k, word] of words.entries()) {
    await typeWord(page, word);
    let s = await state(page);
    assert.equal(s.steps, 0);
    assert.deepEqual(s.produced, []);
    s = await stepToEnd(page, { useKeyboard: k % 2 === 1 });
    assert.equal(s.output, native.get(word), `${word}: page '${s.output}', CLI '${native.get(word)}'`);
    // It stops at </s>, or (an untrained fixture model) when the positions run out.
    assert.ok(s.produced.at(-1) === '</s>' || s.steps === s.model.maxTargetLen, `${word}: stopped after ${s.steps} steps`);
    assert.equal(s.queries[0], '<s>');
    assert.deepEqual(s.queries.slice(1), s.produced.slice(0, -1), 'each step reads what the previous one wrote');
    assert.ok(s.stepMs.length === s.steps && s.stepMs.every((ms) => ms >= 0));
    const shown = await page.$$eval('#output .token', (tokens) => tokens.map((t) => t.textContent));
    assert.deepEqual(shown, ['<s>', ...s.produced]);
  }
});

test('every attention row drawn sums to 1; the self-attention upper triangle is 0', async () => {
  const { page } = session;
  await baseline(page);
  await typeWord(page, (await exampleWords(page))[0]);
  await page.click('#step');
  await page.click('#step');
  await page.click('#step');
  for (const view of ['mask', 'self', 'cross', 'encoder']) {
    await page.click(`#tab-${view}`);
    if (view !== 'mask') await page.click('.thumb >> nth=0');  // one head of the first layer
    const s = await state(page);
    let rows = 0;
    for (const [name, matrix] of matrices(s)) {
      if (name === 'drawn mask') continue;  // the mask holds 0 and -inf, not weights
      for (const row of matrix) {
        const sum = row.reduce((a, b) => a + b, 0);
        assert.ok(near(sum, 1, 1e-4), `${name}: a row sums to ${sum}`);
        assert.ok(row.every((x) => x >= 0 && x <= 1));
        rows++;
      }
    }
    assert.ok(rows > 0);
    for (const layer of s.selfAttention) {
      for (const head of layer) {
        head.forEach((row, i) => row.forEach((x, j) => j > i && assert.equal(x, 0, `self-attention [${i}, ${j}] = ${x}`)));
        assert.equal(head.length, 3, 'one row per step');
      }
    }
  }
  const s = await state(page);
  assert.ok(s.drawn.rows.length > 0);
});

test('teacher forcing: with the mask, rows equal the stepped rows; without it, they change', async () => {
  const { page } = session;
  await baseline(page);
  const word = (await exampleWords(page))[1];
  await typeWord(page, word);
  const stepped = await stepToEnd(page);
  const target = stepped.output;
  // Rows that were fed the same tokens as the reference: all of them unless the model wrote special tokens
  // (an untrained fixture model does), which the reference, made of phonemes, leaves out.
  let agree = 1;
  while (agree < stepped.queries.length && !special(stepped.queries[agree])) agree++;

  await page.click('#tab-self');
  await page.click('label[for="mode-teacher"]');
  await page.fill('#target', target);
  await page.press('#target', 'Enter');
  const forced = await state(page);
  assert.equal(forced.mode, 'teacher');
  assert.equal(forced.causal, true);
  assert.equal(forced.teacher.fed, target);
  assert.deepEqual(forced.queries.slice(0, agree), stepped.queries.slice(0, agree));
  const rows = (m) => m.slice(0, agree);
  forced.selfAttention.forEach((layer, l) => layer.forEach((head, h) => rows(head).forEach((row, i) => row.slice(0, agree).forEach((x, j) =>
    assert.ok(near(x, stepped.selfAttention[l][h][i][j]), `self L${l} H${h} [${i}, ${j}]: ${x} vs ${stepped.selfAttention[l][h][i][j]}`)))));
  forced.crossAttention.forEach((layer, l) => layer.forEach((head, h) => rows(head).forEach((row, i) => row.forEach((x, j) =>
    assert.ok(near(x, stepped.crossAttention[l][h][i][j]), `cross L${l} H${h} [${i}, ${j}]`)))));
  assert.ok(forced.teacher.rowsCompared >= agree);
  assert.ok(forced.teacher.maxDiff < 1e-5);
  if (agree === stepped.queries.length) {
    assert.equal(forced.teacher.rowsCompared, forced.queries.length);
    assert.match(await page.textContent('#compare'), /equal the rows the decoder computed one step at a time/);
  }

  await page.click('#causal-switch');
  const leaky = await state(page);
  assert.equal(leaky.causal, false);
  let upper = 0;
  for (const layer of leaky.selfAttention) for (const head of layer) head.forEach((row, i) => row.forEach((x, j) => j > i && (upper += x)));
  assert.ok(upper > 0.01, `without the mask attention reaches the future (upper triangle mass ${upper})`);
  assert.ok(leaky.teacher.maxDiff > 1e-3);
  for (const [name, matrix] of matrices(leaky)) {
    if (!name.startsWith('drawn mask')) for (const row of matrix) assert.ok(near(row.reduce((a, b) => a + b, 0), 1, 1e-4), name);
  }
  await page.click('#causal-switch');
  assert.equal((await state(page)).causal, true);
});

test('sampling with a fixed seed is reproducible; beam search matches the CLI', async () => {
  const { page } = session;
  await baseline(page);
  const words = await exampleWords(page);
  await typeWord(page, words[2]);
  await setStrategy(page, 'sample');
  await page.fill('#temperature', '1.5');
  await page.press('#temperature', 'Enter');
  await page.fill('#seed', '7');
  await page.press('#seed', 'Enter');
  await page.click('#run');
  const first = await state(page);
  assert.equal(first.strategy, 'sample');
  assert.ok(first.done);
  await page.click('#reset');
  await page.click('#run');
  const second = await state(page);
  assert.equal(second.output, first.output);
  assert.deepEqual(second.produced, first.produced);
  // Sampling bars: the distribution used (temperature 1.5) differs from the model's own, drawn behind it.
  assert.ok(await page.$('.bar-model'));

  await setStrategy(page, 'beam');
  await page.fill('#beam-width', '3');
  await page.press('#beam-width', 'Enter');
  await page.click('#reset');
  await page.click('#step');
  let s = await state(page);
  assert.ok(s.beams.live.length >= 1 && s.beams.live.length <= 3);
  await page.click('#run');
  s = await state(page);
  assert.ok(s.done && s.beams.results.length >= 1);
  const native = nativeGenerate(model, [words[2]], ['--beam', '3']);
  assert.equal(s.output, native.get(words[2]));
  assert.equal(s.beams.results[0], s.output);
});

test('keyboard: → steps, space plays and pauses, Esc resets; a focused button keeps its Space', async () => {
  const { page } = session;
  await baseline(page);
  await typeWord(page, (await exampleWords(page))[0]);
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal((await state(page)).steps, 2);
  await page.keyboard.press('Escape');
  assert.equal((await state(page)).steps, 0);
  await page.focus('#step');  // a focused button keeps Space: it presses the button (one step), no play
  await page.keyboard.press(' ');
  let s = await state(page);
  assert.equal(s.steps, 1);
  assert.equal(s.playing, false);
  await page.$eval('#speed', (s) => { s.value = '4'; });
  await page.evaluate(() => document.activeElement.blur());  // the page itself: Space plays
  await page.keyboard.press(' ');
  await page.waitForFunction(() => window.stepwiseState.done, null, { timeout: 10000 });
  s = await state(page);
  assert.equal(s.playing, false);
  assert.ok(s.steps > 1);
});

test('surprise me: a held-out word with its dictionary pronunciation', async () => {
  const { page } = session;
  await baseline(page);
  const hasWords = (await state(page)).wordsLoaded;  // (words.js, read once the page was interactive)
  await page.click('#surprise');
  assert.equal((await state(page)).steps, 0, 'the word waits at step 0');
  const s = await stepToEnd(page);
  assert.ok(s.word.length > 0);
  if (hasWords && s.model.config === 'g2p-cmudict') assert.match(await page.textContent('#reference'), /Dictionary \(CMUdict, held out from training\): \S/);
});

test('a screenshot of the page; no console errors; no request outside the site\'s folder', async () => {
  const { page, requests, errors } = session;
  await baseline(page);
  await page.click('label[for="strategy-greedy"]');
  await typeWord(page, (await exampleWords(page))[2]);
  for (let i = 0; i < 5; i++) await page.click('#step');
  await page.click('#tab-cross');
  const head = page.locator('.thumb[aria-label="layer 2, head 3"]');  // a clean alignment in the G2P model
  if (await head.count()) await head.click();
  await page.mouse.move(0, 0);
  await screenshot(page, 'page-1280x800');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'page-390x844');
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(errors, []);
  assert.ok(requests.length >= 4);
  assert.deepEqual(outside(requests, server.url), []);
  // over http the page fetches the binary engine and model (its gzip twin), not their base64 twins for
  // file:// pages
  assert.ok(requests.some((url) => url.endsWith('.safetensors.gz')));
  assert.ok(requests.some((url) => url.endsWith('/stepwise.wasm')));
  assert.ok(!requests.some((url) => url.endsWith('/model.js') || url.endsWith('/engine.js')));
});
