// The page under abuse: bad model files, over-long and pasted input, bad option values, rapid clicks on
// every control, switching models and modes mid-generation. Each time the page says clearly what was
// wrong, stays responsive, and the next normal use gives the native CLI's tokens.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  FIXTURES, exampleWords, launch, nativeGenerate, openPage, outside, siteModelFile, startServer, state, stepToEnd, typeWord,
} from './helpers.mjs';

let browser;
let server;
let session;
let builtinFile;

before(async () => {
  browser = await launch();
  server = await startServer();
  builtinFile = siteModelFile();
  session = await openPage(browser, server.url);
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Greedy, step-by-step, a word from the examples, decoded to the end: equal to the CLI for the model in use. */
async function normalUseWorks(page, modelFile = builtinFile) {
  await page.click('label[for="mode-steps"]');
  await page.click('label[for="strategy-greedy"]');
  const word = (await exampleWords(page))[0];
  await typeWord(page, word);
  assert.equal((await state(page)).message, null, 'a valid word clears the message');
  const s = await stepToEnd(page);
  assert.equal(s.output, nativeGenerate(modelFile, [word]).get(word));
}

async function responsive(page) {
  const started = Date.now();
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
  assert.ok(Date.now() - started < 2000, 'the page answers within 2 s');
}

async function messageText(page) {
  await page.waitForFunction(() => window.stepwiseState.message !== null, null, { timeout: 10000 });
  return (await state(page)).message;
}

test('bad model files: the engine\'s message, the model in use kept, the page working', async () => {
  const { page } = session;
  const real = readFileSync(builtinFile);
  const files = [
    [{ name: 'noise.safetensors', buffer: Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 97 + 13) % 256)) }, /noise\.safetensors: header length \d+ runs past the end|noise\.safetensors/],
    [{ name: 'empty.safetensors', buffer: Buffer.alloc(0) }, /empty\.safetensors: not a safetensors file: 0 bytes/],
    [{ name: 'cut.safetensors', buffer: real.subarray(0, 4000) }, /cut\.safetensors: /],
    [{ name: 'notes.txt', buffer: Buffer.from('these are not the weights you are looking for\n') }, /notes\.txt: /],
  ];
  const shipped = (await state(page)).models.length;  // the built-in model, and the second one when the site ships it
  for (const [file, pattern] of files) {
    await page.setInputFiles('#model-file', { ...file, mimeType: 'application/octet-stream' });
    const message = await messageText(page);
    assert.equal(message.kind, 'error');
    assert.match(message.text, /^Could not load that model\. /);
    assert.match(message.text, pattern);
    const s = await state(page);
    assert.equal(s.model.builtin, true, 'the built-in model stays in use');
    assert.deepEqual(s.models.length, shipped);
    await responsive(page);
    await normalUseWorks(page);
  }
});

