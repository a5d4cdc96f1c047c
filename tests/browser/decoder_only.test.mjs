// A decoder-only (GPT-style) model on the page: loaded through "Load model…", one sequence (<s>, the
// prompt, what it writes), the tokens the native CLI writes, masked self-attention over every position
// (rows sum to 1, nothing above the diagonal), no cross-attention anywhere, the inside-one-head numbers
// equal run.inside()'s, and a G2P-style decoder-only model with a separator (made here from the fixture)
// reading a typed word as its letters then <sep>. A screenshot goes to build/screenshots/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';
import { FIXTURES, launch, nativeGenerate, openPage, screenshot, startServer, state, stepToEnd, typeWord } from './helpers.mjs';

const FIXTURE = path.join(FIXTURES, 'decoder_only_prenorm_gelu.safetensors');
let browser;
let server;
let session;

before(async () => {
  browser = await launch();
  server = await startServer();
  session = await openPage(browser, server.url, { width: 1440, height: 900 });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function loadFile(page, name, buffer) {
  await page.setInputFiles('#model-file', { name, mimeType: 'application/octet-stream', buffer });
  await page.waitForFunction((n) => window.stepwiseState.model?.name === n && window.stepwiseState.ready, name, { timeout: 20000 });
}

/** The fixture with a G2P vocabulary and a separator, as tests/test_tokenizer.cpp makes it. */
function withSeparator(bytes) {
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'));
  const config = JSON.parse(header.__metadata__.stepwise);
  config.target_vocab.tokens = ['<pad>', '<s>', '</s>', '<sep>', 'a', 'b', 'c', "'", 'AY1', 'B'];
  config.target_vocab.sep = '<sep>';
  config.name = 'decoder_only_sep';
  header.__metadata__.stepwise = JSON.stringify(config);
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);  // keep the data aligned
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([size, json, bytes.subarray(8 + length)]);
}

const values = (page, selector) => page.$$eval(selector, (cells) => cells.map((c) => Number(c.dataset.value)));

function close(actual, expected, what, tolerance = 1e-6) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= tolerance * Math.max(1, Math.abs(e)), `${what}[${i}]: ${actual[i]} vs ${e}`));
}

test('the decoder-only fixture: loaded, stepped to the end as the CLI writes it, masked self-attention over every position, no cross-attention', async () => {
  const { page, errors } = session;
  await page.click('label[for="mode-steps"]');
  await page.click('label[for="strategy-greedy"]');
  await loadFile(page, 'gpt.safetensors', readFileSync(FIXTURE));
  let s = await state(page);
  assert.equal(s.message?.kind, 'info', JSON.stringify(s.message));
  await typeWord(page, 'A B');
  s = await stepToEnd(page);
  const expected = nativeGenerate(FIXTURE, ['A B']).get('A B');
  assert.equal(s.output, expected);
  assert.deepEqual(s.input, ['A', 'B']);
  assert.equal(s.promptRows, 2);
  // The page's own words follow the model: no "encoder-decoder", no cross-attention promised
  const lede = await page.$eval('#lede-text', (p) => p.textContent);
  assert.match(lede, /decoder-only \(GPT-style\) Transformer .* continues your prompt/);
  assert.match(lede, /no encoder and no cross-attention/);
  assert.doesNotMatch(lede, /encoder–decoder|your letters \(cross-attention\)/);
  assert.deepEqual(await page.$$eval('#word-label, #output-label', (l) => l.map((x) => x.textContent)), ['Prompt', 'Output']);
  assert.deepEqual(s.queries.slice(0, 3), ['<s>', 'A', 'B']);
  assert.deepEqual(s.produced.slice(0, 2), ['A', 'B']);
  const written = s.produced.slice(2).filter((t) => t !== '</s>');
  assert.equal(written.join(' '), expected);
  const n = s.queries.length;
  for (const layer of s.selfAttention) {
    for (const rows of layer) {
      assert.equal(rows.length, n);
      rows.forEach((row, i) => {
        assert.equal(row.length, n);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4, `row ${i} sums to 1`);
        for (let j = i + 1; j < n; j++) assert.equal(row[j], 0, `row ${i}, key ${j}`);
      });
    }
  }
  assert.deepEqual(s.crossAttention, []);
  assert.deepEqual(s.drawn.rowLabels, s.queries);
  assert.deepEqual(s.drawn.colLabels, s.queries);
  assert.equal(await page.isHidden('#tab-cross'), true);
  assert.equal(await page.isHidden('#tab-encoder'), true);
  assert.equal(await page.$('#diagram [data-part="cross"]'), null);
  assert.equal(await page.$('#diagram [data-part="encoder"]'), null);
  assert.equal(await page.$('#stream-diagram [data-part="cross"]'), null);
  assert.match(await page.textContent('#letters-caption'), /no encoder: it reads its input through masked self-attention/);
  await page.click('#tab-mask');
  s = await state(page);
  assert.equal(s.drawn.rows.length, n);
  await page.click('#tab-self');
  const file = await screenshot(page, 'decoder-only-1440');
  assert.ok(file);
  assert.deepEqual(errors, []);
});

