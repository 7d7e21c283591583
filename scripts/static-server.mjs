#!/usr/bin/env node
// Serves a directory over HTTP on 127.0.0.1 with the right MIME types (application/wasm included).
// --isolate adds COOP/COEP so performance.now() has fine resolution (for benchmarks).
// Like a production host it gzips compressible responses (for clients that accept it) and lets browsers cache
// them, with revalidation by ETag, so "warm start" measures what a returning player gets.
// Usage: node scripts/static-server.mjs <dir> [--port N] [--isolate]
// /__stall and /__big answer as broken servers do (see misbehave), for the download tests.
// Files answer `Range: bytes=N-` (and N-M) with 206, as CDNs do, so a dropped model download can resume; with
// `?drop=N` any response that would carry byte N of the file loses its connection there (a request resumed from N
// or later goes through), and `?norange=1` ignores Range (200 with the whole file), for the resume tests;
// `?pace=N` sends the file in N-byte pieces 10 ms apart, so a client sees it arrive in parts however fast the
// machine is (the download-progress tests). CORS
// lets a test page on another port send Range and If-None-Match and read ETag and Content-Range. `?csp=noworkers`
// serves the file with `Content-Security-Policy: worker-src 'none'`.
//
// Publishing a model update by changing what a static server serves (tests, and the demo's buttons). `/live/X`
// serves the published release's X, else the base directory's X (so before any publish `/live/manifest.json` is
// the base manifest); /live/ answers are `no-store`. Control requests (CORS-enabled for any origin; the body is
// JSON, sent as application/json or text/plain) answer JSON, 400 `{ error }` for a bad body:
//   POST /__publish   { version: "x.y.z", channel?: string, fault?: "none" | "sha" | "truncate" | "shadow" |
//                     "unbuildable", rollout?: 0-100 } -> { manifestUrl: "/live/manifest.json", version, fault,
//                     detail }. The release is a copy of the base manifest and files as `version` (give one above the
//                     base's: read /live/manifest.json after /__unpublish), with `channel` and `rollout:
//                     { percentage }` when given; its model file carries the version in its bytes, so it is a real
//                     download. The faults (scripts/publish.mjs): sha (other bytes than the manifest's SHA-256, same
//                     size), truncate (half the file), shadow (a model that builds but fails the shadow check),
//                     unbuildable (verifies, does not build: an operator renamed, `unknownOp` in the answer).
//   POST /__unpublish -> { manifestUrl, version: the base's }: /live/ serves the base again.
//   POST /__offline   { on: true | false } -> { offline }: while on, every other request has its connection
//                     destroyed (a browser sees a network error), preflights included.
//   GET  /__state     -> { published: version | null, fault, offline, base: version }
//   GET  /__log?since=N -> [{ seq, method, url, range }]: the last 1,000 non-control requests after seq N, so a
//                     test sees a resumed download ask for `Range: bytes=N-`.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { makeRelease, readPublish, sha256 } from './publish.mjs';

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

const gzipCache = new Map(); // path:mtime or ETag -> gzipped body

