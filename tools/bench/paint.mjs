// Click to next paint: how long the page (tools/build_site.mjs) takes from a click on Step to the frame
// that shows the step, in headless Chromium at 1440 x 900, every panel of the page open (as it opens:
// "Open the box" included). Used by run.mjs (`--only paint`); also runs alone:
//
//   node tools/bench/paint.mjs [--site DIR] [--against DIR] [--rounds N] [--clicks 20]
//                              [--words xylophone,internationalization] [--scenarios click,key] [--trace FILE.json]
//
// --site: a built site (default site/); --against: another one (say, an earlier commit's), measured in
// turns with it, round by round; --trace: a Chromium trace of the run, for chrome://tracing or Perfetto.
//
// Two ways to ask for a step (SCENARIOS): `click`, the measurement: Step clicked with the page at
// its top, as a visitor first sees it (the panels of "Open the box", below the fold, are updated but
// not on screen); `key`: → pressed with "Open the box" scrolled to the top of the window, so that its
// panels are on screen and drawn too.
//
// How it is measured (a script added to the page before its own, so nothing in web/ is changed for it):
// each click is a real one (page.mouse.click on the Step button: Chromium's input pipeline, then the
// page's own listener; the key, page.keyboard.press). A capture listener on window notes the event's
// timeStamp (when the browser received the input) and the time its dispatch began, and asks for the next
// animation frame (before the page's listeners do); a bubbling listener on window, which runs after the
// page's own listeners, notes their end. In that frame's requestAnimationFrame callback (the frame's first)
// the script posts a message on a MessageChannel;
// the message is delivered as a task after the frame's rendering work on the main thread (style, layout,
// paint, the commit to the compositor), so its arrival time is "the next paint" as the main thread sees
// it. Reported per step:
//   paint   = message arrival - the event's timeStamp     (the latency a user waits, up to the frame)
//   handler = the page's listeners for the event (dispatch start to end), of which
//   engine  = the decoder step in WebAssembly (the page's own trace.stepMs, run.step() alone)
//   frame   = message arrival - the rAF callback          (style, layout, paint and commit of that frame)
// and the paint time the page itself shows on its status line (web/paint_timing.js, the same method).
// Rasterisation and compositing on other threads are not included (nothing here waits on them; with
// --disable-gpu they run in software on Chromium's raster threads). Headless Chromium produces frames on
// a 60 Hz clock, so a step also waits for the next frame boundary: up to 16.7 ms, about 8 on average.
// Between steps the page is left idle (two frames and 50 ms), so each starts from a quiet page; when the
// word is done, Reset (not timed) starts it again, so every word gets the same number of steps.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];
export const PAINT_WORDS = ['xylophone', 'internationalization'];

// Runs in the page before its scripts: times every step asked for by a click on Step or by the → key.
function probe() {
  const clicks = [];
  let current = null;
  window.paintBench = { clicks };
  const isStep = (e) => (e.type === 'click'
    ? e.target instanceof Element && Boolean(e.target.closest('#step'))
    : e.key === 'ArrowRight' && !(e.target instanceof Element && e.target.closest('input, textarea, select, [contenteditable]')));
  for (const type of ['click', 'keydown']) {
    window.addEventListener(type, (e) => {
      if (!isStep(e)) return;
      const c = { timeStamp: e.timeStamp, dispatch: performance.now() };
      current = c;
      // Asked for here, before the page's own listeners run, so that this callback comes first in the
      // frame and its message is delivered before anything the page posts from its own callbacks.
      requestAnimationFrame(() => {
        c.raf = performance.now();
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          c.painted = performance.now();
          clicks.push(c);
        };
        channel.port2.postMessage(null);
      });
    }, true);
    window.addEventListener(type, (e) => {
      if (!isStep(e) || !current) return;
      current.handlerEnd = performance.now();
      current = null;
    });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length;
  return k === 0 ? NaN : k % 2 ? s[(k - 1) / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
};
const stats = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : { median: NaN, min: NaN, max: NaN, n: 0 });

