#!/usr/bin/env node
// Cache benchmark: prints a table of ops/s for our tiers (through the JS API) vs lru-cache, idb-keyval and raw
// localStorage, for 200 B, 2 KB and 20 KB NPC lines, plus the compression ratio. Not a test: nothing is asserted.
// One headless Chromium, a fresh browser context per case, the page served cross-origin isolated (fine timers),
// every request not to 127.0.0.1 blocked.
// Usage: node bench/cache/run.mjs [--build] [--only memory] [--sizes 200,2048] [--repeat 3] [--pkg target/base-pkg]
//   --build rebuilds target/bench-pkg (wasm-pack --release --target web); --pkg measures another build of the same
//   kind instead (e.g. a copy of target/bench-pkg from before a change); --only keeps the rows whose operation
//   contains the text (see below); --sizes keeps those payload sizes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/static-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : null);
const pkgDir = arg('--pkg') || 'target/bench-pkg';
const pkg = path.join(root, pkgDir, 'unwritten_ai_bg.wasm');
if (process.argv.includes('--build') || (!arg('--pkg') && !fs.existsSync(pkg))) {
  execFileSync(
    'wasm-pack',
    ['build', 'wasm', '--release', '--target', 'web', '--out-dir', '../target/bench-pkg', '--out-name', 'unwritten_ai'],
    { cwd: root, stdio: 'inherit' },
  );
}

const SIZES = arg('--sizes') ? arg('--sizes').split(',').map(Number) : [200, 2048, 20480];
const PAIRS = [
  ['memory get (hit, to JS): memoryCache().get', 'memory get: ours', 'memory get: lru-cache', 'lru-cache'],
  ['memory get (hit, to JS): cacheGetSync', 'memory get: ours cacheGetSync', 'memory get: lru-cache', 'lru-cache'],
  ['memory put', 'memory put: ours', 'memory put: lru-cache', 'lru-cache'],
  ['IndexedDB get', 'idb get: ours', 'idb get: idb-keyval', 'idb-keyval get'],
  ['IndexedDB put', 'idb put: ours', 'idb put: idb-keyval', 'idb-keyval set'],
  ['IndexedDB put x100', 'idb put x100: ours putMany', 'idb put x100: idb-keyval one by one', 'idb-keyval set one by one'],
  ['IndexedDB put x100', 'idb put x100: ours putMany', 'idb put x100: idb-keyval setMany', 'idb-keyval setMany'],
  ['IndexedDB get x100', 'idb get x100: ours (concurrent cacheGet)', 'idb get x100: idb-keyval getMany', 'idb-keyval getMany'],
  ['localStorage get', 'ls get: ours', 'ls get: raw localStorage', 'raw localStorage'],
  ['localStorage put', 'ls put: ours', 'ls put: raw localStorage', 'raw localStorage'],
];

const server = await serve(root, { port: 0, isolate: true });
const url = `http://127.0.0.1:${server.address().port}/bench/cache/index.html?pkg=/${pkgDir.replace(/^\/+|\/+$/g, '')}`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});

async function runCase(name, bytes) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route('**/*', (route) =>
    new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
    if (!(await page.evaluate(() => crossOriginIsolated))) throw new Error('page is not cross-origin isolated');
    return await page.evaluate(([n, b]) => window.runCase(n, b), [name, bytes]);
  } catch (e) {
    throw new Error(`${name} @ ${bytes} B: ${e.message} ${errors.join(' ')}`);
  } finally {
    await context.close();
  }
}

const fmt = (n) => (n >= 100000 ? `${(n / 1000).toFixed(0)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0));
const size = (b) => (b >= 1024 ? `${b / 1024} KB` : `${b} B`);
// --repeat N (default 3): each case runs N times, ours and the baseline alternating, each in a fresh context, and
// the median counts. Storage timings move a lot between contexts (idb-keyval alone from 2.4k to 5k ops/s), so
// one run of each is not enough to call a ratio.
const repeat = arg('--repeat') ? Number(arg('--repeat')) : 3;
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
const samples = new Map();
const measure = async (name, bytes) => {
  const k = `${name}@${bytes}`;
  if (!samples.has(k)) samples.set(k, []);
  if (samples.get(k).length < repeat) samples.get(k).push(await runCase(name, bytes));
};
const spread = (xs) => (xs.length > 1 ? ` [${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}]` : '');

// --only <text>: just the rows whose operation contains <text> (e.g. --only memory, --only 'IndexedDB get$,IndexedDB put$').
const only = arg('--only');
const rows = [];
// Alternatives separated by commas; one ending in $ must match the whole operation ("IndexedDB get$").
const picks = (op) =>
  !only || only.split(',').some((o) => (o.endsWith('$') ? op === o.slice(0, -1) : op.includes(o)));
for (const [op, ours, theirs, theirLabel] of PAIRS.filter(([op]) => picks(op))) {
  for (const bytes of SIZES) {
    for (let i = 0; i < repeat; i++) {
      await measure(ours, bytes);
      await measure(theirs, bytes);
    }
    const [as, bs] = [samples.get(`${ours}@${bytes}`), samples.get(`${theirs}@${bytes}`)];
    const [a, b] = [median(as), median(bs)];
    rows.push([op, size(bytes), `${fmt(a)}${spread(as)}`, `${fmt(b)}${spread(bs)} (${theirLabel})`, `${(a / b).toFixed(2)}x`]);
  }
}
const header = ['operation', 'payload', 'ours ops/s', 'baseline ops/s', 'ours/baseline'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join(' | ');
console.log(`\nCache benchmark, headless ${browser.version()}, ops/s (x100 rows count items), higher is better; median of ${repeat} runs each [min-max]`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) console.log(line(r));

// Skipped when --only picks other rows.
if (picks('compression')) {
  console.log('\nCompression (raw deflate, miniz_oxide level 6 below 1 KiB, level 1 from 1 KiB) of 50 distinct NPC texts per size, from cacheStats()');
  for (const bytes of SIZES) {
    const c = await runCase('compression', bytes);
    console.log(`  ${size(bytes).padEnd(6)} stored/raw ${c.ratio.toFixed(3)} (${(100 * (1 - c.ratio)).toFixed(1)} % saved; ${c.storedBytes} of ${c.rawBytes} bytes)`);
  }
}
const wasm = fs.readFileSync(pkg);
console.log(`\n.wasm measured: ${pkgDir}, ${wasm.length} bytes (release, no wasm-opt)`);
await browser.close();
server.close();
