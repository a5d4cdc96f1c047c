// tools/serve.mjs serves only what lies inside its root: a symbolic link to a file or a folder outside the
// root is refused, one that stays inside is served, and a root that is itself a link works.
// Run: node --test tests/engines/serve.test.mjs (no browser, no build needed)
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { serve } from '../../tools/serve.mjs';

let dir;
let server;
let linkedRootServer;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stepwise-serve-'));
  const root = path.join(dir, 'root');
  const outside = path.join(dir, 'outside');
  mkdirSync(path.join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(root, 'index.html'), '<p>inside</p>\n');
  writeFileSync(path.join(root, 'sub', 'page.txt'), 'inside, in a folder\n');
  writeFileSync(path.join(outside, 'secret.txt'), 'outside the root\n');
  writeFileSync(path.join(outside, 'index.html'), '<p>outside</p>\n');
  symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'secret.txt'));     // a file outside
  symlinkSync(outside, path.join(root, 'elsewhere'), 'dir');                         // a folder outside
  symlinkSync('../outside/secret.txt', path.join(root, 'relative.txt'));             // relative, outside
  symlinkSync(path.join(root, 'sub', 'page.txt'), path.join(root, 'alias.txt'));     // a file inside
  symlinkSync('sub', path.join(root, 'same'), 'dir');                                // a folder inside
  symlinkSync(root, path.join(dir, 'root-link'), 'dir');                             // the root itself, linked
  server = await serve({ root, base: '/stepwise/', port: 0 });
  linkedRootServer = await serve({ root: path.join(dir, 'root-link'), base: '/stepwise/', port: 0 });
});

after(() => {
  server?.close();
  linkedRootServer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function get(base, file, headers = {}) {
  const response = await fetch(new URL(file, base), { headers, redirect: 'manual' });
  return { status: response.status, body: await response.text() };
}

test('files inside the root are served, directly and through links that stay inside', async () => {
  assert.deepEqual(await get(server.url, ''), { status: 200, body: '<p>inside</p>\n' });
  assert.deepEqual(await get(server.url, 'sub/page.txt'), { status: 200, body: 'inside, in a folder\n' });
  assert.deepEqual(await get(server.url, 'alias.txt'), { status: 200, body: 'inside, in a folder\n' });
  assert.deepEqual(await get(server.url, 'same/page.txt'), { status: 200, body: 'inside, in a folder\n' });
});

test('links to a file or a folder outside the root are refused', async () => {
  for (const file of ['secret.txt', 'relative.txt', 'elsewhere/secret.txt', 'elsewhere/', 'elsewhere/index.html']) {
    for (const headers of [{}, { 'Accept-Encoding': 'gzip' }]) {  // the compressed path too
      const { status, body } = await get(server.url, file, headers);
      assert.ok(status === 404 || status === 403, `${file}: ${status}`);
      assert.doesNotMatch(body, /outside/, file);
    }
  }
  // HEAD does not reveal the file either.
  const head = await fetch(new URL('secret.txt', server.url), { method: 'HEAD' });
  assert.ok(head.status === 404 || head.status === 403, `HEAD secret.txt: ${head.status}`);
});

test('a root that is itself a symbolic link is served; the links out of it are still refused', async () => {
  assert.deepEqual(await get(linkedRootServer.url, ''), { status: 200, body: '<p>inside</p>\n' });
  assert.deepEqual(await get(linkedRootServer.url, 'alias.txt'), { status: 200, body: 'inside, in a folder\n' });
  for (const file of ['secret.txt', 'elsewhere/secret.txt']) {
    const { status } = await get(linkedRootServer.url, file);
    assert.ok(status === 404 || status === 403, `${file}: ${status}`);
  }
});