// The ways a step is asked for. `click`: Step clicked at the top of the page, as it opens (the issue's
// measurement); `key`: the → key pressed with "Open the box" scrolled to the top of the window, so that
// the panels below the fold are on screen too (the page's heaviest view of a step).
export const SCENARIOS = {
  click: { label: 'Step clicked, the page at its top' },
  key: { label: '→ pressed, "Open the box" on screen', scroll: '#open-box' },
};

/**
 * Measures `clicks` steps per word on the page served at `url` (its index.html), asked for as `scenario`
 * says (SCENARIOS). Returns { words: { word: { clicks: [...], paint, handler, engine, frame, input,
 * shown } }, overall: {...}, scenario, viewport, errors } in ms.
 */
export async function measurePaint(browser, url, { words = PAINT_WORDS, clicks = 20, scenario = 'click', viewport = { width: 1440, height: 900 }, trace = null } = {}) {
  const how = SCENARIOS[scenario];
  if (!how) throw new Error(`unknown scenario '${scenario}' (of ${Object.keys(SCENARIOS).join(', ')})`);
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && errors.push(m.text()));
  await page.addInitScript(probe);
  await page.goto(url);
  await page.waitForFunction(() => window.stepwiseState?.ready === true, null, { timeout: 30000 });
  const idle = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50)))));
  const result = { words: {}, scenario, viewport, errors };
  if (trace) await browser.startTracing(page, { path: trace, screenshots: false, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'blink.user_timing'] });
  try {
    for (const word of words) {
      await page.fill('#word', word);  // an input event: the page starts the word, no step yet
      await page.waitForFunction((w) => window.stepwiseState.word === w && window.stepwiseState.steps === 0, word);
      if (how.scroll) {
        await page.evaluate((selector) => {
          document.activeElement?.blur();  // (→ on a focused panel walks that panel instead)
          document.querySelector(selector).scrollIntoView({ block: 'start' });
        }, how.scroll);
      }
      await idle();
      const samples = [];
      while (samples.length < clicks) {
        if (await page.$eval('#step', (b) => b.disabled)) {  // the word is done: start it again, untimed
          if (how.scroll) await page.keyboard.press('Escape');  // (a click on Reset would scroll to it)
          else await page.click('#reset');
          await idle();
          continue;
        }
        const before = await page.evaluate(() => window.paintBench.clicks.length);
        if (scenario === 'key') {
          await page.keyboard.press('ArrowRight');
        } else {
          const box = await page.locator('#step').boundingBox();
          await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
        }
        await page.waitForFunction((n) => window.paintBench.clicks.length > n, before);
        const { c, engine } = await page.evaluate(() => {
          const c = window.paintBench.clicks.at(-1);
          return { c, engine: window.stepwiseState.stepMs.at(-1) };
        });
        await idle();
        // what the page itself measured for this step (web/paint_timing.js), as its status line shows it
        const shown = await page.evaluate(() => document.getElementById('timing')?.textContent ?? '');
        samples.push({
          paint: c.painted - c.timeStamp,
          input: c.dispatch - c.timeStamp,
          handler: c.handlerEnd - c.dispatch,
          engine,
          frame: c.painted - c.raf,
          shown: Number(shown.match(/paint ([\d.]+) ms/)?.[1] ?? NaN),
          status: shown,
        });
      }
      result.words[word] = summarize(samples);
    }
  } finally {
    if (trace) await browser.stopTracing();
    await context.close();
  }
  result.overall = summarize(Object.values(result.words).flatMap((w) => w.clicks));
  return result;
}

function summarize(samples) {
  const out = { clicks: samples };
  for (const key of ['paint', 'handler', 'engine', 'frame', 'input', 'shown']) out[key] = stats(samples.map((s) => s[key]).filter(Number.isFinite));
  return out;
}

const fmt = (x) => (Number.isFinite(x) ? (x >= 10 ? x.toFixed(0) : x.toFixed(1)) : '–');
const cell = (s) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;

