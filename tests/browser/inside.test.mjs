// "Open the box" on the page: the numbers the new panels show (read from the DOM: the data-value of
// each cell) equal run.inside()'s for a real word (the same engine, run here in Node) and PyTorch's own
// intermediates for a fixture model loaded into the page (tests/fixtures/*.probe.json); the head's
// sub-steps walk by keyboard without stealing a focused control's keys; the diagram follows the model
// (post-norm Add & Norm, and no cross-attention for a decoder-only configuration); the engine's lines
// beside each box are the source's. Screenshots of each panel go to build/screenshots/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import * as Stepwise from '../../web/stepwise.js';
import { diagramParts, layerSlots } from '../../web/panels/diagram.js';
import { currentRegions, engineSourceScript } from '../../tools/engine_source.mjs';
import { FIXTURES, SCREENSHOTS, SITE, launch, openPage, siteModelFile, startServer, state, typeWord } from './helpers.mjs';

let browser;
let server;
let session;
let builtin;

before(async () => {
  browser = await launch();
  server = await startServer();
  builtin = await Stepwise.load(readFileSync(siteModelFile()));
  session = await openPage(browser, server.url, { width: 1440, height: 900 });
});

after(async () => {
  builtin?.dispose();
  await browser?.close();
  server?.close();
});

const values = (page, selector) => page.$$eval(selector, (cells) => cells.map((c) => Number(c.dataset.value)));

function close(actual, expected, what, tolerance = 1e-6) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) => {
    const a = actual[i];
    if (e === -Infinity || a === -Infinity) assert.equal(a, e, `${what}[${i}]`);
    else assert.ok(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  });
}

async function walkTo(page, stage) {
  await page.focus('#inside-head');
  for (let k = 0; k < 8; k++) await page.keyboard.press('[');
  for (let k = 0; k < stage; k++) await page.keyboard.press(']');
}

