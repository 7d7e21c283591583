#!/usr/bin/env node
// A local HTTP server the runtime's tests and demo talk to instead of a cloud. Real sockets, real CORS.
//   GET  /health            -> {"ok":true}
//   GET  /delay?ms=N        -> answers after N ms; a client that aborts first is counted in /stats.aborted
//   GET  /status?code=N     -> answers with that status (and Retry-After: 1 for 429/503)
//   GET  /big?bytes=N       -> streams N bytes of JSON-ish text (at most 1 GB); a client that stops reading and
//                              aborts is counted in /stats.aborted
//   POST /echo              -> {"method","headers","body"} of the request
//   GET  /stats             -> {"requests","aborted"} since start (or since POST /stats/reset)
// A mock cloud (reproducible character lines with usage fields; the same request gets the same line):
//   POST /v1/chat/completions                  OpenAI-compatible chat completions
//   POST /v1/batch/chat/completions            {"requests":[body,...]} -> {"responses":[{"status","body"},...]}
//   POST /v1beta/models/{model}:generateContent Gemini
//   POST /v1/messages                          Anthropic
// Faults, switchable at run time (every field optional; rates are 0..1, drawn from a seeded generator):
//   POST /__faults {latencyMs, jitterMs, errorRate, errorStatus, status429RetryAfter, rateLimitRate,
//                   malformedRate, hangRate, refusalRate, offline, seed}   -> the faults now in force
//   GET  /__faults;  POST /__reset  (no faults, counters zeroed, seed 1)
//   GET  /__stats    -> {"chat","batches","batchedItems","served","errors","rateLimited","malformed","hung",
//                        "refused","offline","aborted","tokensIn","tokensOut"}
// Usage: node scripts/mock-cloud.mjs [--port 8787]   (env MOCK_PORT also works)
import http from 'node:http';

const argPort = process.argv.indexOf('--port');
const port = Number(argPort > 0 ? process.argv[argPort + 1] : process.env.MOCK_PORT || 8787);
const stats = { requests: 0, aborted: 0 };

const cors = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers':
    'content-type, authorization, x-api-key, x-goog-api-key, anthropic-version, anthropic-dangerous-direct-browser-access, if-none-match',
  'access-control-expose-headers': 'retry-after, etag',
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

// ---- the mock cloud ----

const NO_FAULTS = {
  latencyMs: 0, jitterMs: 0, errorRate: 0, errorStatus: 500, status429RetryAfter: null, rateLimitRate: 1,
  malformedRate: 0, hangRate: 0, refusalRate: 0, offline: false, seed: 1,
};
let faults = { ...NO_FAULTS };
const freshCloudStats = () => ({
  chat: 0, batches: 0, batchedItems: 0, served: 0, errors: 0, rateLimited: 0, malformed: 0, hung: 0, refused: 0,
  offline: 0, aborted: 0, tokensIn: 0, tokensOut: 0,
});
let cloudStats = freshCloudStats();