/** The markdown table of a measurePaint() result. */
export function paintTable(r) {
  const lines = ['| word | steps | input → next paint | handlers | of which the engine (run.step) | the frame: rAF → after paint | input delay | paint shown on the page |',
    '|---|---|---|---|---|---|---|---|'];
  for (const [word, w] of [...Object.entries(r.words), ['all', r.overall]]) {
    lines.push(`| ${word} | ${w.paint.n} | ${cell(w.paint)} | ${cell(w.handler)} | ${cell(w.engine)} | ${cell(w.frame)} | ${cell(w.input)} | ${w.shown.n ? cell(w.shown) : '–'} |`);
  }
  return lines.join('\n');
}

/** The targets of issue 10 §7 (click to next paint: median ≤ 16 ms, max ≤ 50 ms). */
export const paintMet = (r) => r.overall.paint.median <= 16 && r.overall.paint.max <= 50;

// ---------------------------------------------------------------------------------------- alone

async function main() {
  const args = { site: path.join(ROOT, 'site'), against: null, words: PAINT_WORDS, clicks: 20, rounds: 1, scenarios: Object.keys(SCENARIOS), trace: null };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (key === '--site') args.site = path.resolve(value());
    else if (key === '--against') args.against = path.resolve(value());
    else if (key === '--words') args.words = value().split(',').filter(Boolean);
    else if (key === '--clicks') args.clicks = Number(value());
    else if (key === '--rounds') args.rounds = Number(value());
    else if (key === '--scenarios') args.scenarios = value().split(',').filter(Boolean);
    else if (key === '--trace') args.trace = path.resolve(value());
    else throw new Error(`unknown argument '${argv[i]}'`);
  }
  const sites = [args.site, ...(args.against ? [args.against] : [])];
  for (const site of sites) if (!existsSync(path.join(site, 'index.html'))) throw new Error(`no ${site}/index.html: node tools/build_site.mjs first`);
  const { chromium } = await import('playwright-core');
  const { serve } = await import(path.join(ROOT, 'tools/serve.mjs'));
  const servers = await Promise.all(sites.map((root) => serve({ root, base: '/stepwise/', port: 0, log: false })));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  // With --against, the two sites take turns, round by round (which goes first alternates), so that a
  // change in the machine's load is shared out; each is summarised over all its rounds.
  const runs = sites.map(() => Object.fromEntries(args.scenarios.map((sc) => [sc, []])));
  try {
    for (let round = 0; round < args.rounds; round++) {
      const order = round % 2 ? [...sites.keys()].reverse() : [...sites.keys()];
      for (const k of order) {
        for (const scenario of args.scenarios) {
          runs[k][scenario].push(await measurePaint(browser, servers[k].url, { words: args.words, clicks: args.clicks, scenario, trace: args.trace }));
        }
      }
    }
  } finally {
    await browser.close();
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
  }
  sites.forEach((site, k) => {
    console.log(`\n${path.relative(process.cwd(), site) || '.'}: ${args.rounds} round(s), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}`);
    for (const scenario of args.scenarios) {
      const r = mergeRuns(runs[k][scenario]);
      console.log(`\n${SCENARIOS[scenario].label}:\n`);
      console.log(paintTable(r));
      if (r.errors.length) console.log(`${r.errors.length} page errors, the first: ${r.errors[0].slice(0, 300)}`);
      console.log(`median ≤ 16 ms, max ≤ 50 ms: ${paintMet(r) ? 'met' : 'not met'}; the page's status line after the last step: ${r.overall.clicks.at(-1).status}`);
    }
  });
}

/** Several measurePaint() results of one page as one. */
export function mergeRuns(list) {
  const words = {};
  for (const word of Object.keys(list[0].words)) words[word] = summarize(list.flatMap((r) => r.words[word].clicks));
  return { words, scenario: list[0].scenario, viewport: list[0].viewport, errors: list.flatMap((r) => r.errors), overall: summarize(list.flatMap((r) => r.overall.clicks)) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
