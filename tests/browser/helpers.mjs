// Shared by the browser tests: Debian's Chromium through playwright-core, the built site served under a
// sub-path (tools/serve.mjs) or opened from file://, a record of every request and console error, and the
// native CLI as the reference for tokens.
//
// They test the built site: build/ (native CLI), build-wasm/ and site/ must exist (tools/test.sh builds
// them; a missing site/ is built here).
import { after, before } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

import { serve } from '../../tools/serve.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SITE = path.join(ROOT, 'site');
export const CLI = path.join(ROOT, 'build', 'stepwise');
export const SCREENSHOTS = path.join(ROOT, 'build', 'screenshots');
export const FIXTURES = path.join(ROOT, 'tests', 'fixtures');
export const BASE = '/stepwise/';

export function ensureSite() {
  if (!existsSync(path.join(SITE, 'index.html'))) {
    execFileSync(process.execPath, [path.join(ROOT, 'tools', 'build_site.mjs')], { cwd: ROOT, stdio: 'inherit' });
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: build the native CLI first (cmake -S . -B build && cmake --build build)`);
}

export async function launch() {
  ensureSite();
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export function startServer() {
  return serve({ root: SITE, base: BASE, port: 0 });
}

/**
 * One browser and one server for a test file: launched before its tests, closed after them, and handed
 * to `take(browser, server)` once they are up.
 */
export function withBrowser(take) {
  let browser = null;
  let server = null;
  before(async () => {
    browser = await launch();
    server = await startServer();
    take(browser, server);
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });
}

export const fileUrl = () => pathToFileURL(path.join(SITE, 'index.html')).href;

/**
 * A page that records every request and every console error / uncaught exception.
 * Returns { page, requests, errors }.
 */
export async function openPage(browser, url, { width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(`console.${message.type()}: ${message.text().slice(0, 500)}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(url);
  await waitReady(page);
  return { page, requests, errors, context };
}

export async function waitReady(page, timeout = 20000) {
  await page.waitForFunction(() => window.stepwiseState?.ready === true, null, { timeout });
}

export const state = (page) => page.evaluate(() => window.stepwiseState);

/** The word input's value set as a user would type it (one input event). */
export async function typeWord(page, word) {
  await page.fill('#word', word);
}

/** Back to the defaults every test starts from: step by step, greedy. */
export async function baseline(page) {
  await page.click('label[for="mode-steps"]');
  await page.click('label[for="strategy-greedy"]');
}

/** True for the tokens that are not phonemes: <pad>, <s>, </s>. */
export const special = (token) => /^<\/?(s|pad)>$/.test(token);

/** Presses Step until the decoder is done; returns the state. */
export async function stepToEnd(page, { useKeyboard = false, limit = 64 } = {}) {
  for (let i = 0; i < limit; i++) {
    const s = await state(page);
    if (s.done) return s;
    if (useKeyboard) {
      await page.evaluate(() => document.activeElement?.blur());
      await page.keyboard.press('ArrowRight');
    } else {
      await page.click('#step');
    }
  }
  throw new Error('the decoder did not finish');
}

/** The example words the page offers for its model. */
export const exampleWords = (page) => page.$$eval('#examples .chip', (chips) => chips.map((c) => c.dataset.word));

/** The built-in model's bytes, as the site embeds them, written to a temporary file for the native CLI. */
export function siteModelFile() {
  const text = readFileSync(path.join(SITE, 'model.js'), 'utf8');
  const match = text.match(/file: "([^"]+)", base64: "([^"]+)"/);
  if (!match) throw new Error('site/model.js: no embedded model found');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stepwise-browser-'));
  const file = path.join(dir, match[1]);
  writeFileSync(file, Buffer.from(match[2], 'base64'));
  return file;
}

/** word -> phonemes from the native CLI (build/stepwise generate), with extra CLI options. */
export function nativeGenerate(model, words, options = []) {
  const out = execFileSync(CLI, ['generate', '--model', model, ...options, ...words], { encoding: 'utf8' });
  return new Map(out.split('\n').filter(Boolean).map((line) => {
    const tab = line.indexOf('\t');
    return [line.slice(0, tab), line.slice(tab + 1)];  // the phonemes may be empty (an untrained model)
  }));
}

/** Every attention matrix in the state: [name, rows] pairs. */
export function* matrices(s) {
  for (const [name, all] of [['self', s.selfAttention], ['cross', s.crossAttention], ['encoder', s.encoderAttention]]) {
    for (let l = 0; l < all.length; l++) for (let h = 0; h < all[l].length; h++) yield [`${name} L${l + 1} H${h + 1}`, all[l][h]];
  }
  if (s.drawn) yield [`drawn ${s.drawn.view}`, s.drawn.rows];
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Requests that left the site's folder: anything but `prefix...` and data: URLs. */
export const outside = (requests, prefix) => requests.filter((url) => !url.startsWith(prefix) && !url.startsWith('data:'));