test('a real word, stepped: every number shown equals run.inside()\'s', async () => {
  const { page } = session;
  await page.click('label[for="mode-steps"]');
  await page.click('label[for="strategy-greedy"]');
  const word = 'phoenix';
  await typeWord(page, word);
  for (let k = 0; k < 3; k++) await page.click('#step');
  const c = builtin.config;
  const layer = 1;
  const head = 2;
  await page.selectOption('#open-layer', String(layer));
  await page.selectOption('#open-head', String(head));
  await walkTo(page, 7);

  const run = builtin.start(word, { probe: true });
  for (let k = 0; k < 3; k++) run.step();
  const t = run.inside({ layer, head }).tensors;
  const dk = c.d_model / c.n_heads;
  const part = (name) => Array.from(t[name].data.slice(head * dk, (head + 1) * dk));
  const all = (name) => Array.from(t[name].data);
  const stage = (id, cls) => `#inside-head-body section[data-stage="${id}"] .${cls}`;
  close(await values(page, stage('qk', 'strip.wide .cell')), part('self_attention.query'), 'q');
  close(await values(page, stage('raw', 'num')), all('self_attention.raw'), 'q·k');
  close(await values(page, stage('scaled', 'num')), all('self_attention.scaled'), 'scaled');
  close(await values(page, stage('weights', 'num')), all('self_attention.weights'), 'weights');
  // each number as the page writes it: rounded to 3 decimals, as its tooltip's value would round
  for (const [shown, value] of await page.$$eval(stage('weights', 'num'), (cells) => cells.map((c) => [c.textContent, Number(c.dataset.value)]))) {
    assert.equal(shown, value === 0 || Math.abs(value) < 0.001 ? shown : value.toFixed(3), `weight ${value} written ${shown}`);
  }
  close(await values(page, stage('context', 'strip.wide .cell')), part('self_attention.context'), 'head output');
  // Σ w_j v_j term by term: this head's columns of every cached value row, beside the weights
  const valueRows = t['cache.value'].shape[0];
  const valueSlice = Array.from({ length: valueRows }, (_, r) => Array.from(t['cache.value'].data.slice(r * c.d_model + head * dk, r * c.d_model + (head + 1) * dk))).flat();
  close(await values(page, '#inside-head-body section[data-stage="context"] .matrix-rows[data-name="v"] .cell'), valueSlice, 'V');
  close(await values(page, stage('concat', 'cell')), all('self_attention.context'), 'concat');
  close(await values(page, stage('output', 'cell')), all('self_block.output'), 'W_O');
  // the keys: this head's columns of the cache, one row per position
  const keys = await values(page, stage('qk', 'matrix-rows .cell'));
  const cache = t['cache.key'];
  const expected = [];
  for (let r = 0; r < cache.shape[0]; r++) expected.push(...cache.data.slice(r * c.d_model + head * dk, r * c.d_model + (head + 1) * dk));
  close(keys, expected, 'K');
  assert.match(await page.textContent(stage('scaled', 'stage-text')), new RegExp(`√${dk} = ${Math.sqrt(dk).toPrecision(4)}`));
  assert.match(await page.textContent('section[data-stage="mask"]'), /simply not there yet/);

  // the teacher-forced counterpart of the same row: −∞ over the later positions, the same weights before
  await page.click('#inside-counterpart');
  const mask = await values(page, 'section[data-stage="mask"] .numbers[data-name="counterpart mask"] .num');
  assert.ok(mask.includes(-Infinity), 'the counterpart row masks the future');
  assert.deepEqual(mask.slice(0, 3), [0, 0, 0]);
  await page.click('#inside-counterpart');

  // the residual stream: the feed-forward box of this layer (pre-norm: its input is ff_block.normed)
  await page.click('#stream-diagram [data-part="ffn"]');
  const vector = (name) => values(page, `#residual-body .vector[data-name="${name}"] .cell`);
  close(await vector(c.norm_first ? 'ff_block.normed' : 'stream in'), all(c.norm_first ? 'ff_block.normed' : 'cross_block.normed'), 'ffn in');
  close(await vector('ff_block.output'), all('ff_block.output'), 'ffn out');
  close(await vector('hidden'), all('hidden'), 'hidden');
  const active = all('hidden').filter((x) => x > 0).length;
  assert.equal(await page.getAttribute('#residual-body [data-active]', 'data-active'), String(active));
  await page.click('#stream-diagram [data-part="embed"]');
  close(await values(page, '#residual-body .vector[data-role="in"]:first-child .cell'), all('token_embedding'), 'token embedding');
  await page.click('#stream-diagram [data-part="next"]');
  const logit = Number(await page.getAttribute('#residual-body .logit [data-value]', 'data-value'));
  const steps = builtin.start(word);
  let last;
  for (let k = 0; k < 3; k++) last = steps.step();
  assert.equal(logit, last.logits[last.id]);
  steps.dispose();

  // the KV cache: this step's new rows
  const d = c.d_model;
  const p = cache.shape[0] - 1;
  const lt = run.inside({ layer, head: 0 }).tensors;
  close(await values(page, '#kv-new .vector[data-name="new-key"] .cell'), Array.from(lt['cache.key'].data.slice(p * d, (p + 1) * d)), 'new key');
  close(await values(page, '#kv-new .vector[data-name="new-value"] .cell'), Array.from(lt['cache.value'].data.slice(p * d, (p + 1) * d)), 'new value');
  // the cache matrices are pictures: what a screen reader reads of them is their size and whose rows they are
  const positions = (await state(page)).queries.slice(0, p + 1).join(', ');
  assert.equal(await page.getAttribute('#kv-key', 'aria-label'), `cache.key: ${p + 1} rows × ${d} numbers, one row per position (${positions})`);
  const costs = await page.$$eval('#kv-cost tr[data-position]', (rows) => rows.map((r) => [Number(r.dataset.cached), Number(r.dataset.recompute)]));
  assert.equal(costs.length, 3);
  assert.ok(costs[2][1] > costs[1][1] && costs[1][1] > costs[0][1], 'recomputing grows with the position');
  run.dispose();

  // Screenshots of the three panels, wide and narrow.
  await page.click('#stream-diagram [data-part="self"]');
  await walkTo(page, 4);
  for (const [width, height, suffix] of [[1440, 900, ''], [390, 844, '-390']]) {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(300);
    for (const [selector, name] of [['#inside-head', 'inside-head'], ['#residual-panel', 'residual-stream'], ['#kv-cache', 'kv-cache']]) {
      await (await page.$(selector)).screenshot({ path: path.join(SCREENSHOTS, `${name}${suffix}.png`) });
    }
  }
  await page.setViewportSize({ width: 1440, height: 900 });
});

test('the sub-steps walk by keyboard; a focused control keeps its keys', async () => {
  const { page } = session;
  await walkTo(page, 0);
  const stage = () => page.$eval('#inside-head .stage-pill[aria-current="true"]', (b) => b.dataset.stage);
  const before = (await state(page)).steps;
  assert.equal(await stage(), 'qk');
  await page.keyboard.press('ArrowRight');
  assert.equal(await stage(), 'raw');
  await page.keyboard.press(']');
  assert.equal(await stage(), 'scaled');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await stage(), 'raw');
  assert.equal((await state(page)).steps, before, 'the arrows walked the head, not the decoder');
  assert.equal(await page.$$eval('#inside-head-body section', (s) => s.length), 2);
  // a focused select keeps its arrow keys
  await page.focus('#open-head');
  await page.keyboard.press('ArrowRight');
  assert.equal(await stage(), 'raw');
  await page.click('#inside-head-stages button:last-child');  // the › button
  assert.equal(await stage(), 'scaled');
});

