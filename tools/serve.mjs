#!/usr/bin/env node
// A small static file server for the built site, with no dependencies: serves a folder (site/ by default)
// under a sub-path, the way GitHub Pages serves https://user.github.io/repo/, so relative URLs are tested
// as they will be deployed. Requests outside the sub-path get 404, `/` redirects to it. Symbolic links are
// followed only to files whose real path lies inside the root; one that leads out of it gets 404.
//
// Compression as GitHub Pages applies it, so that what a visitor's browser receives can be measured here
// (tools/bench/cold.mjs): gzip on the fly, per Accept-Encoding, no brotli, for text (HTML, CSS, JavaScript,
// JSON, SVG, plain text) and application/wasm; binary files (.safetensors, .gz, images) as they are.
// (GitHub documents no list: this is what others report seeing from Pages.)
//
//   node tools/serve.mjs [--root site] [--base /stepwise/] [--port 8000] [--host 127.0.0.1]
//   (PORT in the environment sets the default port; --port 0 picks a free one)
//
// Also importable: `const server = await serve({ root, base, port })`; server.url is the page's URL.
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.txt', '.tsv', '.wasm']);

/** Normalises a sub-path to '/x/y/' form ('/' for the root). */
function normaliseBase(base) {
  const parts = String(base).split('/').filter(Boolean);
  return parts.length ? `/${parts.join('/')}/` : '/';
}

export function serve({ root = 'site', base = '/stepwise/', port = 8000, host = '127.0.0.1', log = false } = {}) {
  const rootDir = path.resolve(root);
  const prefix = normaliseBase(base);
  const gzipCache = new Map();  // path -> { mtimeMs, body }

  const server = http.createServer(async (req, res) => {
    if (log) res.on('finish', () => console.log(`${res.statusCode} ${req.method} ${req.url}`));
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      const url = new URL(req.url, 'http://localhost');
      let pathname;
      try {
        pathname = decodeURIComponent(url.pathname);
      } catch {
        return send(400, 'bad request\n');
      }
      if (pathname === '/' && prefix !== '/') return send(302, `see ${prefix}\n`, { Location: prefix });
      if (`${pathname}/` === prefix) return send(301, `see ${prefix}\n`, { Location: prefix });
      if (!pathname.startsWith(prefix) || pathname.includes('\0')) return send(404, 'not found\n');
      let file = path.join(rootDir, pathname.slice(prefix.length));
      if (file !== rootDir && !file.startsWith(rootDir + path.sep)) return send(404, 'not found\n');
      let stat = await fs.stat(file).catch(() => null);
      if (stat?.isDirectory()) {
        file = path.join(file, 'index.html');
        stat = await fs.stat(file).catch(() => null);
      }
      if (!stat?.isFile()) return send(404, 'not found\n');
      // Symbolic links are followed only within the root: the file's real path must lie under the root's
      // (resolved on each request, so a rebuilt or relinked root is seen as it is now).
      const realRoot = await fs.realpath(rootDir).catch(() => null);
      const realFile = await fs.realpath(file).catch(() => null);
      if (!realRoot || !realFile || !realFile.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep)) {
        return send(404, 'not found\n');
      }
      const ext = path.extname(file).toLowerCase();
      const headers = {
        'Content-Type': TYPES[ext] ?? 'application/octet-stream',
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      };
      if (COMPRESSIBLE.has(ext) && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        let cached = gzipCache.get(file);
        if (!cached || cached.mtimeMs !== stat.mtimeMs) {
          cached = { mtimeMs: stat.mtimeMs, body: zlib.gzipSync(await fs.readFile(file)) };
          gzipCache.set(file, cached);
        }
        res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip', 'Content-Length': cached.body.length, Vary: 'Accept-Encoding' });
        return res.end(req.method === 'HEAD' ? undefined : cached.body);
      }
      res.writeHead(200, { ...headers, 'Content-Length': stat.size });
      if (req.method === 'HEAD') return res.end();
      // (1 MiB chunks: with the default 64 kB ones a busy machine spent a third of a second on the model's
      // twenty-odd turns of the event loop, which a visitor's static host does not)
      createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
    } catch (error) {
      send(500, `${error.message}\n`);
    }
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      server.url = `http://${shownHost}:${address.port}${prefix}`;
      resolve(server);
    });
  });
}

function parseArgs(argv) {
  const options = { root: 'site', base: '/stepwise/', port: Number(process.env.PORT ?? 8000), host: '127.0.0.1', log: true };
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (key === '--root') options.root = value();
    else if (key === '--base') options.base = value();
    else if (key === '--port') options.port = Number(value());
    else if (key === '--host') options.host = value();
    else if (key === '--quiet') options.log = false;
    else if (key === '-h' || key === '--help') {
      console.log('usage: node tools/serve.mjs [--root site] [--base /stepwise/] [--port 8000] [--host 127.0.0.1] [--quiet]');
      process.exit(0);
    } else {
      console.error(`serve: unknown argument '${argv[i]}' (try --help)`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    console.error(`serve: bad port '${options.port}'`);
    process.exit(2);
  }
  return options;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  try {
    await fs.access(path.join(options.root, 'index.html'));
  } catch {
    console.error(`serve: ${path.join(options.root, 'index.html')} not found; build the site first: node tools/build_site.mjs`);
    process.exit(1);
  }
  const server = await serve(options).catch((error) => {
    console.error(`serve: cannot listen on ${options.host}:${options.port}: ${error.message}`);
    process.exit(1);
  });
  const shown = options.host === '127.0.0.1' ? server.url.replace('//127.0.0.1:', '//localhost:') : server.url;
  console.log(`Stepwise is served from ${path.resolve(options.root)} at\n\n    ${shown}\n\n(Ctrl-C stops it)`);
}
