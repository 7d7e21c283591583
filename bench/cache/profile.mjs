#!/usr/bin/env node
// Sampling profile (CDP Profiler, 50 us) of one cache benchmark case in headless Chromium: prints the functions with
// the most self time and, for the wasm and glue functions of the get path, the time inclusive of callees.
// Function names need the name section: target/bench-pkg from run.mjs --build keeps it (no wasm-opt, no strip).
// Usage: node bench/cache/profile.mjs ['idb get: ours'] [200] [--top 40]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/static-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2).filter((a, i, all) => a !== '--top' && all[i - 1] !== '--top');
const name = args[0] || 'idb get: ours';
const bytes = Number(args[1] || 200);
const top = process.argv.includes('--top') ? Number(process.argv[process.argv.indexOf('--top') + 1]) : 40;

const server = await serve(root, { port: 0, isolate: true });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const context = await browser.newContext();
const page = await context.newPage();
await page.route('**/*', (route) =>
  new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort());
page.on('pageerror', (e) => console.error(String(e)));
await page.goto(`http://127.0.0.1:${server.address().port}/bench/cache/index.html`);
await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });

const cdp = await context.newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
await cdp.send('Profiler.start');
const ops = await page.evaluate(([n, b]) => window.runCase(n, b), [name, bytes]);
const { profile } = await cdp.send('Profiler.stop');
await browser.close();
server.close();

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
const label = (n) => {
  const f = n.callFrame;
  return f.functionName || `(anonymous ${f.url.split('/').pop()}:${f.lineNumber})`;
};
const self = new Map();
const inclusive = new Map();
let total = 0;
let busy = 0;
for (const s of profile.samples) {
  total++;
  const n = byId.get(s);
  const l = label(n);
  if (l !== '(idle)' && l !== '(program)') busy++;
  self.set(l, (self.get(l) || 0) + 1);
  // Inclusive: each distinct function on the stack counts once per sample.
  const seen = new Set();
  for (let id = s; id !== undefined; id = parent.get(id)) {
    const k = label(byId.get(id));
    if (!seen.has(k)) {
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) || 0) + 1);
    }
  }
}
const pct = (c) => `${((100 * c) / total).toFixed(1).padStart(5)} %`;
console.log(`${name} @ ${bytes} B: ${ops.toFixed(0)} ops/s; ${total} samples of 50 us, ${pct(busy)} not idle/program`);
console.log('\nself time');
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)}  ${k.slice(0, 140)}`);
console.log('\ninclusive time');
for (const [k, c] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)}  ${k.slice(0, 140)}`);
