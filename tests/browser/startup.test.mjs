// How the page starts (issue 13 §3): over http the engine is compiled while it downloads
// (WebAssembly.compileStreaming of stepwise.wasm, sent as application/wasm, gzip), and the model comes as
// its gzip twin; a host that sends the .wasm as another type, or refuses the twin, still gets a working
// page. The held-out word list (words.js) is not part of the first view: the page is interactive (a word at
// step 0, Step enabled and working) before it arrives, and what needs it (Surprise me, the default
// reference of teacher forcing) does its work once it is in; over http and from file://.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';

import { SITE, fileUrl, outside, state, withBrowser } from './helpers.mjs';

let browser;
let server;
withBrowser((b, s) => {
  browser = b;
  server = s;
});

// The held-out words as the site ships them (word -> pronunciations).
function heldOut() {
  const text = readFileSync(path.join(SITE, 'words.js'), 'utf8');
  const literal = text.slice(text.indexOf('=') + 1).trim().replace(/;$/, '');
  return new Map(JSON.parse(literal).split('\n').filter(Boolean).map((line) => {
    const [word, prons] = line.split('\t');
    return [word, prons.split('|')];
  }));
}

// Records how the page's WebAssembly is compiled (before the page's own scripts run).
function countCompiles() {
  const seen = { streaming: 0, streamed: 0, fromBytes: 0 };
  window.compileSeen = seen;
  const streaming = WebAssembly.compileStreaming;
  WebAssembly.compileStreaming = (...args) => {
    seen.streaming++;
    return streaming.apply(WebAssembly, args).then((m) => {
      seen.streamed++;
      return m;
    });
  };
  const compile = WebAssembly.compile;
  WebAssembly.compile = (...args) => {
    seen.fromBytes++;
    return compile.apply(WebAssembly, args);
  };
}

async function open(url, { route = null, init = null } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  const responses = [];
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && errors.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  page.on('response', (r) => responses.push(r));
  if (init) await page.addInitScript(init);
  if (route) await route(page);
  await page.goto(url, { waitUntil: 'commit' });  // (a held-back words.js holds the load event on file://)
  return { context, page, errors, requests, responses };
}

const stepEnabled = (page) => page.waitForFunction(() => document.getElementById('step')?.disabled === false, null, { timeout: 20000 });

// Holds words.js back until release() (page.route), to see the page before it arrives.
function holdWords() {
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  return {
    release: () => release(),
    route: (page) => page.route('**/words.js', async (route) => {
      await gate;
      await route.continue();
    }),
  };
}

