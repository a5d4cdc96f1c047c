// Keyboard, screen readers, phones. axe-core (npm, injected into the page) finds no serious or critical
// violation on any view: every tab, the mask drawn either way, before the first step, teacher forcing
// with and without the mask, sampling, beam search, "Open the box" walked to its last sub-step and its
// boxes, a phone screen, a decoder-only model. The page's shortcuts never take a key from a focused
// control; the view tabs are a WAI-ARIA tab list; each step is said in a live region; the enlarged heatmap
// has a table with the same weights; on a phone the step controls stay on screen by the heatmap, the tabs
// scroll and the diagram is whole. Screenshots go to build/screenshots/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { FIXTURES, ROOT, baseline, exampleWords, launch, openPage, screenshot, startServer, state, typeWord } from './helpers.mjs';

// Evaluated in the page rather than added as a <script>: the page's Content-Security-Policy refuses
// inline scripts, and it stays enforced here.
const AXE = readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

let browser;
let server;
let session;  // { page, errors }

before(async () => {
  browser = await launch();
  server = await startServer();
  session = await openPage(browser, server.url, { width: 1440, height: 900 });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** axe's serious and critical violations on the page as it is now, printed one per line. */
async function seriousViolations(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
    }));
  });
  return violations.map((v) => `${v.impact} ${v.id} (${v.help})\n    ${v.nodes.join('\n    ')}`);
}

async function assertAccessible(page, view) {
  const found = await seriousViolations(page);
  assert.deepEqual(found, [], `${view}:\n${found.join('\n')}`);
}

const reset = async (page) => {
  await page.click('#reset');
  await page.evaluate(() => document.activeElement?.blur());
};

test('axe-core: no serious or critical violation on any view (1440 × 900)', async () => {
  const { page, errors } = session;
  await baseline(page);
  await assertAccessible(page, 'greedy, decoded to the end, masked self-attention');
  for (const view of ['mask', 'cross', 'encoder']) {
    await page.click(`#tab-${view}`);
    await assertAccessible(page, `the ${view} tab`);
  }
  await page.click('#tab-mask');
  await page.click('label[for="mask-order-key-query"]');
  await assertAccessible(page, 'the mask drawn [key, query]');
  await page.click('label[for="mask-order-query-key"]');
  await page.click('#tab-self');
  await reset(page);
  await assertAccessible(page, 'before the first step');
  await page.click('#step');
  await page.focus('#inside-head');
  for (let k = 0; k < 8; k++) await page.keyboard.press(']');
  await assertAccessible(page, 'Open the box: the last sub-step');
  for (let k = 0; k < 4; k++) await page.keyboard.press('[');
  await page.click('#inside-counterpart');
  await assertAccessible(page, 'Open the box: the teacher-forced counterpart');
  for (const part of ['ffn', 'cross', 'embed', 'next']) {
    await page.click(`#stream-diagram [data-part="${part}"]`);
    await assertAccessible(page, `Open the box: the ${part} box`);
  }
  await page.click('#inside-head-kind [data-kind="cross"]');
  await assertAccessible(page, 'Open the box: a cross-attention head');
  await page.click('label[for="mode-teacher"]');
  await assertAccessible(page, 'teacher forcing');
  await page.click('#causal-switch');
  await assertAccessible(page, 'teacher forcing without the causal mask');
  await page.click('#causal-switch');
  await page.click('label[for="mode-steps"]');
  await page.click('label[for="strategy-sample"]');
  await assertAccessible(page, 'sampling');
  await page.click('label[for="strategy-beam"]');
  await assertAccessible(page, 'beam search');
  await baseline(page);
  assert.deepEqual(errors, []);
});