test('over-long input, 10,000 pasted characters, unreadable characters, bad options: clear messages', async () => {
  const { page } = session;
  await typeWord(page, 'a'.repeat(200));
  assert.match((await messageText(page)).text, /the input is too long/);

  await page.fill('#word', '');
  await page.focus('#word');
  await page.keyboard.insertText('abcdefghij'.repeat(1000));  // one paste of 10,000 characters
  assert.equal((await state(page)).word.length, 10000);
  let message = await messageText(page);
  assert.match(message.text, /the input is too long: 10000 /);
  assert.ok(message.text.length < 300, 'the message does not echo the input');
  assert.equal(await page.$$eval('#letters .letter', (l) => l.length), 0);
  assert.equal(await page.$eval('#word', (w) => w.getAttribute('aria-invalid')), 'true');
  await responsive(page);

  const word = (await exampleWords(page))[0];
  await typeWord(page, `${word}ï`);
  assert.match((await messageText(page)).text, new RegExp(`'ï' \\(U\\+00EF\\) at position ${word.length + 1} is not in the model's vocabulary`));
  await typeWord(page, '');
  assert.equal((await state(page)).message, null, 'an empty box is not an error');

  await normalUseWorks(page);
  await page.click('label[for="strategy-sample"]');
  // each field within its own limits (index.html), the message naming the field, which is outlined; not the word
  for (const [id, value, pattern] of [['temperature', '0', /^temperature must be from 0\.05 to 5, not 0\.$/], ['temperature', '100', /^temperature must be from 0\.05 to 5, not 100\.$/],
    ['top-p', '2', /^top-p must be from 0\.05 to 1, not 2\.$/], ['top-k', '-3', /^top-k must be a whole number 0 or more, not -3\.$/],
    ['top-k', '2.5', /^top-k must be a whole number 0 or more, not 2\.5\.$/], ['seed', '', /^seed: enter a whole number 0 or more \(the field is empty\)\.$/]]) {
    const before = await page.inputValue(`#${id}`);
    await page.fill(`#${id}`, value);
    await page.press(`#${id}`, 'Enter');
    message = await messageText(page);
    assert.match(message.text, pattern);
    assert.equal(await page.getAttribute(`#${id}`, 'aria-invalid'), 'true');
    assert.equal(await page.getAttribute('#word', 'aria-invalid'), 'false');
    assert.match(await page.textContent('#letters'), /Nothing decoded: the message above says why/);
    assert.equal(await page.isDisabled('#step'), true);
    await page.fill(`#${id}`, before);
    await page.press(`#${id}`, 'Enter');
    assert.equal((await state(page)).message, null);
  }
  await page.click('label[for="mode-teacher"]');
  await page.fill('#target', 'XX YY');
  await page.press('#target', 'Enter');
  assert.match((await messageText(page)).text, /^reference: 'XX' at position 1 is not in the model's vocabulary/);
  assert.equal(await page.getAttribute('#target', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('#word', 'aria-invalid'), 'false');
  for (const [typed, hint] of [['k y uw1', /Phonemes are written in capitals: K\.$/], ['K UW1 </s>', /<\/s> is a special token, which the page places itself: type the phonemes only\.$/]]) {
    await page.fill('#target', typed);
    await page.press('#target', 'Enter');
    assert.match((await messageText(page)).text, hint);
  }
  await page.fill('#target', 'A '.repeat(5000));
  await page.press('#target', 'Enter');
  assert.ok((await messageText(page)).text.length < 400);
  await normalUseWorks(page);
});

test('rapid clicks on every control, keys held down: the page stays responsive and consistent', async () => {
  const { page } = session;
  await page.$eval('#speed', (s) => { s.value = '4'; });
  const controls = [
    '#step', '#play', '#run', '#reset', '#surprise', '#examples .chip >> nth=0', '#examples .chip >> nth=1',
    'label[for="strategy-greedy"]', 'label[for="strategy-sample"]', 'label[for="strategy-beam"]',
    'label[for="mode-steps"]', 'label[for="mode-teacher"]', '#causal-switch', '#tab-mask', '#tab-self', '#tab-cross',
    '#tab-encoder', '.thumb >> nth=0', '.thumb >> nth=3', '#output .token >> nth=1', '#main-map', '#speed',
  ];
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let clicks = 0;
  for (let round = 0; round < 260; round++) {
    const selector = controls[Math.floor(random() * controls.length)];
    const box = await page.locator(selector).boundingBox({ timeout: 50 }).catch(() => null);
    if (!box) continue;  // hidden right now (a panel of another mode)
    await page.mouse.click(box.x + box.width * (0.2 + 0.6 * random()), box.y + box.height / 2, { clickCount: 1 + Math.floor(random() * 2) });
    clicks++;
    if (round % 40 === 0) await responsive(page);
  }
  assert.ok(clicks > 150, `clicked ${clicks} times`);
  await page.evaluate(() => document.activeElement?.blur());
  for (let i = 0; i < 40; i++) await page.keyboard.press(['ArrowRight', ' ', 'Escape'][i % 3]);
  await responsive(page);
  const s = await state(page);
  if (s.causal !== false) {  // the clicks may have left teacher forcing on with the mask switched off
    for (const layer of s.selfAttention) for (const head of layer) head.forEach((row, i) => row.forEach((x, j) => j > i && assert.equal(x, 0)));
  }
  await normalUseWorks(page);
});

test('switching models and modes mid-generation', async () => {
  const { page } = session;
  const fixture = path.join(FIXTURES, 'postnorm_relu_sinusoidal.safetensors');
  await page.click('label[for="mode-steps"]');
  await page.$eval('#speed', (s) => { s.value = '0'; });  // slowest: the run is surely mid-way
  await typeWord(page, (await exampleWords(page))[2]);
  const shipped = (await state(page)).models.length;
  await page.click('#play');
  await page.waitForFunction(() => window.stepwiseState.steps >= 1);
  await page.setInputFiles('#model-file', fixture);
  await page.waitForFunction(() => window.stepwiseState.model?.builtin === false, null, { timeout: 10000 });
  let s = await state(page);
  assert.equal(s.playing, false);
  assert.equal(s.models.length, shipped + 1);
  assert.equal(s.message.kind, 'info');
  assert.match(s.message.text, /has characters this model does not read|^Loaded postnorm_relu_sinusoidal\.safetensors/);
  await normalUseWorks(page, fixture);

  // Back to the built-in model while playing.
  await page.$eval('#speed', (x) => { x.value = '1'; });
  await page.click('#reset');
  await page.click('#play');
  await page.selectOption('#model-select', { index: 0 });
  s = await state(page);
  assert.equal(s.model.builtin, true);
  assert.equal(s.playing, false);
  await normalUseWorks(page);

  // Modes and strategies while playing.
  await typeWord(page, (await exampleWords(page))[1]);
  await page.click('#play');
  await page.click('label[for="strategy-beam"]');
  s = await state(page);
  assert.equal(s.strategy, 'beam');
  await page.click('label[for="mode-teacher"]');
  s = await state(page);
  assert.equal(s.mode, 'teacher');
  assert.equal(s.playing, false);
  assert.equal(await page.isDisabled('#step'), true);
  await page.click('label[for="mode-steps"]');
  await page.click('label[for="strategy-sample"]');
  await page.$eval('#speed', (x) => { x.value = '4'; });
  await page.click('#play');
  await page.waitForFunction(() => window.stepwiseState.done, null, { timeout: 10000 });
  await normalUseWorks(page);
});

test('after all that: no console errors, no request outside the site\'s folder', async () => {
  const { errors, requests } = session;
  assert.deepEqual(errors, []);
  assert.deepEqual(outside(requests, server.url), []);
});