function gzipped(key, data) {
  const hit = gzipCache.get(key);
  if (hit) return hit;
  const body = zlib.gzipSync(data, { level: 6 });
  if (gzipCache.size > 64) gzipCache.clear();
  gzipCache.set(key, body);
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

function sendPaced(res, status, headers, body, pace) {
  res.writeHead(status, headers);
  let at = 0;
  const next = () => {
    if (res.destroyed) return;
    const piece = body.subarray(at, at + pace);
    at += piece.length;
    if (at >= body.length) return void res.end(piece);
    res.write(piece, () => setTimeout(next, 10));
  };
  next();
}

const CONTROL = new Set(['/__publish', '/__unpublish', '/__offline', '/__state', '/__log']);
const MAX_LOG = 1000;
const MAX_BODY = 64 * 1024;

function json(res, status, value) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'access-control-allow-origin': '*',
  }).end(JSON.stringify(value));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
      if (body.length > MAX_BODY) reject(new Error('body too large'));
    });
    req.on('end', () => {
      try {
        resolve(body.trim() === '' ? {} : JSON.parse(body));
      } catch {
        reject(new Error('the body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

// The publish state of one server: the release /live/ serves (null: the base), offline mode, the request log.
function controller(root) {
  const state = { release: null, offline: false, log: [], seq: 0 };
  const baseVersion = () => {
    try {
      return JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8')).version ?? null;
    } catch {
      return null;
    }
  };
  async function handle(req, res, url) {
    const post = req.method === 'POST';
    try {
      if (url.pathname === '/__publish' && post) {
        const release = makeRelease(root, readPublish(await readBody(req)));
        state.release = release;
        const { version, fault, detail, unknownOp } = release;
        json(res, 200, { manifestUrl: '/live/manifest.json', version, fault, detail, unknownOp });
      } else if (url.pathname === '/__unpublish' && post) {
        await readBody(req);
        state.release = null;
        json(res, 200, { manifestUrl: '/live/manifest.json', version: baseVersion() });
      } else if (url.pathname === '/__offline' && post) {
        const { on } = await readBody(req);
        if (typeof on !== 'boolean') throw new Error('on: true or false');
        state.offline = on;
        json(res, 200, { offline: on });
      } else if (url.pathname === '/__state' && req.method === 'GET') {
        const r = state.release;
        json(res, 200, { published: r?.version ?? null, fault: r?.fault ?? null, offline: state.offline, base: baseVersion() });
      } else if (url.pathname === '/__log' && req.method === 'GET') {
        const since = Number(url.searchParams.get('since') ?? 0);
        json(res, 200, state.log.filter((e) => e.seq > since));
      } else {
        json(res, 405, { error: `${req.method} ${url.pathname}: see the header of scripts/static-server.mjs` });
      }
    } catch (e) {
      json(res, 400, { error: e.message });
    }
  }
  function note(req) {
    state.log.push({ seq: ++state.seq, method: req.method, url: req.url, range: req.headers.range ?? null });
    if (state.log.length > MAX_LOG) state.log.splice(0, state.log.length - MAX_LOG);
  }
  // The bytes /live/<name> serves from the release, if it has its own.
  const released = (name) =>
    state.release && (name === 'manifest.json' ? state.release.manifest : state.release.files.get(name));
  return { state, handle, note, released };
}

// Sends a file's bytes: 304 on a matching ETag, Range (206) and ?drop=N as the file's own bytes, else the whole
// file, gzipped for clients that accept it.
function sendFile(req, res, url, { file, data, etag, gzipKey, isolate, cache }) {
  const headers = {
    'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'etag, content-range, content-length',
    'cross-origin-resource-policy': 'cross-origin',
    'accept-ranges': 'bytes',
    'cache-control': cache,
    etag,
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers).end();
    return;
  }
  // A page whose policy forbids workers (the package must then compile and run on the page's thread).
  if (url.searchParams.get('csp') === 'noworkers') headers['content-security-policy'] = "worker-src 'none'";
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
  const pace = Number(url.searchParams.get('pace'));
  if (pace > 0) {
    headers['content-length'] = data.length;
    sendPaced(res, 200, headers, data, pace);
    return;
  }
  const compressible = !/\.(png|gz)$/.test(file) && data.length > 1024;
  if (compressible && /\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
    data = gzipped(gzipKey, data);
    headers['content-encoding'] = 'gzip';
    headers.vary = 'accept-encoding';
  }
  headers['content-length'] = data.length;
  res.writeHead(200, headers).end(data);
}

export function serve(dir, { port = 0, isolate = false, maxAge = 0 } = {}) {
  const root = path.resolve(dir);
  const control = controller(root);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const isControl = CONTROL.has(url.pathname);
    if (!isControl && control.state.offline) {
      req.socket.destroy();
      return;
    }
    if (req.method === 'OPTIONS') {
      // The preflight of a cross-origin GET with Range or If-None-Match, or of a control POST with a JSON body.
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, HEAD, POST',
        'access-control-allow-headers': 'range, if-none-match, content-type',
        'access-control-max-age': '600',
      }).end();
      return;
    }
    if (isControl) {
      control.handle(req, res, url);
      return;
    }
    control.note(req);
    if (url.pathname === '/__stall' || url.pathname === '/__big') {
      misbehave(url, res);
      return;
    }
    let pathname = decodeURIComponent(url.pathname);
    const live = pathname.startsWith('/live/');
    if (live) {
      pathname = pathname.slice('/live'.length);
      const data = control.released(pathname.slice(1));
      if (data) {
        const etag = `"r-${sha256(data).slice(0, 16)}"`;
        sendFile(req, res, url, { file: pathname, data, etag, gzipKey: etag, isolate, cache: 'no-store' });
        return;
      }
    }
    let file = path.join(root, pathname);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' }).end('not found');
        return;
      }
      const stat = fs.statSync(file);
      const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
      // By default cache but revalidate (a rebuilt file is never served stale); benchmarks of returning players
      // pass maxAge, as a host serving fingerprinted assets would. /live/ is never cached: it changes on publish.
      const cache = live ? 'no-store' : maxAge > 0 ? `max-age=${maxAge}` : 'no-cache';
      sendFile(req, res, url, { file, data, etag, gzipKey: `${file}:${stat.mtimeMs}`, isolate, cache });
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
