// The page's core in the two other browser engines Debian offers, as /work/shared/PLATFORM.md describes:
// Firefox ESR (Gecko) driven by puppeteer-core over WebDriver BiDi, and WebKitGTK's MiniBrowser (WebKit,
// Safari's engine) driven by selenium-webdriver through WebKitWebDriver on a virtual display (xvfb-run).
//
// Each engine is wrapped in the same small interface (open a URL, run a function in the page, click,
// fill, choose a file, the errors and requests seen), and coreSuite() runs one list of checks on it: the
// built site served under a sub-path and opened from file://, stepping to the native CLI's tokens,
// teacher forcing, beam search, seeded sampling, a bad model file, no console error, no request outside
// the site's folder. The Chromium suite (tests/browser/) goes further (abuse, keyboard, screenshots).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { BASE, SCREENSHOTS, ensureSite, fileUrl, nativeGenerate, siteModelFile, startServer } from '../browser/helpers.mjs';

export const FIREFOX = '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const VIEWPORT = { width: 1280, height: 800 };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` (run in the page) until it returns something truthy; returns that. */
async function waitFor(tab, fn, { args = [], timeout = 20000, what = 'a condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await tab.run(fn, ...args);
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** What the page loaded, as it can tell: resource timing entries, and the scripts, styles and images in
 * its DOM (file:// loads leave no timing entries, and Firefox reports no request events for them). */
function pageResources() {
  const inDom = [...document.querySelectorAll('script[src], link[href], img[src]')].map((e) => e.src || e.href);
  return [...performance.getEntriesByType('resource').map((e) => e.name), ...inDom];
}

const waitReady = (tab) => waitFor(tab, () => window.stepwiseState?.ready === true, { what: 'the page to be ready' });

// ------------------------------------------------------------------------------------------ Firefox

/** Firefox ESR over WebDriver BiDi (puppeteer-core never downloads a browser: it runs Debian's). */
export async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, defaultViewport: VIEWPORT });
  return {
    name: 'Firefox',
    version: await browser.version(),
    async open(url) {
      const page = await browser.newPage();
      const requests = [];
      const errors = [];
      page.on('request', (request) => requests.push(request.url()));
      page.on('console', (message) => {
        if (['error', 'warn', 'warning', 'assert'].includes(message.type())) errors.push(`console.${message.type()}: ${message.text().slice(0, 500)}`);
      });
      page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
      await page.goto(url);
      const tab = {
        run: (fn, ...args) => page.evaluate(fn, ...args),
        click: (selector) => page.click(selector),
        async fill(selector, value, { enter = false } = {}) {
          await page.$eval(selector, (input) => { input.value = ''; });
          await page.type(selector, value);
          if (enter) await page.keyboard.press('Enter');
        },
        chooseFile: async (selector, file) => (await page.$(selector)).uploadFile(file),
        errors: async () => [...errors],
        requests: async () => [...requests, ...await page.evaluate(pageResources)],
        screenshot: (file) => page.screenshot({ path: file }),
        close: () => page.close(),
      };
      await waitReady(tab);
      return tab;
    },
    async close() {
      await Promise.race([browser.close().catch(() => {}), sleep(15000)]);
      browser.process()?.kill('SIGKILL');  // only if it is still running after close()
    },
  };
}

// ------------------------------------------------------------------------------------------- WebKit

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Live processes (not zombies) from /proc: [{ pid, name, ppid, pgid }]. */
function processes() {
  const list = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (state !== 'Z') list.push({ pid: Number(name), name: command, ppid: Number(ppid), pgid: Number(pgid) });
    } catch { /* ended meanwhile */ }
  }
  return list;
}

/** Ends what is left of a process group: SIGTERM, then SIGKILL after `grace` ms. */
async function endGroup(pgid, grace = 3000) {
  const alive = () => processes().some((p) => p.pgid === pgid);
  for (const signal of ['SIGTERM', 'SIGKILL']) {
    if (!alive()) return;
    try {
      process.kill(-pgid, signal);
    } catch { /* gone meanwhile */ }
    const end = Date.now() + grace;
    while (alive() && Date.now() < end) await sleep(50);
  }
}

