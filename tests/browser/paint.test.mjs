// A step redraws only what it changed (issue 10 §7): the panels patched step after step, and the canvases
// drawn on backing stores kept from earlier steps, show exactly what a page brought straight to the same
// state shows (the same nodes, attributes and texts; the same pixels on every canvas). And the status line
// names the engine's time and the paint's, honestly. No timed assertion here: the speed is measured by
// tools/bench/paint.mjs (node tools/bench/run.mjs --only paint).
// Run: node --test tests/browser/paint.test.mjs   (after node tools/build_site.mjs)
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { openPage, state, typeWord, withBrowser } from './helpers.mjs';

let browser;
let server;
withBrowser((b, s) => {
  browser = b;
  server = s;
});

const PANELS = ['#residual-body', '#inside-head-body', '#kv-new', '#kv-cost', '#kv-matrices figcaption', '#output', '#letters', '#distribution', '#head-grid'];
const CANVASES = ['#main-map', '#kv-key', '#kv-value', '#kv-cross-key', '#kv-cross-value', '#head-grid canvas'];

// What the page shows: the panels' markup, and each canvas's pixels in the part the page shows (a canvas
// may keep a taller backing store than it shows: web/canvas.js), with the size it is shown at. Read once
// the frame after the last step is painted: a step draws the big panels that are off screen right after
// that frame (web/offscreen.js).
function drawn(page) {
  return page.evaluate(async ({ panels, canvases }) => {
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 0))));
    const markup = Object.fromEntries(panels.map((s) => [s, [...document.querySelectorAll(s)].map((n) => n.innerHTML).join('\n')]));
    const pixels = {};
    for (const selector of canvases) {
      pixels[selector] = [...document.querySelectorAll(selector)].map((canvas) => {
        const dpr = canvas.width / parseFloat(canvas.style.width || canvas.width);
        const w = canvas.width;
        const h = Math.round(parseFloat(canvas.style.height || canvas.height) * dpr);
        const copy = document.createElement('canvas');
        copy.width = w;
        copy.height = h;
        copy.getContext('2d').drawImage(canvas, 0, 0, w, h, 0, 0, w, h);
        return { shown: `${canvas.style.width} x ${canvas.style.height}`, hidden: canvas.hidden, data: copy.toDataURL() };
      });
    }
    return { markup, pixels };
  }, { panels: PANELS, canvases: CANVASES });
}

async function openControls(page, { layer, head, box, stage }) {
  await page.selectOption('#open-layer', String(layer));
  await page.selectOption('#open-head', String(head));
  await page.click(`#stream-diagram [data-part="${box}"]`);
  await page.click(`#inside-head .stage-pill[data-stage="${stage}"]`);
}

async function step(page, n) {
  for (let i = 0; i < n; i++) await page.click('#step');
}