test('a focused control keeps its keys; on the page, → steps and Space plays', async () => {
  const { page } = session;
  await baseline(page);
  await typeWord(page, (await exampleWords(page))[0]);
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('ArrowRight');
  let s = await state(page);
  assert.equal(s.steps, 1, '→ on the page steps');
  // Space on a focused button presses that button, and does not play.
  await page.focus('#step');
  await page.keyboard.press(' ');
  s = await state(page);
  assert.equal(s.steps, 2, 'Space pressed the focused Step button');
  assert.equal(s.playing, false, 'Space on a button did not start playing');
  await page.focus('#output button.token >> nth=0');
  await page.keyboard.press(' ');
  s = await state(page);
  assert.equal(s.selectedRow, 0, 'Space pressed the focused token: its row is shown');
  assert.equal(s.playing, false);
  assert.equal(s.steps, 2);
  // The arrow keys move a focused range and a focused radio group, not the decoder.
  const speed = await page.$eval('#speed', (r) => Number(r.value));
  await page.focus('#speed');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.$eval('#speed', (r) => Number(r.value)), Math.min(4, speed + 1));
  await page.focus('#strategy-greedy');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.$eval('#strategy-sample', (r) => r.checked), true, '→ moved the radio group');
  s = await state(page);
  assert.equal(s.steps, 2, 'the arrows on the range and the radios did not step');
  await page.$eval('#speed', (r, v) => { r.value = String(v); }, speed);
  await baseline(page);
  // Space on the page itself plays.
  await page.evaluate(() => document.activeElement.blur());
  await page.click('#reset');
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press(' ');
  assert.equal((await state(page)).playing, true, 'Space on the page plays');
  await page.keyboard.press(' ');
  assert.equal((await state(page)).playing, false, 'and pauses');
});

test('the view tabs are a tab list: roles, one tab in the Tab order, ← → Home End', async () => {
  const { page } = session;
  await baseline(page);
  await page.click('#tab-self');
  const tabs = () => page.$$eval('#view-tabs [role="tab"]', (all) => all.map((t) => ({
    id: t.id, selected: t.getAttribute('aria-selected'), tabindex: t.getAttribute('tabindex'), controls: t.getAttribute('aria-controls'),
  })));
  assert.equal(await page.$eval('#view-tabs', (t) => t.getAttribute('role')), 'tablist');
  const panel = await page.$eval('#view-panel', (p) => ({ role: p.getAttribute('role'), labelledby: p.getAttribute('aria-labelledby') }));
  assert.deepEqual(panel, { role: 'tabpanel', labelledby: 'tab-self' });
  let all = await tabs();
  assert.deepEqual(all.map((t) => t.id), ['tab-mask', 'tab-self', 'tab-cross', 'tab-encoder']);
  for (const t of all) {
    assert.equal(t.controls, 'view-panel');
    assert.equal(t.selected, String(t.id === 'tab-self'));
    assert.equal(t.tabindex, t.id === 'tab-self' ? '0' : '-1', `${t.id}: only the selected tab is in the Tab order`);
  }
  const steps = (await state(page)).steps;
  const focused = () => page.evaluate(() => document.activeElement.id);
  await page.focus('#tab-self');
  await page.keyboard.press('ArrowRight');
  assert.equal(await focused(), 'tab-cross');
  assert.equal((await state(page)).view, 'cross');
  await page.keyboard.press('End');
  assert.equal(await focused(), 'tab-encoder');
  assert.equal((await state(page)).view, 'encoder');
  await page.keyboard.press('ArrowRight');  // wraps around
  assert.equal(await focused(), 'tab-mask');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await focused(), 'tab-encoder');
  await page.keyboard.press('Home');
  assert.equal(await focused(), 'tab-mask');
  assert.equal((await state(page)).view, 'mask');
  all = await tabs();
  assert.deepEqual(all.filter((t) => t.tabindex === '0').map((t) => t.id), ['tab-mask']);
  assert.equal(await page.$eval('#view-panel', (p) => p.getAttribute('aria-labelledby')), 'tab-mask');
  // Tab leaves the tab list for the panel instead of walking the other tabs.
  await page.keyboard.press('Tab');
  assert.ok(!(await focused()).startsWith('tab-'), `Tab went to ${await focused()}`);
  assert.equal((await state(page)).steps, steps, 'the arrows on the tabs did not step the decoder');
  await page.click('#tab-self');
});

