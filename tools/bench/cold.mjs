// Cold start, the way a visitor feels it: the built page (tools/build_site.mjs) opened in a fresh browser
// context (empty cache), over http from tools/serve.mjs (under a sub-path, with the compression it applies:
// what a static host like GitHub Pages sends) and from file:// (a double-clicked site/index.html). Used by
// run.mjs (`--only cold`); also runs alone:
//
//   node tools/bench/cold.mjs [--site DIR] [--runs 5] [--ways http,file] [--network RTT_MS,KBIT_S]
//
// --network: over http, Chromium's network emulation (DevTools Network.emulateNetworkConditions): a round
// trip of RTT_MS and KBIT_S kbit/s down, as a visitor's link might be, instead of localhost's none.
//
// How it is measured (a script added to the page before its own, so nothing in web/ is changed for it):
//   ready        navigation start -> the first frame that shows the Step button enabled. A MutationObserver
//                notes the moment the button loses `disabled`; the frame is found as in paint.mjs and
//                web/paint_timing.js: a message posted on a MessageChannel from the next
//                requestAnimationFrame callback arrives after that frame's main-thread work.
//   click        then a real click on Step (page.mouse.click: Chromium's input pipeline), timed from the
//                event's timeStamp (when the browser received it) to the next paint, by the same method;
//                the click must have drawn a first token (#output holds <s> and one more).
//   first token  ready + click: the cold start to the first painted token. The harness's own reaction time
//                between the two (a round trip to this process) is left out, as a visitor's would be.
// performance.now() counts from the navigation's start, so `ready` includes the request for index.html.
// The page's own marks (performance.mark('stepwise:…'), web/app.js) say where the time went.
// Bytes: the encoded (as sent, compressed) body sizes of every response the page received, summed from
// Resource Timing (encodedBodySize; the navigation's too): up to the first painted token, and once the
// page has been quiet for a while (what it loads afterwards, e.g. the held-out word list, included).
// file:// reports no sizes (there is no transfer); it is timed only.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Chromium 156 opens every new browser context in a window of its own and, at once, preloads that window's
// omnibox popup, a WebUI page (chrome://omnibox-popup.top-chrome) in a renderer of its own: ~300 ms of CPU
// on its main thread and its workers, spread over the first half second, that is, over the whole cold start
// it was measured beside (traced on this 2-core machine). A visitor's window, and its popup, exist before
// they open the page, so it is turned off here; what remains is the page's own start.
export const COLD_CHROMIUM_ARGS = ['--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup'];
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', ...COLD_CHROMIUM_ARGS];
export const WAYS = ['http', 'file'];

// Runs in the page before its scripts.
function probe() {
  const cold = { ready: null, readyRaf: null, enabledAt: null, click: null };
  window.coldBench = cold;
  const afterFrame = (done) => requestAnimationFrame(() => {
    const raf = performance.now();
    const channel = new MessageChannel();
    channel.port1.onmessage = () => done(raf, performance.now());
    channel.port2.postMessage(null);
  });
  const watch = new MutationObserver(() => {
    const button = document.getElementById('step');
    if (!button || button.disabled || cold.enabledAt !== null) return;
    cold.enabledAt = performance.now();
    watch.disconnect();
    afterFrame((raf, painted) => {
      cold.readyRaf = raf;
      cold.ready = painted;
    });
  });
  watch.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['disabled'] });
  window.addEventListener('click', (e) => {
    if (cold.click || !(e.target instanceof Element) || !e.target.closest('#step')) return;
    const c = { timeStamp: e.timeStamp, dispatch: performance.now() };
    cold.click = c;
    afterFrame((raf, painted) => {
      c.painted = painted;
      c.tokens = document.querySelectorAll('#output .token').length;
    });
  }, true);
}

// The encoded bytes received so far, from Resource Timing (evaluated in the page).
function received() {
  const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  return {
    bytes: entries.reduce((s, e) => s + (e.encodedBodySize || 0), 0),
    files: entries.map((e) => ({ name: e.name.replace(/^.*\//, '') || 'index.html', encoded: e.encodedBodySize, decoded: e.decodedBodySize, end: e.responseEnd })),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length;
  return k === 0 ? NaN : k % 2 ? s[(k - 1) / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
};
export const stats = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : { median: NaN, min: NaN, max: NaN, n: 0 });

/**
 * One cold start of the page at `url` (http: or file:) in a fresh context. Returns { ready, click, first_token,
 * marks, bytes_first_token, bytes_settled, files, errors } (ms, bytes) or { error }.
 */
export async function coldRun(browser, url, { viewport = { width: 1280, height: 900 }, timeout = 30000, network = null } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  if (network && url.startsWith('http')) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: network.rtt,
      downloadThroughput: (network.kbps * 1000) / 8, uploadThroughput: (network.kbps * 1000) / 8 });
  }
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && errors.push(m.text()));
  try {
    await page.addInitScript(probe);
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.coldBench?.ready != null, null, { timeout });
    const box = await page.locator('#step').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => window.coldBench.click?.painted != null, null, { timeout });
    const atFirst = await page.evaluate(received);
    const r = await page.evaluate(() => ({
      ...window.coldBench,
      marks: Object.fromEntries(performance.getEntriesByType('mark').filter((m) => m.name.startsWith('stepwise:')).map((m) => [m.name.slice(9), m.startTime])),
    }));
    // quiet: no new response for 1 s (at most 10 s), then what the page has received in all
    let settled = atFirst;
    for (let waited = 0; waited < 10000; waited += 1000) {
      await page.waitForTimeout(1000);
      const now = await page.evaluate(received);
      if (now.files.length === settled.files.length) break;
      settled = now;
    }
    settled = await page.evaluate(received);
    if (r.click.tokens !== 2) return { error: `the click on Step did not paint one token (#output holds ${r.click.tokens})`, errors };
    const click = r.click.painted - r.click.timeStamp;
    return {
      ready: r.ready,
      enabled: r.enabledAt,
      click,
      first_token: r.ready + click,
      wall: r.click.painted,  // navigation -> first token painted, the harness's reaction time included
      marks: r.marks,
      bytes_first_token: atFirst.bytes,
      bytes_settled: settled.bytes,
      files: settled.files,
      errors,
    };
  } catch (error) {
    return { error: error.message.split('\n')[0], errors };
  } finally {
    await context.close();
  }
}