// Installed in the page after each load: WebDriver classic has no console log for WebKitGTK (and no BiDi
// in WebKitWebDriver 2.50), so uncaught errors, rejections and console.error/warn calls are collected in
// the page. What ran before it (during the load) is seen through its effects instead: the page must be
// ready with no message, and buffered reports (CSP violations, interventions) are read back.
function installErrorLog() {
  if (window.enginesErrorLog) return;
  const log = [];
  window.enginesErrorLog = log;
  window.addEventListener('error', (e) => log.push(`uncaught: ${e.message}`));
  window.addEventListener('unhandledrejection', (e) => log.push(`unhandled rejection: ${e.reason?.message ?? e.reason}`));
  window.addEventListener('securitypolicyviolation', (e) => log.push(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  for (const level of ['error', 'warn']) {
    const original = console[level];
    console[level] = (...args) => {
      log.push(`console.${level}: ${args.map(String).join(' ').slice(0, 500)}`);
      original.apply(console, args);
    };
  }
  if (typeof ReportingObserver === 'function') {
    new ReportingObserver((reports) => {
      for (const r of reports) log.push(`report ${r.type}: ${JSON.stringify(r.body)}`);
    }, { buffered: true }).observe();
  }
}

/**
 * WebKitGTK's MiniBrowser through WebKitWebDriver, itself under `xvfb-run -a` (MiniBrowser cannot run
 * headless here). The driver, Xvfb and the browser share one process group, ended by close() (and, as a
 * last resort, when this process exits or is interrupted).
 */
export async function launchWebKit() {
  const { Builder, By, Key } = await import('selenium-webdriver');
  const port = await freePort();
  // Our own Xauthority file, so xvfb-run makes no temporary folder of its own that an interrupted run
  // would leave behind.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'stepwise-webkit-'));
  const child = spawn('xvfb-run', ['-a', '-f', path.join(scratch, 'Xauthority'), '-s', '-screen 0 1280x1024x24', WEBKIT_DRIVER, `--port=${port}`], {
    detached: true,  // its own process group: xvfb-run, Xvfb, the driver, MiniBrowser and WebKit's processes
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  child.stdout.on('data', (d) => { output = (output + d).slice(-4000); });
  child.stderr.on('data', (d) => { output = (output + d).slice(-4000); });
  // The last resort, when this process exits or is interrupted (Ctrl-C, node --test's timeout) before
  // close(): SIGTERM to the whole group (Xvfb then removes its lock file itself), then exit as the
  // signal would have.
  const lastResort = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch { /* already gone */ }
    rmSync(scratch, { recursive: true, force: true });
  };
  const onSignal = (signal) => {
    lastResort();
    process.exit(128 + os.constants.signals[signal]);
  };
  process.on('exit', lastResort);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
  const stop = async () => {
    // The driver first: xvfb-run then stops its Xvfb and exits by itself; then whatever is left.
    for (const p of processes()) {
      if (p.ppid === child.pid && p.pgid === child.pid && p.name === 'WebKitWebDriver') {
        try {
          process.kill(p.pid, 'SIGTERM');
        } catch { /* gone meanwhile */ }
      }
    }
    await Promise.race([exited, sleep(5000)]);
    await endGroup(child.pid);
    rmSync(scratch, { recursive: true, force: true });
    process.off('exit', lastResort);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(signal, onSignal);
  };

  let driver;
  try {
    const end = Date.now() + 20000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited (${child.exitCode}): ${output}`);
      const ready = await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.json()).then((j) => j.value?.ready).catch(() => false);
      if (ready) break;
      if (Date.now() > end) throw new Error(`WebKitWebDriver did not start: ${output}`);
      await sleep(100);
    }
    driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } })
      .build();
    await driver.manage().window().setRect(VIEWPORT).catch(() => {});
  } catch (error) {
    await driver?.quit().catch(() => {});
    await stop();
    throw error;
  }
  const capabilities = await driver.getCapabilities();
  let opened = 0;

  return {
    name: 'WebKit',
    version: `${capabilities.get('browserName')} ${capabilities.get('browserVersion')}`,
    async open(url) {
      // One window per session: a new open() replaces the page (and its log) of the previous one.
      const serial = ++opened;
      await driver.get(url);
      await driver.executeScript(`(${installErrorLog})()`);
      const element = (selector) => driver.findElement(By.css(selector));
      const tab = {
        run: (fn, ...args) => {
          if (serial !== opened) throw new Error('this page was replaced by a newer open()');
          return driver.executeScript(`return (${fn}).apply(null, arguments);`, ...args);
        },
        click: async (selector) => (await element(selector)).click(),
        async fill(selector, value, { enter = false } = {}) {
          const input = await element(selector);
          await input.clear();
          await input.sendKeys(value, ...(enter ? [Key.ENTER] : []));
        },
        chooseFile: async (selector, file) => (await element(selector)).sendKeys(file),
        errors: () => tab.run(() => window.enginesErrorLog ?? ['the error log was not installed']),
        requests: () => tab.run(pageResources),
        screenshot: async (file) => writeFileSync(file, Buffer.from(await driver.takeScreenshot(), 'base64')),
        close: async () => {},
      };
      await waitReady(tab);
      return tab;
    },
    async close() {
      try {
        await Promise.race([driver.quit(), sleep(15000)]);
      } catch { /* the group is ended below in any case */ } finally {
        await stop();
      }
    },
  };
}

// --------------------------------------------------------------------------------------- the checks

const exampleWords = (tab) => tab.run(() => [...document.querySelectorAll('#examples .chip')].map((c) => c.dataset.word));
const state = (tab) => tab.run(() => window.stepwiseState);

/** Back to step by step, greedy, with `word` typed into the box: nothing decoded yet. */
async function startWord(tab, word) {
  await tab.click('label[for="mode-steps"]');
  await tab.click('label[for="strategy-greedy"]');
  await tab.fill('#word', word);
  await waitFor(tab, (w) => window.stepwiseState.word === w, { args: [word], what: `the word '${word}'`, timeout: 5000 });
  const s = await state(tab);
  assert.equal(s.word, word);
  assert.equal(s.steps, 0);
  assert.deepEqual(s.produced, []);
  return s;
}

/** Clicks Step until the decoder is done; returns the state. */
async function stepToEnd(tab, limit = 64) {
  for (let i = 0; i < limit; i++) {
    const s = await state(tab);
    if (s.done) return s;
    await tab.click('#step');
  }
  throw new Error('the decoder did not finish');
}

/** Steps `word` to the end and checks the page's tokens against the native CLI's. */
async function stepsLikeTheCli(tab, word, native) {
  await startWord(tab, word);
  const s = await stepToEnd(tab);
  assert.equal(s.output, native.get(word), `${word}: page '${s.output}', CLI '${native.get(word)}'`);
  assert.equal(s.produced.at(-1), '</s>', `${word}: stopped after ${s.steps} steps without </s>`);
  assert.deepEqual(s.queries, ['<s>', ...s.produced.slice(0, -1)], 'each step reads what the previous one wrote');
  assert.equal(s.stepMs.length, s.steps);
  const shown = await tab.run(() => [...document.querySelectorAll('#output .token')].map((t) => t.textContent));
  assert.deepEqual(shown, ['<s>', ...s.produced]);
  return s;
}

/** Requests that left `prefix`: anything but `prefix...`, data: and blob: URLs. */
const outsideOf = (urls, prefix) => urls.filter((url) => !url.startsWith(prefix) && !/^(data|blob):/.test(url));

/**
 * The core checks, as node:test tests named under `title`, on the engine `launch()` starts (launchFirefox
 * or launchWebKit). The browser, the engine's driver processes and the server are ended in after(),
 * whatever failed.
 */
export function coreSuite(title, launch) {
  describe(title, () => suite(launch));
}

function suite(launch) {
  let engine;
  let server;
  let model;
  let tab;  // the page served over http, shared by the tests in order
  let tmp;
  const served = [];  // every path the server was asked for

  before(async () => {
    ensureSite();
    model = siteModelFile();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'stepwise-engines-'));
    server = await startServer();
    server.on('request', (req) => served.push(req.url));
    engine = await launch();
  });

  after(async () => {
    await tab?.close().catch(() => {});
    await engine?.close();
    server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    if (model) rmSync(path.dirname(model), { recursive: true, force: true });  // siteModelFile()'s folder
  });

  test('served under a sub-path: stepping example words gives the native CLI\'s tokens', async (t) => {
    t.diagnostic(engine.version);
    assert.ok(server.url.endsWith(BASE));
    tab = await engine.open(server.url);
    const s = await state(tab);
    assert.equal(s.model.builtin, true);
    assert.equal(s.message, null, 'no message after loading');
    const words = (await exampleWords(tab)).slice(0, 3);
    assert.equal(words.length, 3);
    // the first example waits at step 0 (since issue 10: every word starts there, Step enabled)
    assert.equal(s.word, words[0]);
    assert.equal(s.steps, 0, 'the first example waits at step 0 on load');
    assert.equal(s.done, false);
    const native = nativeGenerate(model, words);
    for (const word of words) await stepsLikeTheCli(tab, word, native);
  });

  test('teacher forcing: with the mask the rows equal the stepped rows; without it they change', async () => {
    const word = (await exampleWords(tab))[1];
    const stepped = await stepsLikeTheCli(tab, word, nativeGenerate(model, [word]));
    await tab.click('label[for="mode-teacher"]');
    await tab.fill('#target', stepped.output, { enter: true });
    const forced = await waitFor(tab, (target) => {
      const s = window.stepwiseState;
      return s.mode === 'teacher' && s.teacher?.fed === target ? s : null;
    }, { args: [stepped.output], what: 'teacher forcing', timeout: 5000 }).catch(() => null) ?? await state(tab);
    assert.equal(forced.mode, 'teacher');
    assert.equal(forced.causal, true);
    assert.equal(forced.teacher.fed, stepped.output);
    assert.deepEqual(forced.queries, stepped.queries);
    assert.equal(forced.teacher.rowsCompared, forced.queries.length);
    assert.ok(forced.teacher.maxDiff < 1e-5, `teacher-forced rows differ from stepped ones by ${forced.teacher.maxDiff}`);
    forced.selfAttention.forEach((layer, l) => layer.forEach((head, h) => head.forEach((row, i) => row.forEach((x, j) => {
      assert.ok(Math.abs(x - stepped.selfAttention[l][h][i][j]) <= 1e-5, `self L${l + 1} H${h + 1} [${i}, ${j}]`);
      if (j > i) assert.equal(x, 0, `masked self-attention [${i}, ${j}] = ${x}`);
    }))));

    await tab.click('#causal-switch');
    const leaky = await state(tab);
    assert.equal(leaky.causal, false);
    let upper = 0;
    for (const layer of leaky.selfAttention) for (const head of layer) head.forEach((row, i) => row.forEach((x, j) => j > i && (upper += x)));
    assert.ok(upper > 0.01, `without the mask attention reaches the future (upper triangle mass ${upper})`);
    assert.ok(leaky.teacher.maxDiff > 1e-3);
    await tab.click('#causal-switch');
    assert.equal((await state(tab)).causal, true);
    await tab.click('label[for="mode-steps"]');
  });

  test('beam search of width 3 gives the CLI\'s --beam 3 output', async () => {
    const word = (await exampleWords(tab))[2];
    await startWord(tab, word);
    await tab.click('label[for="strategy-beam"]');
    await tab.fill('#beam-width', '3', { enter: true });
    await tab.click('#reset');
    await tab.click('#step');
    let s = await state(tab);
    assert.equal(s.strategy, 'beam');
    assert.ok(s.beams.live.length >= 1 && s.beams.live.length <= 3, `${s.beams.live.length} live beams`);
    await tab.click('#run');
    s = await waitFor(tab, () => window.stepwiseState.done && window.stepwiseState, { what: 'the beam search to finish' });
    const native = nativeGenerate(model, [word], ['--beam', '3']);
    assert.equal(s.output, native.get(word));
    assert.equal(s.beams.results[0], s.output);
  });

  test('sampling with a seed: the same tokens on every run, after reloading the page, and from the CLI', async () => {
    const word = (await exampleWords(tab))[0];
    const sample = async () => {
      await startWord(tab, word);
      await tab.click('label[for="strategy-sample"]');
      await tab.fill('#temperature', '1.5', { enter: true });
      await tab.fill('#seed', '7', { enter: true });
      const runs = [];
      for (let i = 0; i < 2; i++) {
        await tab.click('#reset');
        await tab.click('#run');
        const s = await waitFor(tab, () => window.stepwiseState.done && window.stepwiseState, { what: 'sampling to finish' });
        assert.equal(s.strategy, 'sample');
        runs.push(s.produced);
      }
      assert.deepEqual(runs[1], runs[0], 'two runs in the same page');
      return runs[0];
    };
    const first = await sample();
    // The page loaded afresh, seed 7 again.
    const errorsSoFar = await tab.errors();
    const requestsSoFar = await tab.requests();
    await tab.close();
    tab = await engine.open(server.url);
    tab.earlier = { errors: errorsSoFar, requests: requestsSoFar };
    const again = await sample();
    assert.deepEqual(again, first, 'the same seed after a reload');
    assert.ok(first.length >= 2 && first.at(-1) === '</s>', `sampled ${first.join(' ')}`);
    // The engine's sampler is the CLI's: the same temperature and seed give the same tokens.
    const native = nativeGenerate(model, [word], ['--temperature', '1.5', '--seed', '7']).get(word);
    assert.equal(first.slice(0, -1).join(' '), native);
    await tab.click('label[for="strategy-greedy"]');
  });

  test('a bad model file: the engine\'s message, the built-in model kept, the page still working', async () => {
    const files = [
      ['noise.safetensors', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 97 + 13) % 256)), /noise\.safetensors: /],
      ['empty.safetensors', Buffer.alloc(0), /empty\.safetensors: not a safetensors file: 0 bytes/],
    ];
    const shipped = (await state(tab)).models.length;  // the built-in model, and the decoder-only one the site offers
    for (const [name, bytes, pattern] of files) {
      const file = path.join(tmp, name);
      writeFileSync(file, bytes);
      await tab.chooseFile('#model-file', file);
      const message = await waitFor(tab, (n) => {
        const s = window.stepwiseState;
        return !s.loading && s.message && !s.message.text.startsWith('Loading ') && s.message.text.includes(n) ? s.message : null;
      }, { what: `the message about ${name}`, args: [name] }).catch(() => null) ?? (await state(tab)).message;
      assert.equal(message?.kind, 'error', JSON.stringify(message));
      assert.match(message.text, /^Could not load that model\. /);
      assert.match(message.text, pattern);
      const s = await state(tab);
      assert.equal(s.model.builtin, true, 'the built-in model stays in use');
      assert.deepEqual(s.models.length, shipped, 'no model added');
      const word = (await exampleWords(tab))[1];
      await stepsLikeTheCli(tab, word, nativeGenerate(model, [word]));
      assert.equal((await state(tab)).message, null, 'a valid word clears the message');
    }
  });

  test('over http: no console error, no request outside the site\'s folder', async () => {
    const errors = [...tab.earlier?.errors ?? [], ...await tab.errors()];
    assert.deepEqual(errors, []);
    const seen = [...tab.earlier?.requests ?? [], ...await tab.requests()];
    assert.deepEqual(outsideOf(seen, server.url), []);
    // The server saw every request the page made to it: all under the sub-path, engine and model included.
    assert.ok(served.length >= 6, `the server saw ${served.length} requests`);
    assert.deepEqual(served.filter((url) => !url.startsWith(BASE)), []);
    for (const file of ['app.js', 'boot.js', 'style.css', 'stepwise.wasm']) assert.ok(served.includes(`${BASE}${file}`), `${file} was requested`);
    assert.ok(served.some((url) => /\.safetensors(\.gz)?$/.test(url)), 'the model was fetched (its gzip twin where the browser inflates gzip)');
    assert.ok(!served.some((url) => url.endsWith('/model.js') || url.endsWith('/engine.js')), 'not the base64 twins meant for file://');
    mkdirSync(SCREENSHOTS, { recursive: true });  // for a person to look at: build/screenshots/engine-*.png
    await tab.screenshot(path.join(SCREENSHOTS, `engine-${engine.name.toLowerCase()}.png`));
  });

  test('from file://: loads, steps to the CLI\'s tokens, no console error, nothing outside its folder', async () => {
    await tab?.close();
    tab = null;
    const before = served.length;
    const page = await engine.open(fileUrl());
    tab = page;
    const words = (await exampleWords(page)).slice(0, 2);
    const native = nativeGenerate(model, words);
    for (const word of words) await stepsLikeTheCli(page, word, native);
    assert.equal((await state(page)).message, null);
    assert.deepEqual(await page.errors(), []);
    const folder = fileUrl().replace(/index\.html$/, '');
    const loaded = await page.requests();
    assert.deepEqual(outsideOf(loaded, folder), []);
    for (const file of ['app.js', 'style.css', 'model.js', 'engine.js']) assert.ok(loaded.includes(`${folder}${file}`), `${file} was loaded`);
    assert.equal(served.length, before, 'the file:// page asked the server for nothing');

    // The error log sees what it is meant to (so an empty one above means something).
    await page.run(() => {
      console.error('probe: console.error');
      setTimeout(() => { throw new Error('probe: uncaught'); }, 0);
    });
    await sleep(300);
    const probed = await page.errors();
    assert.ok(probed.some((e) => e.includes('probe: console.error')), probed.join('\n'));
    // (WebKit reports errors on file:// pages as "Script error.", without the message: still an entry)
    assert.ok(probed.some((e) => e.startsWith('uncaught: ')), probed.join('\n'));
  });
}