test('each step is said in a polite live region, and the end of the word', async () => {
  const { page } = session;
  await baseline(page);
  await typeWord(page, (await exampleWords(page))[1]);
  const region = await page.$eval('#announcer', (r) => ({ role: r.getAttribute('role'), live: r.getAttribute('aria-live'), text: r.textContent }));
  assert.equal(region.role, 'status');
  assert.equal(region.live, 'polite');
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('ArrowRight');
  let s = await state(page);
  const p = Number(await page.$eval('#distribution .bar-row.chosen', (row) => row.dataset.p));
  const said = () => page.$eval('#announcer', (r) => r.textContent);
  assert.equal(await said(), `Step 1: ${s.produced[0]}, p = ${p.toFixed(2)}.`);
  await page.keyboard.press('ArrowRight');
  s = await state(page);
  assert.match(await said(), new RegExp(`^Step 2: ${s.produced[1]}, p = \\d\\.\\d\\d\\.$`));
  await page.click('#run');
  s = await state(page);
  assert.ok(s.done);
  assert.equal(await said(), `Ran ${s.steps - 2} steps, to step ${s.steps}. Done after ${s.steps} steps: ${s.output}.`);
  // A reset says nothing new (no step was taken).
  await page.click('#reset');
  assert.equal(await said(), `Ran ${s.steps - 2} steps, to step ${s.steps}. Done after ${s.steps} steps: ${s.output}.`);
});

test('the enlarged heatmap has a table with the same weights, kept in step', async () => {
  const { page } = session;
  await baseline(page);
  await typeWord(page, (await exampleWords(page))[0]);
  await page.click('#tab-self');
  await page.evaluate(() => document.activeElement.blur());
  for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowRight');
  await page.click('.thumb[aria-label="layer 2, head 3"]');
  assert.equal(await page.$eval('#main-map', (c) => c.getAttribute('aria-hidden')), 'true', 'the canvas is hidden from screen readers');
  const table = () => page.$eval('#main-map-table', (t) => ({
    caption: t.caption?.textContent ?? '',
    cols: [...t.tHead.rows[0].querySelectorAll('th')].map((th) => [th.scope, th.textContent]),
    rows: [...t.tBodies[0].rows].map((tr) => ({ head: tr.cells[0].textContent, scope: tr.cells[0].scope, cells: [...tr.cells].slice(1).map((td) => td.textContent) })),
    srOnly: t.parentElement.classList.contains('sr-only') && t.parentElement.getBoundingClientRect().width <= 1,
  }));
  // (the table is built when the browser is idle, after the step is painted)
  const built = (title, n) => page.waitForFunction(([caption, rows]) => {
    const t = document.querySelector('#main-map-table');
    return t.caption?.textContent.startsWith(`${caption}.`) && t.tBodies[0].rows.length === rows;
  }, [title, n]);
  const check = async (label) => {
    const s = await state(page);
    await built(await page.textContent('#view-title'), s.drawn.rows.length);
    const t = await table();
    assert.ok(t.srOnly, `${label}: the table is visually hidden`);
    assert.equal(t.caption, `${await page.textContent('#view-title')}. Rows: query; columns: key; attention weights to two decimals.`);
    assert.deepEqual(t.cols, s.drawn.colLabels.map((token, j) => ['col', `${token} (key ${j})`]));
    assert.equal(t.rows.length, s.drawn.rows.length, `${label}: one row per query`);
    t.rows.forEach((row, i) => {
      assert.equal(row.scope, 'row');
      assert.ok(row.head.startsWith(`${s.drawn.rowLabels[i]} (query ${i}, next ${s.produced[i]})`), row.head);
      row.cells.forEach((text, j) => {
        const w = s.drawn.rows[i][j];
        if (j > i) assert.equal(text, 'masked', `${label} [${i}][${j}]`);
        else assert.equal(text, w.toFixed(2), `${label} [${i}][${j}]: the table says ${text}, the weight is ${w}`);
      });
    });
    // The matrix drawn is the head chosen: its rows equal the trace's weights for layer 2, head 3.
    assert.deepEqual(s.drawn.rows, s.selfAttention[1][2]);
  };
  await check('three steps');
  await page.keyboard.press('ArrowRight');
  await check('one more step');
  // The mask's table reads 0 and −∞.
  await page.click('#tab-mask');
  const n = (await state(page)).queries.length;
  await built(await page.textContent('#view-title'), n);
  const mask = await table();
  assert.equal(mask.rows.length, n);
  mask.rows.forEach((row, i) => row.cells.forEach((text, j) => assert.equal(text, j > i ? '−∞' : '0')));
  await page.click('#tab-self');
});