// mulberry32: the same seed gives the same fault sequence.
let rngState = 1;
function random() {
  rngState = (rngState + 0x6d2b79f5) | 0;
  let t = Math.imul(rngState ^ (rngState >>> 15), 1 | rngState);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const OPENERS = ['Hmm.', 'Well now.', 'Ah.', 'Listen.', 'By the old roads,', 'Truth be told,', 'Heh.', 'Look here.'];
const MIDDLES = [
  'the river has been restless since the last moon',
  "I've seen stranger things walk through that gate",
  'you ask a lot of questions for someone so new to town',
  'the bread will not bake itself, so be quick about it',
  'there is a storm coming, and not the kind with rain',
  "I'd keep my voice down if I were you",
  "that's the third time today someone's asked me that",
  'my father used to say the same, rest his bones',
];
const CLOSERS = ['What of it?', 'Mark my words.', 'Now, what do you want?', 'Go on, then.', 'Remember that.', ''];

// A reproducible line for a prompt: the same character and words give the same line.
function characterLine(system, user, json) {
  const name = (/You are ([^,.]+)/.exec(system) || [])[1] || 'Stranger';
  const h = hash(`${system}\n${user}`);
  const opener = OPENERS[h % OPENERS.length];
  let middle = MIDDLES[(h >>> 8) % MIDDLES.length] + '.';
  if (opener.endsWith('.')) middle = middle.charAt(0).toUpperCase() + middle.slice(1);
  const line = [opener, middle, CLOSERS[(h >>> 16) % CLOSERS.length]].filter(Boolean).join(' ');
  return json ? JSON.stringify({ speaker: name, line }) : line;
}

const tokens = (s) => Math.max(1, Math.ceil(s.length / 4));

// Decides this request's fate from the faults in force: null (serve it) or what to do instead.
function drawFault() {
  if (faults.offline) return 'offline';
  if (random() < faults.hangRate) return 'hang';
  if (faults.status429RetryAfter != null && random() < faults.rateLimitRate) return 'rateLimited';
  if (random() < faults.errorRate) return 'error';
  if (random() < faults.malformedRate) return 'malformed';
  if (random() < faults.refusalRate) return 'refusal';
  return null;
}

function latency() {
  return Math.max(0, faults.latencyMs + (faults.jitterMs ? random() * faults.jitterMs : 0));
}

// Answers {status, headers, body} for one completion, or null to hang.
function complete(fault, system, user, json, shape) {
  switch (fault) {
    case 'rateLimited':
      cloudStats.rateLimited += 1;
      return { status: 429, headers: { 'retry-after': String(faults.status429RetryAfter) }, body: { error: { message: 'rate limited' } } };
    case 'error':
      cloudStats.errors += 1;
      return { status: faults.errorStatus, headers: {}, body: { error: { message: 'mock server error' } } };
    case 'malformed':
      cloudStats.malformed += 1;
      return { status: 200, headers: {}, body: '{"choices": [{"message": {"content": "trunc' };
    default: {
      let text = characterLine(system, user, json);
      if (fault === 'refusal') {
        cloudStats.refused += 1;
        text = "I'm sorry, but I can't help with that. As an AI language model I cannot roleplay.";
      }
      const [tin, tout] = [tokens(system) + tokens(user), tokens(text)];
      cloudStats.served += 1;
      cloudStats.tokensIn += tin;
      cloudStats.tokensOut += tout;
      return { status: 200, headers: {}, body: shape(text, tin, tout) };
    }
  }
}

const openaiShape = (model) => (text, tin, tout) => ({
  id: `chatcmpl-mock-${hash(text).toString(16)}`,
  object: 'chat.completion',
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
  usage: { prompt_tokens: tin, completion_tokens: tout, total_tokens: tin + tout },
});

function openaiParts(body) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const system = msgs.filter((m) => m.role === 'system').map((m) => m.content).join('\n');
  const user = msgs.filter((m) => m.role !== 'system').map((m) => m.content).join('\n');
  return [system, user, body.response_format?.type === 'json_object'];
}

// Serves one request after the configured latency, honouring hang/offline, and counting aborts.
function serveCloud(req, res, produce) {
  const fault = drawFault();
  if (fault === 'offline') {
    cloudStats.offline += 1;
    req.socket.destroy();
    return;
  }
  let done = false;
  res.on('close', () => {
    if (!done) cloudStats.aborted += 1;
  });
  if (fault === 'hang') {
    cloudStats.hung += 1;
    return;
  }
  setTimeout(() => {
    const out = produce(fault);
    done = true;
    send(res, out.status, out.body, out.headers);
  }, latency());
}

function parseJson(raw) {
  try {
    return JSON.parse(raw || '{}');
  } catch {
    return null;
  }
}