test('over http: the engine compiles while it downloads (application/wasm, gzip); the model comes as its gzip twin', async () => {
  const { context, page, errors, requests, responses } = await open(server.url, { init: countCompiles });
  await page.waitForFunction(() => window.stepwiseState?.ready === true, null, { timeout: 20000 });
  const seen = await page.evaluate(() => window.compileSeen);
  assert.deepEqual(seen, { streaming: 1, streamed: 1, fromBytes: 0 }, 'one streaming compilation, none from bytes');
  const wasm = responses.find((r) => r.url().endsWith('/stepwise.wasm'));
  assert.equal(wasm.headers()['content-type'], 'application/wasm');
  assert.equal(wasm.headers()['content-encoding'], 'gzip');
  const name = await page.$eval('meta[name="stepwise-model"]', (m) => m.content);
  assert.ok(requests.some((url) => url.endsWith(`/${name}.gz`)), 'the gzip twin was fetched');
  assert.ok(!requests.some((url) => url.endsWith(`/${name}`) || /\/(model|engine)\.js$/.test(url)), 'not the plain file, nor the scripts meant for file://');
  // the page works: a step gives a token
  await page.click('#step');
  assert.equal((await state(page)).steps, 1);
  assert.deepEqual(outside(requests, server.url), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('over http, a host that sends the .wasm as another type and refuses the gzip twin: compiled from the bytes, the plain model file', async () => {
  const route = async (page) => {
    await page.route('**/stepwise.wasm', async (r) => {
      const response = await r.fetch();
      await r.fulfill({ response, headers: { ...response.headers(), 'content-type': 'application/octet-stream' } });
    });
    await page.route('**/*.safetensors.gz', (r) => r.fulfill({ status: 404, body: 'not found' }));
  };
  const { context, page, errors, requests } = await open(server.url, { init: countCompiles, route });
  await page.waitForFunction(() => window.stepwiseState?.ready === true, null, { timeout: 20000 });
  const seen = await page.evaluate(() => window.compileSeen);
  assert.equal(seen.streamed, 0, 'the streaming compilation refused the type');
  assert.equal(seen.fromBytes, 1, 'compiled from the downloaded bytes instead');
  const name = await page.$eval('meta[name="stepwise-model"]', (m) => m.content);
  assert.ok(requests.some((url) => url.endsWith(`/${name}`)), 'the plain model file was fetched');
  assert.ok(!requests.some((url) => /\/(model|engine)\.js$/.test(url)));
  await page.click('#step');
  assert.equal((await state(page)).steps, 1);
  // (the browser reports the refused twin's 404 itself; nothing else)
  assert.deepEqual(errors.filter((e) => !/404/.test(e)), []);
  await context.close();
});

// Hosts differ in what they do with a .gz file: some send it with Content-Encoding: gzip (the browser
// inflates it), some answer a missing file with a page of their own and status 200.
for (const [host, twin, plainFetched] of [
  ['sends the twin with Content-Encoding: gzip', (body) => ({ body: gunzipSync(body), headers: { 'content-type': 'application/octet-stream' } }), false],
  ['answers the twin with a page of its own, status 200', () => ({ body: '<!doctype html><p>not here</p>', headers: { 'content-type': 'text/html' } }), true],
]) {
  test(`over http, a host that ${host}: the model is read all the same`, async () => {
    // (playwright hands the page the body as given, already "decoded": the first case is what the page
    // sees after the browser inflated a Content-Encoding: gzip response)
    const route = (page) => page.route('**/*.safetensors.gz', async (r) => {
      const response = await r.fetch();
      const { body, headers } = twin(await response.body());
      await r.fulfill({ status: 200, body, headers });
    });
    const { context, page, errors, requests } = await open(server.url, { route });
    await page.waitForFunction(() => window.stepwiseState?.ready === true, null, { timeout: 20000 });
    const name = await page.$eval('meta[name="stepwise-model"]', (m) => m.content);
    assert.equal(requests.some((url) => url.endsWith(`/${name}`)), plainFetched);
    await page.click('#step');
    const s = await state(page);
    assert.equal(s.steps, 1);
    assert.equal(s.message, null);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

for (const way of ['http', 'file://']) {
  test(`${way}: interactive before the held-out words arrive; Surprise me clicked meanwhile happens once they do`, async () => {
    const words = holdWords();
    const url = way === 'http' ? server.url : fileUrl();
    const { context, page, errors, requests } = await open(url, { route: words.route });
    await stepEnabled(page);
    let s = await state(page);
    assert.equal(s.wordsLoaded, false, 'words.js is held back');
    assert.equal(s.ready, false, 'not ready (nothing left to load) before it arrives');
    assert.equal(s.steps, 0, 'a word at step 0');
    // (asked for right after the frame that shows the page interactive: the request may reach us a moment later)
    for (let waited = 0; waited < 5000 && !requests.some((u) => u.endsWith('/words.js')); waited += 50) await page.waitForTimeout(50);
    assert.ok(requests.some((u) => u.endsWith('/words.js')), 'asked for once the page is interactive');
    // Step works meanwhile
    await page.click('#step');
    assert.equal((await state(page)).steps, 1);
    // Surprise me, clicked now, waits for the words
    const shown = (await state(page)).word;
    await page.click('#surprise');
    assert.equal((await state(page)).word, shown, 'no word yet');

    words.release();
    await page.waitForFunction(() => window.stepwiseState.ready === true, null, { timeout: 20000 });
    const dictionary = heldOut();
    s = await state(page);
    assert.equal(s.wordsLoaded, true);
    assert.ok(dictionary.has(s.word), `“${s.word}” is a held-out word`);
    assert.equal(s.steps, 0);
    assert.match(await page.textContent('#reference'), /Dictionary \(CMUdict, held out from training\): \S/);
    // and again, at once
    await page.click('#surprise');
    s = await state(page);
    assert.ok(dictionary.has(s.word));
    const folder = way === 'http' ? server.url : `${pathToFileURL(SITE).href}/`;
    assert.deepEqual(outside(requests, folder), []);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('a held-out word teacher-forced before the words arrive is fed the model\'s own output, then the dictionary\'s; a word typed cancels a pending surprise', async () => {
  const words = holdWords();
  const { context, page, errors } = await open(server.url, { route: words.route });
  await stepEnabled(page);
  const dictionary = heldOut();
  assert.deepEqual(dictionary.get('queue'), ['K Y UW1']);
  await page.click('#surprise');  // then a word typed: the learner's word wins
  await page.fill('#word', 'queue');
  await page.click('label[for="mode-teacher"]');
  let s = await state(page);
  assert.equal(s.wordsLoaded, false);
  assert.notEqual(s.teacher.fed, 'K Y UW1', 'the model\'s own output (the dictionary has not arrived)');
  words.release();
  await page.waitForFunction(() => window.stepwiseState.ready === true, null, { timeout: 20000 });
  s = await state(page);
  assert.equal(s.word, 'queue', 'the surprise asked for before the word was typed is dropped');
  assert.equal(s.teacher.fed, 'K Y UW1', 'the default reference chosen again: the dictionary\'s');
  assert.match(await page.textContent('#reference'), /Dictionary \(CMUdict, held out from training\): K Y UW1/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the built site: no words.js in index.html; the model\'s gzip twin next to it, the same bytes', () => {
  const html = readFileSync(path.join(SITE, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /<script[^>]*words\.js/);
  const name = html.match(/<meta name="stepwise-model" content="([^"]+)">/)[1];
  assert.match(html, new RegExp(`<meta name="stepwise-model-gzip" content="${name.replace(/\./g, '\\.')}\\.gz">`));
  const plain = readFileSync(path.join(SITE, name));
  const twin = readFileSync(path.join(SITE, `${name}.gz`));
  assert.ok(twin.length < plain.length);
  assert.ok(gunzipSync(twin).equals(plain));
});

// Records, at the moment Step is enabled (the first word drawn), what some panels hold (before the page's scripts).
function recordAtEnabled() {
  const watch = new MutationObserver(() => {
    const step = document.getElementById('step');
    if (!step || step.disabled || window.atEnabled) return;
    window.atEnabled = {
      diagram: document.querySelectorAll('#diagram *').length,
      thumbnails: document.querySelectorAll('#head-grid canvas').length,
      title: document.getElementById('view-title').textContent,
      kv: document.getElementById('kv-title').textContent,
    };
    watch.disconnect();
  });
  watch.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['disabled'] });
}

// Two idle periods of the page's, without reading window.stepwiseState (which draws whatever waits).
const idle = (page) => page.evaluate(() => new Promise((resolve) => requestIdleCallback(() => requestIdleCallback(resolve))));

test('start-up: the first word is drawn at once where it is seen, and in "Open the box" off screen once the browser is idle, as a page that shows it at once', async () => {
  const open = async (height) => {
    const context = await browser.newContext({ viewport: { width: 1280, height } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => ['error', 'warning'].includes(m.type()) && errors.push(m.text()));
    await page.addInitScript(recordAtEnabled);
    const words = holdWords();  // (their arrival draws every panel: only the wait for idle may, here)
    await words.route(page);
    await page.goto(server.url);
    await stepEnabled(page);
    await idle(page);
    const atEnabled = await page.evaluate(() => window.atEnabled);
    assert.equal(await page.evaluate(() => document.querySelectorAll('script[src="words.js"]').length), 1, 'words.js asked for, held back');
    return { context, page, errors, words, atEnabled };
  };
  const top = await open(800);    // Open the box below the fold
  const tall = await open(4000);  // everything in the window
  for (const { atEnabled } of [top, tall]) {
    assert.ok(atEnabled.diagram > 20, 'the decoder block drawn with Step enabled');
    assert.equal(atEnabled.thumbnails, 15, '3 layers × (4 heads + mean)');
    assert.equal(atEnabled.title, 'Masked self-attention · layer 3, mean of 4 heads');
  }
  assert.match(tall.atEnabled.kv, /^The KV cache · layer \d$/, 'on screen: drawn with the first word');
  // off screen, drawn when idle: the same as the page that drew it at once (read without stepwiseState)
  const box = (page) => page.$eval('#open-box', (node) => node.innerHTML);
  const [offScreen, onScreen] = [await box(top.page), await box(tall.page)];
  assert.equal(await top.page.textContent('#kv-title'), tall.atEnabled.kv);
  assert.ok(offScreen.includes('torch'), 'the code panel is drawn');
  assert.equal(offScreen, onScreen);
  for (const s of [top, tall]) {
    s.words.release();
    assert.equal((await state(s.page)).steps, 0);
    assert.deepEqual(s.errors, []);
    await s.context.close();
  }
});