test('on a phone: the step controls stay by the heatmap, the tabs scroll, the diagram is whole', async () => {
  const phone = await openPage(browser, server.url, { width: 390, height: 844 });
  const { page } = phone;
  await page.click('#reset');
  await page.click('#step');
  await page.$eval('#map-wrap', (c) => c.scrollIntoView({ block: 'start' }));
  await page.click('#step');
  await page.click('#step');
  const s = await state(page);
  assert.equal(s.steps, 3, 'Step was pressed twice more with the heatmap on screen');
  const geometry = await page.evaluate(() => {
    const box = (sel) => document.querySelector(sel).getBoundingClientRect().toJSON();
    return { step: box('#step'), map: box('#main-map'), card: box('.decoder-card'), viewport: [innerWidth, innerHeight] };
  });
  const [width, height] = geometry.viewport;
  assert.ok(geometry.card.bottom < 0, `scrolled past the decoder card, where the controls sit on a wide screen: ${JSON.stringify(geometry.card)}`);
  assert.ok(geometry.step.top >= 0 && geometry.step.bottom <= height && geometry.step.right <= width, `Step is on screen: ${JSON.stringify(geometry.step)}`);
  assert.ok(geometry.map.bottom > 0 && geometry.map.top < geometry.step.top, 'with the heatmap above it');
  await screenshot(page, 'phone-step-by-heatmap');
  await assertAccessible(page, 'phone, stepping by the heatmap');

  // The tabs scroll sideways; the last one, focused, comes fully into view.
  const tabs = await page.$eval('#view-tabs', (t) => ({ scroll: t.scrollWidth, client: t.clientWidth, overflow: getComputedStyle(t).overflowX }));
  assert.ok(tabs.scroll > tabs.client, 'the tabs are wider than the phone');
  assert.equal(tabs.overflow, 'auto');
  await page.focus('#tab-self');
  await page.keyboard.press('End');
  const inView = await page.evaluate(() => {
    const list = document.querySelector('#view-tabs').getBoundingClientRect();
    const tab = document.querySelector('#tab-encoder').getBoundingClientRect();
    return tab.left >= list.left - 0.5 && tab.right <= list.right + 0.5;
  });
  assert.ok(inView, 'the last tab scrolled into view');
  assert.equal((await state(page)).view, 'encoder');
  await assertAccessible(page, 'phone, the encoder tab');
  await page.click('#tab-self');

  // The diagram: inside the screen's width, and on screen when scrolled to, above the step controls.
  for (const id of ['diagram', 'stream-diagram']) {
    await page.$eval(`#${id}`, (d) => d.scrollIntoView({ block: 'center' }));
    const reach = await page.evaluate((sel) => {
      const d = document.querySelector(sel).getBoundingClientRect();
      const bar = document.querySelector('#step').getBoundingClientRect();
      const hit = document.elementFromPoint(d.left + d.width / 2, d.top + d.height / 2);
      return { left: d.left, right: d.right, top: d.top, bottom: d.bottom, width: d.width, barTop: bar.top, own: Boolean(hit?.closest(sel)) };
    }, `#${id}`);
    assert.ok(reach.left >= 0 && reach.right <= width, `#${id} fits the width: ${JSON.stringify(reach)}`);
    assert.ok(reach.width >= 200, `#${id} is not squeezed: ${reach.width}px`);
    assert.ok(reach.top >= 0 && reach.own, `#${id} is on screen, not under the controls: ${JSON.stringify(reach)}`);
  }
  await screenshot(page, 'phone-diagram');
  assert.deepEqual(phone.errors, []);
  await phone.context.close();
});

test('a decoder-only model: no serious or critical violation', async () => {
  const { page, errors } = session;
  await page.setInputFiles('#model-file', path.join(FIXTURES, 'decoder_only_prenorm_gelu.safetensors'));
  await page.waitForFunction(() => window.stepwiseState.model?.builtin === false && window.stepwiseState.ready, null, { timeout: 20000 });
  assert.deepEqual(await page.$$eval('#view-tabs [role="tab"]:not([hidden])', (t) => t.map((x) => x.id)), ['tab-mask', 'tab-self']);
  await assertAccessible(page, 'a decoder-only model');
  await page.click('#tab-mask');
  await assertAccessible(page, 'a decoder-only model, the mask');
  assert.deepEqual(errors, []);
});