test('a fixture model loaded into the page: its numbers equal PyTorch\'s (probe fixture), post-norm drawn as Add & Norm', async () => {
  const { page } = session;
  const name = 'postnorm_relu_sinusoidal';
  const file = path.join(FIXTURES, `${name}.safetensors`);
  const fx = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.probe.json`), 'utf8'));
  const model = await Stepwise.load(readFileSync(file));
  const word = fx.source.map((id) => model.sourceTokens[id]).join('');
  const target = fx.target.slice(1).map((id) => model.targetTokens[id]).join(' ');
  model.dispose();
  await page.setInputFiles('#model-file', file);
  await page.waitForFunction(() => window.stepwiseState.model?.builtin === false, null, { timeout: 10000 });
  await typeWord(page, word);
  await page.click('label[for="mode-teacher"]');
  await page.fill('#target', target);
  await page.dispatchEvent('#target', 'change');
  const s = await state(page);
  assert.equal(s.mode, 'teacher');
  const row = s.selectedRow;
  assert.equal(row, fx.target.length - 1);
  const layer = 0;
  const head = 1;
  await page.selectOption('#open-layer', String(layer));
  await page.selectOption('#open-head', String(head));
  await walkTo(page, 7);
  const L = fx.layers[layer];
  const tolerance = 1e-5;
  const stage = (id, cls) => `#inside-head-body section[data-stage="${id}"] .${cls}`;
  close(await values(page, stage('raw', 'num')), L.self_attention.raw[head][row], 'q·k', tolerance);
  close(await values(page, stage('scaled', 'num')), L.self_attention.scaled[head][row], 'scaled', tolerance);
  close(await values(page, stage('weights', 'num')), L.self_attention.weights[head][row], 'weights', tolerance);
  close(await values(page, stage('output', 'cell')), L.self_block.output[row], 'self_block.output', tolerance);
  const maskShown = await values(page, 'section[data-stage="mask"] .numbers[data-name="mask"] .num');
  assert.deepEqual(maskShown, L.self_attention.mask[row].map((m) => (m ? -Infinity : 0)));

  // post-norm: LayerNorm 1 is an Add & Norm of stream + self-attention
  assert.equal(await page.textContent('#stream-diagram [data-part="norm1"]'), 'Add & Norm');
  await page.click('#stream-diagram [data-part="norm1"]');
  const vector = (role) => values(page, `#residual-body .vector[data-role="${role}"] .cell`);
  close(await vector('in'), L.self_block.sum[row], 'norm1 in', tolerance);
  close(await vector('out'), L.self_block.normed[row], 'norm1 out', tolerance);
  await page.click('#stream-diagram [data-part="final"]');
  close(await vector('out'), fx.final_normed[row], 'final_normed', tolerance);
  await page.click('label[for="mode-steps"]');
  await page.selectOption('#model-select', { index: 0 });
});

test('a decoder-only configuration: no cross-attention boxes', async () => {
  const model = await Stepwise.load(readFileSync(path.join(FIXTURES, 'decoder_only_prenorm_gelu.safetensors')));
  const c = model.config;
  model.dispose();
  assert.equal(c.architecture, 'decoder-only');
  const parts = diagramParts(c);
  assert.ok(!parts.includes('cross') && !parts.includes('norm3'), parts.join(' '));
  assert.deepEqual(layerSlots(c).map(([p]) => p), ['ffn', 'norm2', 'self', 'norm1']);
  assert.deepEqual(diagramParts(builtin.config).filter((p) => p === 'cross'), ['cross']);
});

test('the engine\'s lines beside each box are the source\'s, as the site was built', async () => {
  const { page } = session;
  const built = readFileSync(path.join(SITE, 'engine_source.js'), 'utf8');
  const regions = currentRegions();
  assert.equal(built, engineSourceScript(regions), 'site/engine_source.js is stale or drifted: rebuild with node tools/build_site.mjs');
  for (const name of ['embed', 'self-attention', 'cross-attention', 'feed-forward', 'attend', 'residual', 'layer-norm', 'final-norm', 'output']) {
    assert.ok(regions.regions[name]?.lines.length > 0, `region ${name} is marked in the source`);
  }
  await page.click('#stream-diagram [data-part="self"]');
  const shown = await page.$$eval('#code-engine .code-region[data-region="self-attention"] .code-line', (lines) => lines.map((l) => [Number(l.dataset.line), l.textContent]));
  const source = readFileSync(path.join(path.dirname(SITE), 'src/engine/transformer.cpp'), 'utf8').split('\n');
  assert.ok(shown.length > 5);
  for (const [line, text] of shown) assert.equal(source[line - 1].trim(), text.trim(), `transformer.cpp:${line}`);
  const torch = await page.textContent('#code-torch');
  const c = builtin.config;
  assert.ok(torch.includes(`d_model=${c.d_model}, nhead=${c.n_heads}, dim_feedforward=${c.d_ff}`), torch);
  assert.ok(torch.includes(`norm_first=${c.norm_first ? 'True' : 'False'}`));
  assert.ok(torch.includes('generate_square_subsequent_mask'));
});

test('beam search: the panels say there is no probe for it; no console errors', async () => {
  const { page, errors } = session;
  await page.click('label[for="strategy-beam"]');
  assert.match(await page.textContent('#inside-head-note'), /no probe/);
  await page.click('label[for="strategy-greedy"]');
  assert.deepEqual(errors, []);
});
