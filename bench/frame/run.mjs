#!/usr/bin/env node
// Frame-budget benchmark (issue 18): what the runtime costs a game's main thread, in headless Chromium. For
// three cases, a cold start with the model bundled (empty storage), a warm start (model from IndexedDB) and play
// (200 analyses + 50 generate() calls, one per frame, generate against the mock cloud), it prints main-thread
// long tasks (count, total, longest; a `longtask` PerformanceObserver), the time to the first analysis, and
// analyze p50/p95/p99 from the page's side, for ours (main thread, and the worker when the package has one) and
// onnxruntime-web with env.wasm.proxy off and on. Not a test: timings are printed, never asserted.
//
//   node bench/frame/run.mjs [--engines oursWorker,ours,ort,ortProxy] [--rounds 3] [--analyses 200] [--generates 50] [--settle-ms 2000] [--mock-port 8861]
//
// Needs pkg/ (scripts/build-pkg) and starts its own servers: the static site (random port) and
// scripts/mock-cloud.mjs on --mock-port. Each round gives every engine a fresh browser context: the cold start,
// then a reload (warm start) on which play runs. Figures are medians over the rounds.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/static-server.mjs';
import { HEAD } from './head.mjs';
import { percentile } from './common.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ROUNDS = Number(arg('--rounds', 3));
const ANALYSES = Number(arg('--analyses', 200));
const GENERATES = Number(arg('--generates', 50));
const SETTLE_MS = Number(arg('--settle-ms', 2000));
const MOCK_PORT = Number(arg('--mock-port', 8861));
const out = path.join(root, 'target', 'bench', 'frame');
const site = path.join(out, 'site');
const sh = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---- inputs: held-out sentences (never trained on), and the ids our tokenizer gives them for ORT
const FIRST = 'Well met, traveller. What brings you to my forge?';
const texts = fs.readFileSync(path.join(root, 'models', 'eval', 'sentiment_test.jsonl'), 'utf8')
  .split('\n').filter(Boolean).map((l) => JSON.parse(l).text).slice(0, ANALYSES);
fs.mkdirSync(path.join(site, 'ort'), { recursive: true });
const textsFile = path.join(out, 'texts.json');
const idsFile = path.join(out, 'ids.json');
const allTexts = JSON.stringify([FIRST, ...texts]);
if (!fs.existsSync(idsFile) || !fs.existsSync(textsFile) || fs.readFileSync(textsFile, 'utf8') !== allTexts) {
  fs.writeFileSync(textsFile, allTexts);
  sh('cargo', ['run', '--quiet', '--example', 'encode', '--', textsFile, idsFile]);
}
// Only the real tokens (the model's sequence axis is free and it is padding-invariant), as ours runs them.
const ids = JSON.parse(fs.readFileSync(idsFile, 'utf8')).map((r) => r.slice(0, Math.max(1, r.indexOf(0) < 0 ? r.length : r.indexOf(0))));

// ---- the site: the model for ORT, ORT's files and page, our page bundled by webpack from pkg/
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'models', 'manifest.json'), 'utf8'));
fs.mkdirSync(path.join(site, 'models'), { recursive: true });
fs.copyFileSync(path.join(root, 'models', manifest.file), path.join(site, 'models', 'model.onnx'));
const ortDist = path.join(root, 'node_modules', 'onnxruntime-web', 'dist');
for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) fs.copyFileSync(path.join(ortDist, f), path.join(site, 'ort', f));
for (const f of ['ort.js', 'common.js']) fs.copyFileSync(path.join(import.meta.dirname, f), path.join(site, 'ort', f));
fs.writeFileSync(path.join(site, 'ort', 'index.html'), `${HEAD}<script type="module" src="/ort/ort.js"></script>`);
fs.writeFileSync(path.join(site, 'ort', 'ids.json'), JSON.stringify(ids));
sh('npx', ['webpack', '--config', 'bench/frame/webpack.config.js', '--stats', 'errors-only']);
// The worker column only when the package has a worker host.
const hasWorker = fs.existsSync(path.join(root, 'pkg', 'worker.js'));

// ---- servers
const mock = spawn(process.execPath, [path.join(root, 'scripts', 'mock-cloud.mjs'), '--port', String(MOCK_PORT)], { stdio: ['ignore', 'ignore', 'inherit'] });
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${MOCK_PORT}/health`)).ok) break;
  } catch {
    if (i > 100) throw new Error(`mock cloud did not start on port ${MOCK_PORT}`);
  }
  await new Promise((r) => setTimeout(r, 100));
}
// Cross-origin isolated (COOP/COEP): performance.now() in 5 µs steps rather than 100 µs.
const server = await serve(site, { isolate: true, maxAge: 3600 });
const base = `http://127.0.0.1:${server.address().port}`;
const cloud = `http://127.0.0.1:${MOCK_PORT}/v1`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    // Extra flags for an experiment, e.g. BENCH_CHROMIUM_ARGS='--js-flags=--wasm-caching-threshold=2000000000'.
    ...(process.env.BENCH_CHROMIUM_ARGS ? process.env.BENCH_CHROMIUM_ARGS.split(' ') : [])],
});

