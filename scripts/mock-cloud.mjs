#!/usr/bin/env node
// A local HTTP server the runtime's tests and demo talk to instead of a cloud. Real sockets, real CORS.
//   GET  /health            -> {"ok":true}
//   GET  /delay?ms=N        -> answers after N ms; a client that aborts first is counted in /stats.aborted
//   GET  /status?code=N     -> answers with that status (and Retry-After: 1 for 429/503)
//   POST /echo              -> {"method","headers","body"} of the request
//   GET  /stats             -> {"requests","aborted"} since start (or since POST /stats/reset)
// Usage: node scripts/mock-cloud.mjs [--port 8787]   (env MOCK_PORT also works)
import http from 'node:http';

const argPort = process.argv.indexOf('--port');
const port = Number(argPort > 0 ? process.argv[argPort + 1] : process.env.MOCK_PORT || 8787);
const stats = { requests: 0, aborted: 0 };

const cors = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization, x-api-key, x-goog-api-key, anthropic-version',
  'access-control-expose-headers': 'retry-after',
  'access-control-max-age': '600',
};

function send(res, status, body, headers = {}) {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...cors, ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => resolve(data));
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (req.method === 'OPTIONS') return send(res, 204, '');
  if (url.pathname !== '/stats') stats.requests += 1;
  switch (url.pathname) {
    case '/health':
      return send(res, 200, { ok: true });
    case '/stats':
      if (req.method === 'POST') Object.assign(stats, { requests: 0, aborted: 0 });
      return send(res, 200, stats);
    case '/delay': {
      const ms = Math.min(Number(url.searchParams.get('ms') || 0), 120_000);
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        send(res, 200, { delayedMs: ms });
      }, ms);
      res.on('close', () => {
        if (!done) {
          clearTimeout(timer);
          stats.aborted += 1;
        }
      });
      return;
    }
    case '/status': {
      const code = Number(url.searchParams.get('code') || 500);
      const extra = code === 429 || code === 503 ? { 'retry-after': '1' } : {};
      return send(res, code, { status: code }, extra);
    }
    case '/echo': {
      const body = await readBody(req);
      return send(res, 200, { method: req.method, headers: req.headers, body });
    }
    default:
      return send(res, 404, { error: `no route ${url.pathname}` });
  }
});

server.listen(port, '127.0.0.1', () => console.log(`mock cloud listening on http://127.0.0.1:${port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