test('inside one head of the decoder-only fixture: the numbers shown equal run.inside()\'s, the values of Σ w_j v_j included', async () => {
  const { page, errors } = session;
  await typeWord(page, 'A B');
  for (let k = 0; k < 3; k++) await page.click('#step');
  const layer = 1;
  const head = 2;
  await page.selectOption('#open-layer', String(layer));
  await page.selectOption('#open-head', String(head));
  await page.focus('#inside-head');
  for (let k = 0; k < 8; k++) await page.keyboard.press('[');
  for (let k = 0; k < 7; k++) await page.keyboard.press(']');

  const model = await Stepwise.load(readFileSync(FIXTURE));
  const run = model.start('A B', { probe: true });
  for (let k = 0; k < 3; k++) run.step();
  const t = run.inside({ layer, head }).tensors;
  const dk = model.config.d_model / model.config.n_heads;
  const d = model.config.d_model;
  const part = (name) => Array.from(t[name].data.slice(head * dk, (head + 1) * dk));
  const all = (name) => Array.from(t[name].data);
  const stage = (id, cls) => `#inside-head-body section[data-stage="${id}"] .${cls}`;
  close(await values(page, stage('qk', 'strip.wide .cell')), part('self_attention.query'), 'q');
  close(await values(page, stage('raw', 'num')), all('self_attention.raw'), 'q·k');
  close(await values(page, stage('scaled', 'num')), all('self_attention.scaled'), 'scaled');
  close(await values(page, stage('weights', 'num')), all('self_attention.weights'), 'weights');
  const rows = t['cache.value'].shape[0];
  const slice = (name) => Array.from({ length: rows }, (_, r) => Array.from(t[name].data.slice(r * d + head * dk, r * d + (head + 1) * dk))).flat();
  close(await values(page, '#inside-head-body section[data-stage="qk"] .matrix-rows[data-name="k"] .cell'), slice('cache.key'), 'K');
  close(await values(page, '#inside-head-body section[data-stage="context"] .matrix-rows[data-name="v"] .cell'), slice('cache.value'), 'V');
  close(await values(page, '#inside-head-body section[data-stage="context"] .num'), all('self_attention.weights'), 'w beside V');
  close(await values(page, stage('context', 'strip.wide .cell')), part('self_attention.context'), 'context');
  assert.equal(await page.isHidden('#inside-head-kind [data-kind="cross"]'), true);
  run.dispose();
  model.dispose();
  assert.deepEqual(errors, []);
});

test('a G2P decoder-only model with a separator: "cab" reads as c a b <sep>, positions of the one sequence', async () => {
  const { page, errors } = session;
  await loadFile(page, 'g2p-gpt.safetensors', withSeparator(readFileSync(FIXTURE)));
  await typeWord(page, 'cab');
  await page.click('#step');
  let s = await state(page);
  assert.equal(s.message, null, JSON.stringify(s.message));
  assert.deepEqual(s.input, ['c', 'a', 'b', '<sep>']);
  assert.match(await page.$eval('#lede-text', (p) => p.textContent), /reads your word's letters and a separator/);
  assert.deepEqual(await page.$$eval('#word-label, #output-label', (l) => l.map((x) => x.textContent)), ['Word', 'Sequence']);
  assert.deepEqual(s.queries, ['<s>', 'c', 'a', 'b', '<sep>']);
  assert.deepEqual(await page.$$eval('#letters .letter', (tiles) => tiles.map((t) => t.textContent)), ['c', 'a', 'b', '<sep>']);
  s = await stepToEnd(page);
  assert.deepEqual(s.drawn.colLabels.slice(0, 5), ['<s>', 'c', 'a', 'b', '<sep>']);
  assert.equal(s.selfAttention[0][0].length, s.queries.length);
  await page.click('label[for="mode-teacher"]');
  // (the untrained model's own output runs to the length limit: too long to feed back with the prompt)
  await page.fill('#target', 'AY1 B');
  await page.dispatchEvent('#target', 'change');
  s = await state(page);
  assert.equal(s.mode, 'teacher');
  assert.equal(s.message, null, JSON.stringify([s.message, s.output]));
  assert.deepEqual(s.queries, ['<s>', 'c', 'a', 'b', '<sep>', 'AY1', 'B']);
  assert.equal(s.teacher.target, 'AY1 B');
  await page.fill('#target', '');
  await page.dispatchEvent('#target', 'change');
  await page.click('label[for="mode-steps"]');
  await page.selectOption('#model-select', { index: 0 });
  assert.deepEqual(errors, []);
});