const allEngines = [
  ...(hasWorker ? [{ key: 'oursWorker', name: 'ours, worker', page: `/ours/?worker=1&cloud=${encodeURIComponent(cloud)}` }] : []),
  { key: 'ours', name: hasWorker ? 'ours, worker: false' : 'ours (main thread)', page: `/ours/?${hasWorker ? 'worker=0&' : ''}cloud=${encodeURIComponent(cloud)}` },
  { key: 'ort', name: 'ort-web, proxy off', page: '/ort/?proxy=0' },
  { key: 'ortProxy', name: 'ort-web, proxy on', page: '/ort/?proxy=1' },
];
// --engines oursWorker,ours: only some columns (quicker while working on one).
const only = arg('--engines', null)?.split(',');
const engines = only ? allEngines.filter((e) => only.includes(e.key)) : allEngines;

const TRACE = arg('--trace', null);
let traced = 0;
// The main thread's tasks over 50 ms in a trace, each with the events that took most of it.
function explainLongTasks(engine, buffer) {
  fs.mkdirSync(TRACE, { recursive: true });
  const file = path.join(TRACE, `${engine.key}-${traced++}.json`);
  fs.writeFileSync(file, buffer);
  const events = JSON.parse(buffer.toString()).traceEvents ?? [];
  const main = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const onMain = events.filter((e) => main.has(`${e.pid}:${e.tid}`) && e.ph === 'X' && typeof e.dur === 'number');
  for (const task of onMain.filter((e) => e.name === 'RunTask' && e.dur > 50_000)) {
    const inside = onMain.filter((e) => e !== task && e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur && e.dur > 2_000);
    const top = inside.sort((a, b) => b.dur - a.dur).slice(0, 8).map((e) => `${e.name}${e.args?.data?.url ? ` ${path.basename(e.args.data.url)}` : ''} ${(e.dur / 1000).toFixed(1)}`);
    console.error(`[trace ${file}] ${engine.name}: long task ${(task.dur / 1000).toFixed(1)} ms: ${top.join(', ')}`);
  }
}

async function round(engine) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const start = async () => {
    await page.goto(`${base}${engine.page}&settle=${SETTLE_MS}`);
    await page.waitForFunction(() => document.title === 'done', null, { timeout: 180_000 });
    const r = await page.evaluate(() => window.startResult);
    if (r.error) throw new Error(`${engine.name}: ${r.error}`);
    return r;
  };
  try {
    // --trace DIR: a Chromium trace of each cold start, and what ran inside its main-thread long tasks.
    if (TRACE) await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm', 'blink'] });
    const cold = await start();
    if (TRACE) explainLongTasks(engine, await browser.stopTracing());
    const warm = await start();
    const lines = engine.key.startsWith('ort') ? texts.map((_, i) => i) : texts;
    const played = await page.evaluate((a) => window.play(a), { analyses: ANALYSES, generates: GENERATES, lines });
    if (errors.length) console.error(`[${engine.name}] page errors: ${errors.join('; ')}`);
    return { cold, warm, play: played };
  } finally {
    await ctx.close();
  }
}

const results = Object.fromEntries(engines.map((e) => [e.key, []]));
for (let r = 0; r < ROUNDS; r++) {
  // Each round starts with the next engine: the first page of a round ran slower (the last round's contexts still
  // closing), which favoured whichever engine came second.
  for (const engine of [...engines.slice(r % engines.length), ...engines.slice(0, r % engines.length)]) {
    results[engine.key].push(await round(engine));
    process.stderr.write('.');
  }
}
process.stderr.write('\n');
await browser.close();
server.close();
mock.kill();

// ---- report
const f = (x, d = 0) => (typeof x === 'number' && !Number.isNaN(x) ? x.toFixed(d) : '—');
const med = (key, get) => median(results[key].map(get));
const row = (...cells) => console.log(`| ${cells.join(' | ')} |`);
console.log(`\nFrame budget: ${manifest.name} ${manifest.version}, headless Chromium ${browser.version()}, ${ROUNDS} rounds (medians), ` +
  `${ANALYSES} analyses + ${GENERATES} generate() in play, one call per frame; long tasks: main thread, > 50 ms.\n`);
