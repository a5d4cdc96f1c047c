// Moving through time and sharing a state (issue 10 §5): every way of choosing a word leaves it at step 0
// with Step enabled; → steps from the word box (caret at the end); ← and Back step back, the scrubber jumps,
// and each step shows exactly what it showed the first time (the trace, the drawn mask and matrices, the
// letters, the output, the next-token bars, "open the box"); the address (#…) holds the state, and a link
// restores it over http and from file://; hostile links give a message and a working page.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { FIXTURES, baseline, exampleWords, fileUrl, launch, openPage, startServer, state, typeWord } from './helpers.mjs';

let browser;
let server;
let session;  // { page, requests, errors }

before(async () => {
  browser = await launch();
  server = await startServer();
  session = await openPage(browser, server.url);
});

after(async () => {
  await browser?.close();
  server?.close();
});

const stepEnabled = (page) => page.isEnabled('#step');

/** At step 0, not playing, Step enabled: what every way of choosing a word must leave. */
async function atStepZero(page, how) {
  const s = await state(page);
  assert.equal(s.steps, 0, `${how}: step ${s.steps}`);
  assert.equal(s.done, false, how);
  assert.equal(s.playing, false, `${how}: playing`);
  assert.deepEqual(s.queries, [], how);
  assert.equal(await stepEnabled(page), true, `${how}: Step disabled`);
  assert.equal(await page.isDisabled('#back'), true, `${how}: Back enabled at step 0`);
  return s;
}

// Everything a step shows, as the page drew it: the state (less the time each step took) and what is
// visible of the panels: their elements (tag, class, pressed/current), text and canvases (size on screen
// and pixels). Hidden elements are left out: they may keep what they last showed.
const PANELS = ['#letters', '#letters-caption', '#output', '#output-label', '#output-caption', '#reference', '#view-title', '#view-explain',
  '#formula', '#mask-tensors', '#compare', '#legend', '#heads-panel', '#next-panel', '#open-box', '#main-map'];

async function capture(page) {
  // (after two frames: a panel that appears measures its width then, and draws again; kv_cache.js)
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  return page.evaluate((panels) => {
    const s = window.stepwiseState;
    delete s.stepMs;
    const drawn = (node) => {
      if (node.nodeType === Node.TEXT_NODE) return node.textContent;
      if (node.nodeType !== Node.ELEMENT_NODE || !node.checkVisibility()) return null;
      const marks = ['class', 'aria-pressed', 'aria-current', 'aria-label', 'disabled'].map((a) => node.getAttribute(a)).filter((x) => x !== null);
      if (node.tagName === 'CANVAS') {
        // the part the page shows: a canvas may keep a taller backing store than it shows (web/canvas.js)
        const dpr = node.width / parseFloat(node.style.width || node.width);
        const copy = document.createElement('canvas');
        copy.width = node.width;
        copy.height = Math.round(parseFloat(node.style.height || node.height) * dpr);
        copy.getContext('2d').drawImage(node, 0, 0, copy.width, copy.height, 0, 0, copy.width, copy.height);
        return ['CANVAS', node.clientWidth, node.clientHeight, copy.toDataURL()];
      }
      if (node.tagName === 'SELECT' || node.tagName === 'INPUT') marks.push(node.value);
      return [node.tagName, ...marks, ...[...node.childNodes].map(drawn).filter((x) => x !== null)];
    };
    return { s, html: Object.fromEntries(panels.map((id) => [id, JSON.stringify(drawn(document.querySelector(id)))])) };
  }, PANELS);
}

function assertSame(now, then, what) {
  assert.deepEqual(now.s, then.s, `${what}: the state differs from the first time`);
  for (const id of PANELS) {
    const [a, b] = [now.html[id], then.html[id]];
    if (a === b) continue;
    let i = 0;
    while (a[i] === b[i]) i++;
    const around = (x) => x.slice(Math.max(0, i - 120), i + 120);
    assert.fail(`${what}: ${id} is drawn differently from the first time:\n  now  …${around(a)}…\n  then …${around(b)}…`);
  }
}