/**
 * `runs` cold starts of the built site in `siteDir`, each way of WAYS (http: served by tools/serve.mjs,
 * file://), the ways taking turns run by run. Returns { http: {...}, file: {...} } with per-run results and
 * stats of ready, click and first_token (and, over http, the bytes).
 */
export async function measureColdStart(browser, siteDir, { runs = 5, ways = WAYS, network = null } = {}) {
  const { serve } = await import(path.join(ROOT, 'tools/serve.mjs'));
  const server = ways.includes('http') ? await serve({ root: siteDir, base: '/stepwise/', port: 0, log: false }) : null;
  const urls = { http: server?.url, file: pathToFileURL(path.join(siteDir, 'index.html')).href };
  const all = Object.fromEntries(ways.map((w) => [w, []]));
  try {
    // (one untimed visit first: fills the server's compression cache, so no timed run waits for gzip)
    if (server) await coldRun(browser, server.url);
    for (let i = 0; i < runs; i++) for (const way of ways) all[way].push(await coldRun(browser, urls[way], { network }));
  } finally {
    if (server) await new Promise((r) => server.close(r));
  }
  return Object.fromEntries(ways.map((way) => {
    const list = all[way];
    const ok = list.filter((r) => !r.error);
    const out = { runs: list, errors: list.filter((r) => r.error).map((r) => r.error) };
    for (const key of ['ready', 'click', 'first_token', 'wall']) out[key] = stats(ok.map((r) => r[key]));
    const markNames = [...new Set(ok.flatMap((r) => Object.keys(r.marks)))];
    out.marks = Object.fromEntries(markNames.map((n) => [n, median(ok.map((r) => r.marks[n]).filter(Number.isFinite))]));
    if (way === 'http') {
      out.bytes_first_token = median(ok.map((r) => r.bytes_first_token));
      out.bytes_settled = median(ok.map((r) => r.bytes_settled));
      out.files = ok[0]?.files ?? [];
    }
    return [way, out];
  }));
}

const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const cell = (s) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;

/** The markdown of a measureColdStart() result. */
export function coldMarkdown(c) {
  const lines = ['| way | runs | navigation → Step enabled (painted) | click → first token painted | cold start to first painted token | navigation → first token, harness reaction included |',
    '|---|---|---|---|---|---|'];
  for (const [way, r] of Object.entries(c)) {
    lines.push(`| ${way === 'http' ? 'http (tools/serve.mjs, gzip)' : 'file://'} | ${r.first_token.n}${r.errors.length ? ` (${r.errors.length} failed)` : ''} | ` +
      `${cell(r.ready)} | ${cell(r.click)} | ${cell(r.first_token)} | ${cell(r.wall)} |`);
  }
  const marks = Object.entries(c).map(([way, r]) => `${way}: ${Object.entries(r.marks).map(([n, t]) => `${n} ${fmt(t)}`).join(', ') || '–'}`);
  lines.push('', `The page's marks (median ms after navigation) — ${marks.join('; ')}.`);
  if (c.http) {
    const files = c.http.files.filter((f) => f.encoded > 0).map((f) => `${f.name} ${fmt(f.encoded / 1e3, 1)} kB`).join(', ');
    lines.push('', `Bytes received over http (encoded bodies, as served): ${fmt(c.http.bytes_first_token / 1e6, 3)} MB up to the first painted token, ` +
      `${fmt(c.http.bytes_settled / 1e6, 3)} MB once the page is quiet (${files}).`);
  }
  for (const [way, r] of Object.entries(c)) if (r.errors.length) lines.push('', `${way}: failed runs: ${r.errors.join('; ')}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------- alone

async function main() {
  const args = { site: path.join(ROOT, 'site'), runs: 5, ways: WAYS, network: null };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (key === '--site') args.site = path.resolve(value());
    else if (key === '--runs') args.runs = Number(value());
    else if (key === '--ways') args.ways = value().split(',').filter(Boolean);
    else if (key === '--network') {
      const [rtt, kbps] = value().split(',').map(Number);
      args.network = { rtt, kbps };
    }
    else if (key === '-h' || key === '--help') {
      console.log('usage: node tools/bench/cold.mjs [--site DIR] [--runs 5] [--ways http,file] [--network RTT_MS,KBIT_S]');
      return;
    } else throw new Error(`unknown argument '${argv[i]}'`);
  }
  if (!existsSync(path.join(args.site, 'index.html'))) throw new Error(`${args.site}/index.html not found: build the site first (node tools/build_site.mjs)`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const result = await measureColdStart(browser, args.site, { runs: args.runs, ways: args.ways, network: args.network });
    console.log(coldMarkdown(result));
    if (process.env.COLD_JSON) (await import('node:fs')).writeFileSync(process.env.COLD_JSON, JSON.stringify(result, null, 1));
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
