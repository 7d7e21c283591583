#!/usr/bin/env node
// Serves a directory over HTTP on 127.0.0.1 with the right MIME types (application/wasm included).
// --isolate adds COOP/COEP so performance.now() has fine resolution (for benchmarks).
// Like a production host it gzips compressible responses (for clients that accept it) and lets browsers cache
// them, with revalidation by ETag, so "warm start" measures what a returning player gets.
// Usage: node scripts/static-server.mjs <dir> [--port N] [--isolate]
// /__stall and /__big answer as broken servers do (see misbehave), for the download tests.
// Files answer `Range: bytes=N-` (and N-M) with 206, as CDNs do, so a dropped model download can resume; with
// `?drop=N` any response that would carry byte N of the file loses its connection there (a request resumed from N
// or later goes through), and `?norange=1` ignores Range (200 with the whole file), for the resume tests. CORS
// lets a test page on another port send Range and If-None-Match and read ETag and Content-Range.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.css': 'text/css',
  '.map': 'application/json',
};

const gzipCache = new Map(); // path -> { mtimeMs, body }

function gzipped(file, data, mtimeMs) {
  const hit = gzipCache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.body;
  const body = zlib.gzipSync(data, { level: 6 });
  gzipCache.set(file, { mtimeMs, body });
  return body;
}

// Misbehaving servers for the download tests, at paths no served file has. /__stall sends its headers (none with
// ?head=0), then `bytes` bytes (default 0), then nothing until the client gives up; /__big streams `bytes` bytes
// (default 80 MB, past the runtime's 64 MB cap) without a Content-Length.
function misbehave(url, res) {
  const big = url.pathname === '/__big';
  const bytes = Number(url.searchParams.get('bytes') ?? (big ? 80 << 20 : 0));
  let closed = false;
  res.on('close', () => { closed = true; });
  if (url.searchParams.get('head') === '0') return;
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'cache-control': 'no-store',
    'access-control-allow-origin': '*',
    'cross-origin-resource-policy': 'cross-origin',
  });
  res.flushHeaders();
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const pump = () => {
    while (!closed && sent < bytes) {
      const n = Math.min(chunk.length, bytes - sent);
      sent += n;
      if (!res.write(chunk.subarray(0, n))) return void res.once('drain', pump);
    }
    if (big && !closed) res.end();
  };
  pump();
}

// The byte range a `Range` header asks for, as [start, end] inclusive within `size`; null: none or not one we
// serve (several ranges, suffix ranges); 'unsatisfiable' when it starts past the end.
function byteRange(header, size) {
  const m = /^bytes=(\d+)-(\d*)$/.exec((header || '').trim());
  if (!m) return null;
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}

// Sends data[start..=end] of a file, and with `drop` cuts the connection once file byte `drop` is reached.
function sendBytes(res, status, headers, data, start, drop) {
  const body = data.subarray(start);
  if (!(drop > start && drop < start + body.length)) {
    res.writeHead(status, headers).end(body);
    return;
  }
  res.writeHead(status, headers);
  res.write(body.subarray(0, drop - start), () => setTimeout(() => res.socket?.destroy(), 20));
}

export function serve(dir, { port = 0, isolate = false, maxAge = 0 } = {}) {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'OPTIONS') {
      // The preflight of a cross-origin GET with Range or If-None-Match.
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, HEAD',
        'access-control-allow-headers': 'range, if-none-match',
        'access-control-max-age': '600',
      }).end();
      return;
    }
    if (url.pathname === '/__stall' || url.pathname === '/__big') {
      misbehave(url, res);
      return;
    }
    let file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      // CORS so test pages on other ports (wasm-bindgen-test's server) can fetch model files from here.
      const headers = {
        'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
        'access-control-allow-origin': '*',
        'access-control-expose-headers': 'etag, content-range, content-length',
        'cross-origin-resource-policy': 'cross-origin',
        'accept-ranges': 'bytes',
      };
      const stat = fs.statSync(file);
      const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
      // By default cache but revalidate (a rebuilt file is never served stale); benchmarks of returning players
      // pass maxAge, as a host serving fingerprinted assets would.
      headers['cache-control'] = maxAge > 0 ? `max-age=${maxAge}` : 'no-cache';
      headers.etag = etag;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers).end();
        return;
      }
      if (isolate) {
        headers['cross-origin-opener-policy'] = 'same-origin';
        headers['cross-origin-embedder-policy'] = 'require-corp';
      }
      // Ranges and drops are served as the file's own bytes (no gzip), so offsets mean the same on every request.
      const range = url.searchParams.get('norange') === '1' ? null : byteRange(req.headers.range, data.length);
      const drop = url.searchParams.has('drop') ? Number(url.searchParams.get('drop')) : NaN;
      if (range === 'unsatisfiable') {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${data.length}` }).end();
        return;
      }
      if (range) {
        const [start, end] = range;
        headers['content-range'] = `bytes ${start}-${end}/${data.length}`;
        headers['content-length'] = end - start + 1;
        sendBytes(res, 206, headers, data.subarray(0, end + 1), start, drop);
        return;
      }
      if (!Number.isNaN(drop)) {
        headers['content-length'] = data.length;
        sendBytes(res, 200, headers, data, 0, drop);
        return;
      }
      const compressible = !/\.(png|gz)$/.test(file) && data.length > 1024;
      if (compressible && /\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
        data = gzipped(file, data, stat.mtimeMs);
        headers['content-encoding'] = 'gzip';
        headers.vary = 'accept-encoding';
      }
      headers['content-length'] = data.length;
      res.writeHead(200, headers).end(data);
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const server = await serve(args[0] || '.', {
    port: portAt >= 0 ? Number(args[portAt + 1]) : 8090,
    isolate: args.includes('--isolate'),
  });
  console.log(`serving ${args[0]} on http://127.0.0.1:${server.address().port}/`);
}