test('panels patched step by step show what a fresh page shows for the same state', async () => {
  const word = 'internationalization';
  // Page A: steps, changes what it looks at, steps again (the panels change structure on the way: another
  // box, another stage, more rows), then comes back to the same settings as page B.
  const a = await openPage(browser, server.url);
  await typeWord(a.page, word);
  await step(a.page, 3);
  await openControls(a.page, { layer: 0, head: 1, box: 'ffn', stage: 'context' });
  await step(a.page, 4);
  await openControls(a.page, { layer: 1, head: 3, box: 'embed', stage: 'qk' });
  await step(a.page, 2);
  await a.page.click('#view-tabs [role="tab"]:nth-child(3)');  // cross-attention, then back
  await a.page.click('#view-tabs [role="tab"]:nth-child(2)');
  await openControls(a.page, { layer: 2, head: 2, box: 'self', stage: 'weights' });
  await step(a.page, 3);
  // Page B: straight there.
  const b = await openPage(browser, server.url);
  await typeWord(b.page, word);
  await openControls(b.page, { layer: 2, head: 2, box: 'self', stage: 'weights' });
  await step(b.page, 12);
  const [sa, sb] = [await state(a.page), await state(b.page)];
  assert.equal(sa.steps, 12);
  assert.deepEqual(sa.produced, sb.produced);
  const [da, db] = [await drawn(a.page), await drawn(b.page)];
  for (const selector of PANELS) {
    assert.ok(db.markup[selector].length > 0, `${selector} shows something`);
    assert.equal(da.markup[selector], db.markup[selector], `${selector}: the same markup`);
  }
  for (const selector of CANVASES) {
    assert.ok(db.pixels[selector].length > 0, `${selector} exists`);
    assert.deepEqual(da.pixels[selector], db.pixels[selector], `${selector}: the same pixels`);
  }
  // and a page that went back to a shorter word draws that word as a fresh page does
  await typeWord(a.page, 'xylophone');
  await step(a.page, 3);
  const c = await openPage(browser, server.url);
  await typeWord(c.page, 'xylophone');
  await openControls(c.page, { layer: 2, head: 2, box: 'self', stage: 'weights' });
  await step(c.page, 3);
  const [dc, dx] = [await drawn(c.page), await drawn(a.page)];
  for (const selector of PANELS) assert.equal(dx.markup[selector], dc.markup[selector], `${selector} after a shorter word`);
  for (const selector of CANVASES) assert.deepEqual(dx.pixels[selector], dc.pixels[selector], `${selector} after a shorter word`);
  for (const s of [a, b, c]) assert.deepEqual(s.errors, []);
  for (const s of [a, b, c]) await s.context.close();
});

test('Open the box off screen: its content is up to date and drawn at its width before it is scrolled into view', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await typeWord(page, 'xylophone');
  await step(page, 3);
  // the page at its top: the KV card is drawn right after the step's frame (web/offscreen.js), and skipped
  // by the browser's rendering (content-visibility) until it is seen
  const offScreen = await drawn(page);
  const widthOff = await page.$eval('#kv-key', (c) => c.style.width);
  await page.$eval('#kv-cache', (card) => card.scrollIntoView());
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50)))));
  const onScreen = await drawn(page);
  assert.equal(await page.$eval('#kv-key', (c) => c.style.width), widthOff);
  assert.ok(parseFloat(widthOff) > 400, `the key matrix fills half the card: ${widthOff}`);
  for (const selector of PANELS) assert.equal(onScreen.markup[selector], offScreen.markup[selector], `${selector}, drawn before it was seen`);
  for (const selector of CANVASES) assert.deepEqual(onScreen.pixels[selector], offScreen.pixels[selector], `${selector}, drawn before it was seen`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the status line: the engine\'s time of the last step and, once its frame is drawn, the paint\'s', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await typeWord(page, 'xylophone');
  assert.equal(await page.textContent('#timing'), '', 'no step, no time');
  await page.click('#step');
  await page.waitForFunction(() => /paint/.test(document.getElementById('timing').textContent));
  const text = await page.textContent('#timing');
  const s = await state(page);
  const engine = s.stepMs.at(-1);
  const match = text.match(/^last step: engine (.+?) · paint ([\d.]+) ms · engine median (.+?) over 1$/);
  assert.ok(match, text);
  assert.equal(match[1], engine >= 0.1 ? `${engine.toFixed(2)} ms` : '< 0.1 ms');
  assert.ok(Number(match[2]) > 0, 'the paint took some time');
  assert.match(await page.getAttribute('#timing', 'title'), /engine: the decoder step itself, run\.step\(\) in WebAssembly\. paint: from your click/);
  // the → key times its step too; a new word starts with no time
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => / over 2$/.test(document.getElementById('timing').textContent) && /paint/.test(document.getElementById('timing').textContent));
  await typeWord(page, 'quiet');
  assert.equal(await page.textContent('#timing'), '');
  // teacher forcing has one pass and no paint time
  await page.click('label[for="mode-teacher"]');
  assert.match(await page.textContent('#timing'), /^one parallel pass over \d+ positions: /);
  assert.equal(await page.getAttribute('#timing', 'title'), '');
  assert.deepEqual(errors, []);
  await context.close();
});