row('', ...engines.map((e) => e.name));
row('---', ...engines.map(() => '---:'));
for (const [phase, label] of [['cold', 'cold start (model bundled)'], ['warm', 'warm start (model in IndexedDB)']]) {
  row(`${label}: first analysis (ms from navigation)`, ...engines.map((e) => f(med(e.key, (r) => r[phase].firstMs))));
  row(`${label}: long tasks, count / total ms`, ...engines.map((e) => `${f(med(e.key, (r) => r[phase].longTasks.count))} / ${f(med(e.key, (r) => r[phase].longTasks.total))}`));
  row(`${label}: longest long task (ms)`, ...engines.map((e) => f(med(e.key, (r) => r[phase].longTasks.longest))));
}
row('play: long tasks, count / total ms', ...engines.map((e) => `${f(med(e.key, (r) => r.play.longTasks.count))} / ${f(med(e.key, (r) => r.play.longTasks.total))}`));
row('play: longest long task (ms)', ...engines.map((e) => f(med(e.key, (r) => r.play.longTasks.longest))));
row('play: late frames (> 25 ms apart)', ...engines.map((e) => f(med(e.key, (r) => r.play.lateFrames))));
for (const p of ['p50', 'p95', 'p99', 'max']) row(`play: analyze ${p} (ms, page's side)`, ...engines.map((e) => f(med(e.key, (r) => r.play.analyze[p]), 2)));
// The same calls pooled over all rounds: the per-round p99 (the 2nd slowest of 200) moves by a millisecond from run
// to run, the pooled one (rounds x 200 calls) much less.
const pooled = (key, p) => percentile(results[key].flatMap((r) => r.play.analyze.times ?? []).sort((a, b) => a - b), p);
row(`play: analyze p99, all rounds pooled (ms)`, ...engines.map((e) => f(pooled(e.key, 99), 2)));
row('play: generate() p50 / p95 (ms)', ...engines.map((e) => (results[e.key][0].play.generate ? `${f(med(e.key, (r) => r.play.generate.p50), 1)} / ${f(med(e.key, (r) => r.play.generate.p95), 1)}` : '—')));
console.log('');
for (const e of engines) {
  const rs = results[e.key];
  const tasks = (phase) => rs.map((r) => `[${r[phase].longTasks.all.join(' ')}]`).join(' ');
  console.log(`${e.name}: long tasks (ms) per round, cold ${tasks('cold')}, warm ${tasks('warm')}, play ${rs.map((r) => `[${r.play.longTasks.all.join(' ')}]`).join(' ')}`);
  console.log(`  slowest analyses (call #, ms) per round: ${rs.map((r) => `[${r.play.analyze.slowest?.join(', ')}]`).join(' ')}`);
  if (rs[0].cold.model) {
    console.log(`  model (ms, median) cold: read ${f(med(e.key, (r) => r.cold.model.readMs))}, build ${f(med(e.key, (r) => r.cold.model.buildMs))}; warm: read ${f(med(e.key, (r) => r.warm.model.readMs))}, build ${f(med(e.key, (r) => r.warm.model.buildMs))}`);
  }
  for (const phase of ['cold', 'warm']) {
    if (!rs[0][phase].marks) continue;
    // Worker mode's start, step by step (ms from navigation, medians), with where the long tasks began.
    const steps = Object.keys(rs[0][phase].marks);
    console.log(`  ${phase} start steps (ms from navigation): ${steps.map((k) => `${k} ${f(med(e.key, (r) => r[phase].marks[k]))}`).join(', ')}; long tasks began at ${rs.map((r) => `[${r[phase].longTasks.startedAt.join(' ')}]`).join(' ')}`);
  }
  console.log(`  phases (ms, median) cold: ${['init', 'create', 'first'].map((k) => `${k} ${f(med(e.key, (r) => r.cold.phases[k]))}`).join(', ')}; warm: ${['init', 'create', 'first'].map((k) => `${k} ${f(med(e.key, (r) => r.warm.phases[k]))}`).join(', ')}; model from ${rs[0].cold.modelFrom} / ${rs[0].warm.modelFrom}${rs[0].play.sources ? `; generate sources ${JSON.stringify(rs[0].play.sources)}` : ''}`);
}
if (results.oursWorker) {
  const rt = results.ours ? med('oursWorker', (r) => r.play.analyze.p50) - med('ours', (r) => r.play.analyze.p50) : NaN;
  console.log(`\nworker round trip (message there and back, no work): p50 ${f(med('oursWorker', (r) => r.play.roundTrip.p50), 3)} ms, p95 ${f(med('oursWorker', (r) => r.play.roundTrip.p95), 3)} ms back to back; one per frame (from requestAnimationFrame) p50 ${f(med('oursWorker', (r) => r.play.roundTrip.framedP50), 3)} ms, p95 ${f(med('oursWorker', (r) => r.play.roundTrip.framedP95), 3)} ms; 16 ms apart from a task p50 ${f(med('oursWorker', (r) => r.play.roundTrip.spacedP50), 3)} ms, p95 ${f(med('oursWorker', (r) => r.play.roundTrip.spacedP95), 3)} ms; analyze p50 with the worker minus without: ${f(rt, 3)} ms`);
}
fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify({ engines, results }, null, 1));