async function setScrubber(page, value) {
  await page.$eval('#scrub', (input, v) => {
    input.value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

/** The address once the page has written its state there (it writes at most every 250 ms). */
async function settledHash(page) {
  await page.waitForFunction(() => location.hash === window.stepwiseState.address, null, { timeout: 5000 });
  return page.evaluate(() => location.hash);
}

test('every way of choosing a word starts it at step 0 with Step enabled', async () => {
  const page = (await openPage(browser, server.url)).page;  // a fresh page: the first word as loaded
  const first = await atStepZero(page, 'on load');
  assert.equal(first.word, (await exampleWords(page))[0]);
  await page.waitForFunction(() => location.hash.includes('step=0'));

  const words = await exampleWords(page);
  await page.fill('#word', words[1]);
  await atStepZero(page, 'typed');
  await page.click('#step');
  await page.press('#word', 'Enter');
  await atStepZero(page, 'typed + Enter');

  for (const word of words.slice(1, 4)) {
    await page.click('#step');
    await page.click(`#examples .chip[data-word="${word}"]`);
    const s = await atStepZero(page, `the chip ${word}`);
    assert.equal(s.word, word);
  }
  await page.click('#run');
  await page.click('#surprise');
  const surprised = await atStepZero(page, 'Surprise me');
  assert.notEqual(surprised.word, '');
  assert.equal(await page.inputValue('#word'), surprised.word);

  // A model chosen: its word starts at step 0 too.
  await page.click('#run');
  await page.setInputFiles('#model-file', path.join(FIXTURES, 'postnorm_relu_sinusoidal.safetensors'));
  await page.waitForFunction(() => window.stepwiseState.model?.builtin === false, null, { timeout: 10000 });
  await atStepZero(page, 'a model loaded');
  await page.click('#step');
  await page.selectOption('#model-select', { index: 0 });
  await atStepZero(page, 'the built-in model chosen again');
  await page.context().close();
});

test('→ steps from the word box when the caret is at its end; elsewhere the arrows edit', async () => {
  const { page } = session;
  await baseline(page);
  const word = (await exampleWords(page))[1];
  await page.fill('#word', word);
  await page.focus('#word');
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal((await state(page)).steps, 2, '→ at the end of the word steps');
  await page.keyboard.press('ArrowLeft');
  assert.equal((await state(page)).steps, 2, '← in the word box moves the caret, not the decoder');
  assert.equal(await page.$eval('#word', (w) => w.selectionStart), word.length - 1);
  await page.keyboard.press('ArrowRight');  // the caret, from inside the word to its end
  assert.equal((await state(page)).steps, 2);
  assert.equal(await page.$eval('#word', (w) => w.selectionStart), word.length);
  await page.keyboard.press('Shift+ArrowLeft');
  await page.keyboard.press('ArrowRight');  // collapses the selection; does not step
  assert.equal((await state(page)).steps, 2);
  await page.keyboard.press('ArrowRight');
  assert.equal((await state(page)).steps, 3);
  assert.equal(await page.inputValue('#word'), word, 'the word is unchanged');
  // Other text inputs keep their arrows.
  await page.click('label[for="strategy-sample"]');
  await page.focus('#seed');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowLeft');
  assert.equal((await state(page)).steps, 3, 'the seed box keeps its arrows');
  await baseline(page);
});

for (const [strategy, view, setup] of [
  ['greedy', 'mask', async () => {}],
  ['sample', 'self', async (page) => {
    await page.fill('#temperature', '1.5');
    await page.press('#temperature', 'Enter');
    await page.fill('#seed', '7');
    await page.press('#seed', 'Enter');
  }],
  ['beam', 'cross', async (page) => {
    await page.fill('#beam-width', '3');
    await page.press('#beam-width', 'Enter');
  }],
]) {
  test(`${strategy}: ← and Back step back, the scrubber jumps; each step shows what it showed the first time`, async () => {
    const { page } = session;
    await baseline(page);
    await page.click(`label[for="strategy-${strategy}"]`);
    await setup(page);
    await page.click(`#tab-${view}`);
    await typeWord(page, (await exampleWords(page))[2]);
    await page.mouse.move(0, 0);
    const firstTime = [await capture(page)];
    while (!firstTime.at(-1).s.done) {
      await page.click('#step');
      firstTime.push(await capture(page));
      assert.ok(firstTime.length < 64, 'the decoder did not finish');
    }
    const n = firstTime.length - 1;
    assert.ok(n >= 3, `${n} steps`);
    assert.equal(firstTime[n].s.strategy, strategy);
    assert.equal(await page.isDisabled('#step'), true, 'done: Step disabled');
    assert.equal(await page.inputValue('#scrub'), String(n));
    assert.equal(await page.$eval('#scrub', (x) => x.max), String(n));

    // Back to step 0, by ← and by the Back button in turn: the mask shrinks one row each time.
    for (let k = n - 1; k >= 0; k--) {
      if (k % 2) {
        await page.evaluate(() => document.activeElement?.blur());
        await page.keyboard.press('ArrowLeft');
      } else {
        await page.click('#back');
      }
      await page.mouse.move(0, 0);
      const now = await capture(page);
      assert.equal(now.s.queries.length, k, 'one decoder row per step');
      assert.equal(now.s.drawn.rows.length, k, `the drawn ${view} matrix has ${k} rows`);
      assertSame(now, firstTime[k], `back to step ${k}`);
      assert.equal(await page.isEnabled('#step'), true, `step ${k}: Step enabled`);
      assert.equal(await page.inputValue('#scrub'), String(k));
      assert.equal(await page.$eval('#scrub', (x) => x.max), String(n), 'the scrubber still reaches the end');
      assert.equal(await page.textContent('#scrub-value'), `${k} / ${n}`);
    }
    assert.equal(await page.isDisabled('#back'), true, 'step 0: Back disabled');
    await page.keyboard.press('ArrowLeft');  // nothing before step 0
    assert.equal((await state(page)).steps, 0);

    // The scrubber: anywhere, by value and by its keys; Step goes on from where it stands.
    for (const k of [Math.floor(n / 2), n, 1, n - 1]) {
      await setScrubber(page, k);
      await page.mouse.move(0, 0);
      assertSame(await capture(page), firstTime[k], `scrubbed to step ${k}`);
    }
    await page.click('#step');
    await page.mouse.move(0, 0);
    assertSame(await capture(page), firstTime[n], 'stepped from the scrubbed step to the end');
    await page.focus('#scrub');
    await page.keyboard.press('Home');
    assert.equal((await state(page)).steps, 0);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.evaluate(() => document.activeElement?.blur());
    await page.mouse.move(0, 0);
    assertSame(await capture(page), firstTime[2], 'the scrubber\'s arrow keys');

    // A new word starts a new timeline.
    await typeWord(page, (await exampleWords(page))[0]);
    assert.equal(await page.$eval('#scrub', (x) => x.max), '0');
    assert.equal(await page.isDisabled('#scrub'), true);
    await baseline(page);
  });
}

test('teacher forcing has no steps: no Back, no scrubber', async () => {
  const { page } = session;
  await baseline(page);
  await page.click('label[for="mode-teacher"]');
  assert.equal(await page.isHidden('#back'), true);
  assert.equal(await page.isHidden('#scrubber'), true);
  await page.evaluate(() => document.activeElement?.blur());
  const before = await state(page);
  await page.keyboard.press('ArrowLeft');
  assert.deepEqual((await state(page)).queries, before.queries);
  await baseline(page);
  assert.equal(await page.isVisible('#scrubber'), true);
});

/** The state a link must restore (less the time steps took), and the decoding form's fields shown. */
async function shown(page) {
  const s = await state(page);
  delete s.stepMs;
  const form = await page.evaluate(() => Object.fromEntries(['temperature', 'top-k', 'top-p', 'seed', 'beam-width', 'target', 'causal']
    .map((id) => document.getElementById(id))
    .filter((input) => input.checkVisibility() || input.id === 'causal' && input.closest('label').checkVisibility())
    .map((input) => [input.id, input.type === 'checkbox' ? input.checked : input.value])));
  return { s, form };
}

// A state made by hand on one page, its address opened in another: the same page.
async function shareAndOpen(makeState, open) {
  const { page } = session;
  await baseline(page);
  await makeState(page);
  const hash = await settledHash(page);
  const sent = await shown(page);
  const opened = await openPage(browser, open(hash));
  const got = await shown(opened.page);
  assert.deepEqual(got.s, sent.s, `the link ${hash} shows another state`);
  assert.deepEqual(got.form, sent.form);
  assert.equal(got.s.message, null);
  assert.equal(await opened.page.evaluate(() => location.hash), hash, 'the address stays as it was opened');
  assert.deepEqual(opened.errors, []);
  await opened.context.close();
  await baseline(page);
  return hash;
}

async function samplingState(page) {
  const words = await exampleWords(page);
  await page.click('label[for="strategy-sample"]');
  for (const [id, value] of [['temperature', '1.5'], ['top-k', '6'], ['top-p', '0.9'], ['seed', '7']]) {
    await page.fill(`#${id}`, value);
    await page.press(`#${id}`, 'Enter');
  }
  await typeWord(page, words[1]);
  for (let i = 0; i < 3; i++) await page.click('#step');
  await page.click('#back');
  await page.click('#step');
  await page.click('#output .token >> nth=2');  // the token produced by row 1: that row
  await page.selectOption('#open-layer', '1');
  await page.selectOption('#open-head', '2');
  await page.click('#tab-mask');
  await page.click('label[for="mask-order-key-query"]');
  await page.click('#tab-self');
  await page.click('.thumb[aria-label="layer 1, head 2"]');
  await page.click('#tab-cross');
  await page.click('.thumb[aria-label="layer 2, head 3"]');
}

test('a link restores the word, mode, strategy, settings, step, view, layer and head (http)', async () => {
  const hash = await shareAndOpen(samplingState, (h) => `${server.url}${h}`);
  for (const part of ['strategy=sample', 'temperature=1.5', 'topk=6', 'topp=0.9', 'seed=7', 'step=3', 'view=cross', 'self=1.2', 'order=key-query', 'row=1', 'open=2.3.']) {
    assert.ok(hash.includes(part), `${hash} holds ${part}`);
  }
  // Teacher forcing with a reference of one's own and the mask off; beam search.
  const teacher = await shareAndOpen(async (page) => {
    await typeWord(page, (await exampleWords(page))[1]);
    await page.click('label[for="mode-teacher"]');
    await page.fill('#target', 'N AY1 T S');
    await page.press('#target', 'Enter');
    await page.click('#causal-switch');
    await page.click('#tab-encoder');
    await page.click('.thumb[aria-label="layer 1, head 4"]');
  }, (h) => `${server.url}${h}`);
  assert.ok(teacher.includes('mode=teacher') && teacher.includes('causal=0') && teacher.includes('ref=N+AY1+T+S'), teacher);
  await shareAndOpen(async (page) => {
    await page.click('label[for="strategy-beam"]');
    await page.fill('#beam-width', '2');
    await page.press('#beam-width', 'Enter');
    await typeWord(page, (await exampleWords(page))[2]);
    await page.click('#run');
    await page.click('#back');
    await page.click('#tab-encoder');
    await page.click('.thumb[aria-label="layer 2, head 1"]');
  }, (h) => `${server.url}${h}`);
});

test('a link restores the state from file:// too', async () => {
  await shareAndOpen(samplingState, (h) => `${fileUrl()}${h}`);
});

test('a hand-written link; the tour stop round-trips', async () => {
  const words = await exampleWords(session.page);
  const hash = `#word=${words[3]}&mode=steps&strategy=beam&beam=3&alpha=0.5&step=2&view=encoder&self=1.2&cross=2.mean&encoder=2.4&order=key-query&row=1&open=2.3.cross.4.ffn&tour=5`;
  const { page, errors, context } = await openPage(browser, `${server.url}${hash}`);
  const s = await state(page);
  assert.equal(s.message, null, s.message?.text);
  assert.equal(s.word, words[3]);
  assert.equal(s.strategy, 'beam');
  assert.equal(await page.inputValue('#beam-width'), '3');
  assert.equal(await page.inputValue('#length-penalty'), '0.5');
  assert.equal(s.beams.lengthPenalty, 0.5);
  assert.equal(s.steps, 2);
  assert.equal(s.view, 'encoder');
  assert.deepEqual(s.selection, { layer: 1, head: 3 });
  assert.equal(s.maskOrder, 'key-query');
  assert.equal(s.selectedRow, 1);
  assert.deepEqual(s.inside, { ...s.inside, layer: 1, head: 2, kind: 'cross', stage: 3, box: 'ffn', counterpart: false });
  assert.equal(s.tourStop, 5);
  await page.click('#step');
  const written = await settledHash(page);
  assert.ok(written.includes('tour=5'), written);
  assert.ok(written.includes('alpha=0.5'), written);
  await page.click('#tab-self');
  assert.deepEqual((await state(page)).selection, { layer: 0, head: 1 });
  assert.deepEqual(errors, []);
  await context.close();
});

test('hostile links: a clear message, the defaults, a working page', async () => {
  const dialogs = [];
  const longWord = 'a'.repeat(100000);
  const cases = [
    ['#model=someone-elses.safetensors&word=knight&step=2', /the model “someone-elses\.safetensors” is not on this page \(a model loaded from a file cannot travel in a link; load it with “Load model…”\)/, { word: 'knight', steps: 2 }],
    ['#word=knight&step=1000000000', /step 1,000,000,000 is past the end: “knight” is done after \d+ steps/, { word: 'knight', done: true }],
    ['#word=queue&strategy=sample&temperature=NaN&step=1', /temperature “NaN” is not a number, so it stays 1/, { word: 'queue', strategy: 'sample', steps: 1 }],
    ['#word=queue&strategy=sample&temperature=-1&step=1', /the decoding settings could not be used \(temperature must be from 0\.05 to 5, not -1\), so the defaults are used/, { word: 'queue', strategy: 'greedy', steps: 1 }],
    [`#word=${longWord}`, /this model cannot read the word “a{39}…” \(100000 characters\)/, { steps: 0 }],
    ['#word=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&step=0', /this model cannot read the word “<img src=x onerror=alert\(1\)>”/, { steps: 0 }],
    ['#word=knight&mode=dance&view=nope&self=9.1&cross=x.mean&open=1.2&tour=-3&step=-1&foo=1', /mode “dance” is not one of steps, teacher.*there is no view “nope”; the self view has no layer “9”, head “1” \(this model: \d+ layers × \d+ heads\).*the tour has no stop “-3”/, { word: 'knight', steps: 0 }],
    ['#word=queue&mode=teacher&ref=NOT%20PHONEMES', /the reference could not be used \(.*NOT.*\), so the default reference is fed/, { word: 'queue', mode: 'teacher' }],
    ['#%E0%A4%A&&=&step', /means nothing here|mean nothing here|is not a number of steps/, {}],
  ];
  // The first two as a fresh page opens them, the rest as the address changes under an open page.
  let opened = null;
  for (const [k, [hash, message, expect]] of cases.entries()) {
    if (k < 2 || k === 4) {
      await opened?.context.close();
      opened = await openPage(browser, `${server.url}${hash}`);
      opened.page.on('dialog', (d) => dialogs.push(d.message()));
    } else {
      await opened.page.evaluate((h) => { location.hash = h; }, hash);
    }
    const { page } = opened;
    await page.waitForFunction(() => window.stepwiseState.message !== null, null, { timeout: 10000 });
    const s = await state(page);
    assert.equal(s.message.kind, 'error', hash.slice(0, 80));
    assert.match(s.message.text, /^This link could not be shown in full: /);
    assert.match(s.message.text, message);
    for (const [key, value] of Object.entries(expect)) assert.equal(s[key], value, `${hash.slice(0, 80)}: ${key}`);
    assert.equal(await page.$$eval('#message *', (nodes) => nodes.length), 0, 'the message is text, not HTML');
    // still working: a step, and the address written back in the page's own terms
    if (s.mode === 'steps' && !s.done) {
      await page.click('#step');
      assert.equal((await state(page)).steps, s.steps + 1);
    }
    const written = await settledHash(opened.page);
    assert.ok(written.length < 1000, 'the address holds what the page shows, not the link\'s junk');
  }
  assert.deepEqual(dialogs, []);
  assert.deepEqual(opened.errors, []);
  await opened.context.close();
});

test('no console errors on the shared page', () => {
  assert.deepEqual(session.errors, []);
});
