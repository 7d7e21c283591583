// Does a transfer pay where worker mode crosses threads? (issue 18, "transfer, not copies"). In headless Chromium,
// with an echo worker, for the shapes worker mode sends: the texts of an analyzeBatch() (main -> worker) and its
// analyses (worker -> main), as structured clones (what proxy.js / worker.js send today) and packed into an
// ArrayBuffer that is transferred. It prints the main thread's cost per message: postMessage() for what it sends,
// reading `event.data` (Chromium deserialises there) plus unpacking for what it receives. Medians of 50.
//   node bench/frame/transfer.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/static-server.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'transfer-'));
// The worker echoes texts back as analyses, cloned or packed (11 numbers each: 3 probs, 5 traits, relationship,
// truncated, latency; the label is derived from the probs on unpacking, as a packed reply would have to).
fs.writeFileSync(path.join(dir, 'worker.js'), `
const analysis = (i) => ({ sentiment: { label: 'positive', probs: [0.1, 0.2, 0.7] }, personality: [0.5, 0.6, 0.4, 0.55, 0.3],
  relationship: 0.2 + i * 1e-6, truncated: false, latencyMs: 2.1 });
onmessage = (ev) => {
  const m = ev.data;
  const n = m.n;
  if (m.packed) {
    const f = new Float32Array(n * 11);
    for (let i = 0; i < n; i++) { const a = analysis(i); f.set([...a.sentiment.probs, ...a.personality, a.relationship, 0, a.latencyMs], i * 11); }
    postMessage({ packed: f.buffer }, [f.buffer]);
  } else {
    postMessage({ analyses: Array.from({ length: n }, (_, i) => analysis(i)) });
  }
};`);
fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html><script type="module">
const w = new Worker('/worker.js');
const LABELS = ['negative', 'neutral', 'positive'];
const unpack = (buf) => {
  const f = new Float32Array(buf);
  const out = [];
  for (let i = 0; i < f.length; i += 11) {
    const probs = [f[i], f[i + 1], f[i + 2]];
    out.push({ sentiment: { label: LABELS[probs.indexOf(Math.max(...probs))], probs }, personality: Array.from(f.subarray(i + 3, i + 8)),
      relationship: f[i + 8], truncated: f[i + 9] !== 0, latencyMs: f[i + 10] });
  }
  return out;
};
const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
async function one(n, packed, textLen) {
  const texts = Array.from({ length: n }, (_, i) => ('The blacksmith nods slowly. ' + i).padEnd(textLen, 'x'));
  const send = [], recv = [];
  for (let r = 0; r < 50; r++) {
    const got = new Promise((resolve) => { w.onmessage = (ev) => {
      const t0 = performance.now();
      const d = ev.data;
      const out = packed ? unpack(d.packed) : d.analyses;
      recv.push(performance.now() - t0);
      resolve(out.length);
    }; });
    const t0 = performance.now();
    if (packed) {
      const buf = new TextEncoder().encode(texts.join('\\u0000')).buffer;
      w.postMessage({ n, packed: true, texts: buf }, [buf]);
    } else {
      w.postMessage({ n, packed: false, texts });
    }
    send.push(performance.now() - t0);
    await got;
  }
  return { send: med(send), recv: med(recv) };
}
const rows = [];
for (const n of [1, 64, 1024]) for (const textLen of [128, 2000]) {
  rows.push({ n, textLen, cloned: await one(n, false, textLen), packed: await one(n, true, textLen) });
}
window.result = rows;
</script>`);

const server = await serve(dir, { isolate: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
const rows = await page.waitForFunction(() => window.result, null, { timeout: 120_000 }).then((h) => h.jsonValue());
await browser.close();
server.close();
fs.rmSync(dir, { recursive: true, force: true });

const f = (x) => x.toFixed(3);
console.log(`\nMain-thread ms per message, headless Chromium ${browser.version()}, medians of 50 (cloned = structured clone, as sent today; packed = one ArrayBuffer, transferred)\n`);
console.log('| texts x chars | send texts: cloned | send texts: packed (encode + transfer) | receive analyses: cloned | receive analyses: packed (unpack) |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.n} x ${r.textLen} | ${f(r.cloned.send)} | ${f(r.packed.send)} | ${f(r.cloned.recv)} | ${f(r.packed.recv)} |`);
