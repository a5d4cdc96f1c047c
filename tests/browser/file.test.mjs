// The built site opened from file://, as after a double-click on site/index.html: no server, no
// network, the same Content-Security-Policy. Chromium refuses ES modules and fetch() there, which is why
// the site is classic scripts with the model embedded (tools/build_site.mjs).
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

import { SITE, exampleWords, fileUrl, launch, nativeGenerate, openPage, outside, siteModelFile, state, stepToEnd, typeWord } from './helpers.mjs';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('from file://: the page loads, steps to the native CLI\'s tokens, and requests nothing outside its folder', async () => {
  const { page, requests, errors, context } = await openPage(browser, fileUrl());
  const csp = await page.$eval('meta[http-equiv="Content-Security-Policy"]', (m) => m.content);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  const words = await exampleWords(page);
  const native = nativeGenerate(siteModelFile(), words.slice(0, 2));
  for (const word of words.slice(0, 2)) {
    await typeWord(page, word);
    const s = await stepToEnd(page);
    assert.equal(s.output, native.get(word));
  }
  await page.click('#tab-cross');
  const s = await state(page);
  assert.ok(s.drawn.rows.length > 0);
  assert.deepEqual(errors, []);
  const folder = `${pathToFileURL(SITE).href}/`;
  assert.ok(requests.some((url) => url === `${folder}model.js`));
  assert.ok(requests.some((url) => url === `${folder}engine.js`));
  assert.deepEqual(outside(requests, folder), []);
  await context.close();
});
