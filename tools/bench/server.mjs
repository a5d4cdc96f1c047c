// The benchmark's static server for Chromium: a few folders of the repository and the model files under
// fixed URL prefixes, on localhost. With `compress` (the cold-start measurement), files up to 16 MB are
// sent compressed, brotli (quality 9) when the browser accepts it, else gzip, as a static host would. The
// cross-origin isolation headers give the pages a 5 us performance.now() instead of 100 us.
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};
const COMPRESS_LIMIT = 16 << 20;  // larger files (the base-shaped model) are sent as they are

/** routes: {'/prefix/': '/absolute/dir' | '/absolute/file'}; resolves to {url, close(), served}. */
export function serveFiles(routes, { compress = false } = {}) {
  const cache = new Map();  // file + encoding -> compressed body
  const served = [];        // {path, bytes, encoding}, in request order
  const server = http.createServer(async (req, res) => {
    try {
      const pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
      const prefix = Object.keys(routes).find((p) => pathname === p || (p.endsWith('/') && pathname.startsWith(p)));
      if (!prefix || pathname.includes('\0') || pathname.includes('..')) return res.writeHead(404).end();
      const target = routes[prefix];
      const file = prefix.endsWith('/') ? path.join(target, pathname.slice(prefix.length)) : target;
      const body = await fs.readFile(file).catch(() => null);
      if (!body) return res.writeHead(404).end();
      const headers = {
        'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'Cache-Control': 'no-cache',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
      };
      const accepts = req.headers['accept-encoding'] ?? '';
      const encoding = !compress || body.length > COMPRESS_LIMIT ? null : /\bbr\b/.test(accepts) ? 'br' : /\bgzip\b/.test(accepts) ? 'gzip' : null;
      let out = body;
      if (encoding) {
        const key = `${file}\0${encoding}`;
        if (!cache.has(key)) {
          cache.set(key, encoding === 'br'
            ? zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
            : zlib.gzipSync(body, { level: 9 }));
        }
        out = cache.get(key);
        headers['Content-Encoding'] = encoding;
        headers.Vary = 'Accept-Encoding';
      }
      served.push({ path: pathname, bytes: out.length, encoding });
      res.writeHead(200, { ...headers, 'Content-Length': out.length });
      res.end(out);
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}`, served, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