async function cloudRoute(req, res, url) {
  const raw = await readBody(req);
  const body = parseJson(raw);
  if (body === null) return send(res, 400, { error: { message: 'request body is not JSON' } });
  const path = url.pathname;
  if (path === '/v1/chat/completions') {
    cloudStats.chat += 1;
    const [system, user, json] = openaiParts(body);
    return serveCloud(req, res, (fault) => complete(fault, system, user, json, openaiShape(body.model)));
  }
  if (path === '/v1/batch/chat/completions') {
    const items = Array.isArray(body.requests) ? body.requests : [];
    cloudStats.batches += 1;
    cloudStats.batchedItems += items.length;
    // The batch as a whole can hang, go offline or be slow; each item draws its own error/malformed/refusal.
    return serveCloud(req, res, (batchFault) => {
      if (batchFault === 'rateLimited' || batchFault === 'error') return complete(batchFault);
      const responses = items.map((item) => {
        const [system, user, json] = openaiParts(item);
        const f = drawFault();
        const out = complete(f === 'hang' || f === 'offline' ? 'error' : f, system, user, json, openaiShape(item.model));
        return { status: out.status, body: out.body };
      });
      return { status: 200, headers: {}, body: { responses } };
    });
  }
  const gemini = /^\/v1beta\/models\/([^:]+):generateContent$/.exec(path);
  if (gemini) {
    cloudStats.chat += 1;
    const system = (body.systemInstruction?.parts || []).map((p) => p.text).join('\n');
    const user = (body.contents || []).flatMap((c) => c.parts || []).map((p) => p.text).join('\n');
    const json = body.generationConfig?.responseMimeType === 'application/json';
    return serveCloud(req, res, (fault) =>
      complete(fault, system, user, json, (text, tin, tout) => ({
        candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: tin, candidatesTokenCount: tout, totalTokenCount: tin + tout },
        modelVersion: gemini[1],
      })),
    );
  }
  if (path === '/v1/messages') {
    cloudStats.chat += 1;
    const user = (body.messages || []).map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
    return serveCloud(req, res, (fault) =>
      complete(fault, body.system || '', user, false, (text, tin, tout) => ({
        id: `msg_mock_${hash(text).toString(16)}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [{ type: 'text', text }],
        stop_reason: 'end_turn',
        usage: { input_tokens: tin, output_tokens: tout },
      })),
    );
  }
  return send(res, 404, { error: `no route ${path}` });
}

async function faultsRoute(req, res) {
  if (req.method === 'POST') {
    const body = parseJson(await readBody(req));
    if (body === null || typeof body !== 'object') return send(res, 400, { error: 'expected a JSON object' });
    const unknown = Object.keys(body).filter((k) => !(k in NO_FAULTS));
    if (unknown.length) return send(res, 400, { error: `unknown fault fields: ${unknown.join(', ')}` });
    faults = { ...faults, ...body };
    if ('seed' in body) rngState = Number(body.seed) | 0;
  }
  return send(res, 200, faults);
}

let flagVersion = 0;
let flagDoc = { doc: {}, status: 200, etag: '"v0"' };
const flagStats = { gets: 0, notModified: 0 };

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
    case '/big': {
      const total = Math.min(Number(url.searchParams.get('bytes') || 0), 1 << 30);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      res.writeHead(200, { 'content-type': 'application/json', ...cors });
      res.on('close', () => {
        if (sent < total) stats.aborted += 1;
      });
      const pump = () => {
        while (sent < total && !res.destroyed) {
          const n = Math.min(chunk.length, total - sent);
          sent += n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      return pump();
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
    case '/flags': {
      // A remote flag document for the flags tests: POST { doc, status } sets it (a new ETag each time); GET
      // answers 304 to the current ETag, or `status` when it is set (a failing flag server).
      if (req.method === 'POST') {
        const body = JSON.parse((await readBody(req)) || '{}');
        flagDoc = { doc: body.doc ?? {}, status: body.status ?? 200, etag: `"v${++flagVersion}"` };
        return send(res, 200, { etag: flagDoc.etag });
      }
      flagStats.gets += 1;
      if (flagDoc.status !== 200) return send(res, flagDoc.status, { error: 'flag server failing' });
      if (req.headers['if-none-match'] === flagDoc.etag) {
        flagStats.notModified += 1;
        res.writeHead(304, { ...cors, etag: flagDoc.etag });
        return res.end();
      }
      return send(res, 200, flagDoc.doc, { etag: flagDoc.etag });
    }
    case '/flags/stats':
      return send(res, 200, flagStats);
    case '/__faults':
      return faultsRoute(req, res);
    case '/__reset':
      faults = { ...NO_FAULTS };
      rngState = 1;
      cloudStats = freshCloudStats();
      return send(res, 200, { faults, stats: cloudStats });
    case '/__stats':
      return send(res, 200, cloudStats);
    default:
      if (req.method === 'POST' && (url.pathname.startsWith('/v1/') || url.pathname.startsWith('/v1beta/'))) {
        return cloudRoute(req, res, url);
      }
      return send(res, 404, { error: `no route ${url.pathname}` });
  }
});

server.listen(port, '127.0.0.1', () => console.log(`mock cloud listening on http://127.0.0.1:${port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
