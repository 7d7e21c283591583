#!/usr/bin/env node
// Model benchmark: this runtime vs onnxruntime-web on the same ONNX file and the same inputs, in one headless
// Chromium run, each engine in a fresh browser context. Prints tables and ratios. Not a test.
//
//   node bench/model/run.mjs [--runs 600] [--warmup-ms 1500] [--rounds 3] [--warm-starts 5] [--restarts 5]
//                            [--play-ms 5000] [--no-simd-build]
//
// Needs pkg/ (scripts/build-pkg). --no-simd-build also builds a scalar package (target/bench/pkg-nosimd, a few
// minutes) to show what +simd128 is worth.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/static-server.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('--runs', 600));
const WARMUP_MS = Number(arg('--warmup-ms', 1500));
const WITH_NOSIMD = process.argv.includes('--no-simd-build');
const WARM_STARTS = Number(arg('--warm-starts', 5));
const ROUNDS = Number(arg('--rounds', 3));
const RESTARTS = Number(arg('--restarts', 5));
const PLAY_MS = Number(arg('--play-ms', 5000));
const out = path.join(root, 'target', 'bench', 'model');
const site = path.join(out, 'site');
// The middle record of `xs` by `get` (the upper one of an even count: a record must be one that happened), and
// the median of numbers (of an even count, the mean of the two middle ones, so that neither engine is favoured).
const middle = (xs, get) => [...xs].sort((a, b) => get(a) - get(b))[Math.floor(xs.length / 2)];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...opts });

// ---- inputs: 600 held-out sentences (never trained on) and the ids our tokenizer gives them
const texts = fs.readFileSync(path.join(root, 'models', 'eval', 'sentiment_test.jsonl'), 'utf8')
  .split('\n').filter(Boolean).map((l) => JSON.parse(l).text).slice(0, Math.max(RUNS, 600));
const FIRST = 'Well met, traveller. What brings you to my forge?';
fs.mkdirSync(site, { recursive: true });
fs.writeFileSync(path.join(out, 'texts.json'), JSON.stringify([FIRST, ...texts]));
sh('cargo', ['run', '--quiet', '--example', 'encode', '--', path.join(out, 'texts.json'), path.join(out, 'ids.json')]);
const allIds = JSON.parse(fs.readFileSync(path.join(out, 'ids.json'), 'utf8'));
const inputs = texts.map((text, i) => ({ text, ids: allIds[i + 1] }));
const realIds = (ids) => ids.slice(0, Math.max(1, ids.indexOf(0) < 0 ? ids.length : ids.indexOf(0)));

// ---- the site: models, ORT files, our bundles
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'models', 'manifest.json'), 'utf8'));
fs.mkdirSync(path.join(site, 'models'), { recursive: true });
for (const f of ['manifest.json', manifest.file, manifest.vocab.file, manifest.responseBank.file]) fs.copyFileSync(path.join(root, 'models', f), path.join(site, 'models', f));
fs.copyFileSync(path.join(root, 'models', manifest.file), path.join(site, 'models', 'model.onnx'));
// The same files with paddingInvariant off: our runtime then runs all 128 ids of every analysis, as onnxruntime-web does
// when it is given ids padded to 128 (the issue's "one 128-token analysis").
fs.mkdirSync(path.join(site, 'models-128'), { recursive: true });
for (const f of [manifest.file, manifest.vocab.file, manifest.responseBank.file]) fs.copyFileSync(path.join(root, 'models', f), path.join(site, 'models-128', f));
fs.writeFileSync(path.join(site, 'models-128', 'manifest.json'), JSON.stringify({ ...manifest, paddingInvariant: false }));
// onnxruntime-web can only be given trimmed ids when the file's sequence axis is not fixed (a symbol, as in 2.1.0).
const seqAxis = manifest.inputs[0].shape[1];
const trimmable = manifest.paddingInvariant === true && typeof seqAxis === 'string';
const ortDist = path.join(root, 'node_modules', 'onnxruntime-web', 'dist');
fs.mkdirSync(path.join(site, 'ort'), { recursive: true });
for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) fs.copyFileSync(path.join(ortDist, f), path.join(site, 'ort', f));
for (const f of ['ort.js', 'cold-ort.js', 'common.js']) fs.copyFileSync(path.join(import.meta.dirname, f), path.join(site, 'ort', f));
fs.writeFileSync(path.join(site, 'ort', 'index.html'), '<!doctype html><title>loading</title><script type="module" src="/ort/ort.js"></script>');
fs.writeFileSync(path.join(site, 'ort', 'cold.html'), '<!doctype html><title>loading</title><script type="module" src="/ort/cold-ort.js"></script>');
fs.writeFileSync(path.join(site, 'ort', 'first-ids.json'), JSON.stringify(allIds[0]));
const webpack = (extra) => sh('npx', ['webpack', '--config', 'bench/model/webpack.config.js', '--stats', 'errors-only', ...extra]);
webpack([]);
if (WITH_NOSIMD) {
  const nosimd = path.join(root, 'target', 'bench', 'pkg-nosimd');
  sh('wasm-pack', ['build', 'wasm', '--release', '--target', 'web', '--out-dir', nosimd, '--out-name', 'unwritten_ai'], {
    env: { ...process.env, RUSTFLAGS: '-C target-feature=-simd128', CARGO_TARGET_DIR: path.join(root, 'target', 'nosimd') },
  });
  // The package entry (index.js, with the default init) and the package.json that points at it, as finish-pkg makes.
  for (const f of ['index.js', 'package.json']) fs.copyFileSync(path.join(root, 'pkg', f), path.join(nosimd, f));
  fs.cpSync(path.join(root, 'pkg', 'model'), path.join(nosimd, 'model'), { recursive: true });
  webpack(['--env', `pkg=${nosimd}`, '--env', `out=${path.join(site, 'ours-nosimd')}`, '--env', 'publicPath=/ours-nosimd/']);
}

// ---- run
const server = await serve(site, { isolate: true, maxAge: 3600 });
const base = `http://127.0.0.1:${server.address().port}`;
const launchOptions = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
};
const browser = await chromium.launch(launchOptions);
const transfers = {};

// No ctx.route() here: Playwright's request interception turns off the HTTP cache, and the warm start must see
// the cache a returning player has. The pages only load from the local server.
async function context(name) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error(`[${name}] ${e.message}`));
  // What each page fetched, by its Content-Length. Not resp.body(): copying every body out over CDP (5 MB of
  // .wasm per load) loads the machine while the page starts, and inflated the warm start by ~140 ms.
  page.on('response', (resp) => {
    const url = new URL(resp.url()).pathname;
    if (!/\.(wasm|m?js|onnx|txt|json)$/.test(url)) return;
    (transfers[name] ??= {})[url] = Number(resp.headers()['content-length'] ?? NaN);
  });
  return { ctx, page };
}

async function steadyRun(name, pagePath, pick) {
  const { ctx, page } = await context(name);
  await page.goto(`${base}${pagePath}`);
  await page.waitForFunction(() => document.title === 'ready' && window.bench, null, { timeout: 60_000 });
  const setup = await page.evaluate(() => window.bench.setup());
  const data = inputs.map(pick);
  const steady = await page.evaluate(([d, w, r]) => window.bench.steady(d, w, r), [data, WARMUP_MS, RUNS]);
  const batch = await page.evaluate(([d]) => window.bench.batch(d, 32, 40), [data]);
  const outputs = await page.evaluate(([d]) => window.bench.outputs(d), [data.slice(0, 200)]);
  await ctx.close();
  return { name, setup, steady, batch, outputs };
}

async function coldWarm(name, pagePath) {
  const { ctx, page } = await context(`${name}-cold`);
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  // DevTools' "Fast 4G" preset: 9 Mbit/s down, 1.5 Mbit/s up, 60 ms latency.
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 60, downloadThroughput: 9e6 / 8, uploadThroughput: 1.5e6 / 8 });
  const result = async () => {
    await page.waitForFunction(() => document.title === 'done', null, { timeout: 120_000 });
    return page.evaluate(() => window.coldResult);
  };
  await page.goto(`${base}${pagePath}`);
  const cold = await result();
  // Warm starts: the median of WARM_STARTS reloads (one reload is at the mercy of the machine).
  const warms = [];
  for (let i = 0; i < WARM_STARTS; i++) {
    await page.goto(`${base}${pagePath}`);
    warms.push(await result());
  }
  const warm = { ...middle(warms, (w) => w.firstResultMs), all: warms.map((w) => Math.round(w.firstResultMs)) };
  await ctx.close();
  return { cold, warm };
}

// A returning player's next session: the browser was closed and is started again. One persistent profile keeps
// what a real one keeps (the disk HTTP cache, IndexedDB, V8's code cache for the .wasm). The first session
// downloads the model and then plays for PLAY_MS (analyses one after another, as a conversation would); then, RESTARTS
// times, a new browser on that profile goes from navigation to the first result and is closed. Unlike the reloads
// above, every restart starts a new renderer process: the .wasm is compiled again, or read from V8's code cache if
// the first session left one there (V8 writes it once enough of the module has been optimised; its size is printed).
async function restartWarm(name, pagePath) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `unwritten-bench-${name}-`));
  const session = async (playMs) => {
    const ctx = await chromium.launchPersistentContext(dir, launchOptions);
    try {
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      page.on('pageerror', (e) => console.error(`[${name}-restart] ${e.message}`));
      await page.goto(`${base}${pagePath}`);
      await page.waitForFunction(() => document.title === 'done', null, { timeout: 120_000 });
      const result = await page.evaluate(() => window.coldResult);
      if (playMs > 0) result.played = await page.evaluate((ms) => window.play(ms), playMs);
      return result;
    } finally {
      await ctx.close();
    }
  };
  try {
    const first = await session(PLAY_MS);
    const codeCacheDir = path.join(dir, 'Default', 'Code Cache', 'wasm');
    const codeCache = fs.existsSync(codeCacheDir)
      ? fs.readdirSync(codeCacheDir).filter((f) => /_0$/.test(f)).reduce((a, f) => a + fs.statSync(path.join(codeCacheDir, f)).size, 0)
      : 0;
    const runs = [];
    for (let i = 0; i < RESTARTS; i++) runs.push(await session(0));
    const all = runs.map((r) => Math.round(r.firstResultMs));
    return { ...middle(runs, (r) => r.firstResultMs), all, played: first.played, codeCache };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Steady state in ROUNDS rounds, the engines alternating within each, every run in a fresh context; the tables give
// each figure's median over the rounds, and each ratio's median over the rounds' own ratios (see `ratio`). The
// per-round p50 ratios are printed too.
const rounds = [];
for (let r = 0; r < ROUNDS; r++) {
  rounds.push({
    ours128: await steadyRun('ours-128', '/ours/?manifest=/models-128/manifest.json', (x) => ({ text: x.text })),
    ort: await steadyRun('ort', '/ort/', (x) => ({ ids: x.ids })),
    ours: await steadyRun('ours', '/ours/', (x) => ({ text: x.text })),
    ortTrim: trimmable ? await steadyRun('ort-real', '/ort/', (x) => ({ ids: realIds(x.ids) })) : null,
  });
}
const acrossRounds = (key) => {
  const runs = rounds.map((r) => r[key]);
  if (!runs[0]) return null;
  const med = (get) => median(runs.map(get));
  return {
    name: runs[0].name,
    setup: { setupMs: med((x) => x.setup.setupMs) },
    steady: { ...Object.fromEntries(['p50', 'p95', 'p99', 'mean'].map((k) => [k, med((x) => x.steady[k])])), warmupRuns: runs[0].steady.warmupRuns },
    batch: { perSecond: med((x) => x.batch.perSecond) },
    outputs: runs[0].outputs,
    runs,
  };
};
const [ours128, ort, ours, ortTrim] = ['ours128', 'ort', 'ours', 'ortTrim'].map(acrossRounds);
const nosimd = WITH_NOSIMD ? await steadyRun('ours-nosimd', '/ours-nosimd/', (x) => ({ text: x.text })) : null;
const oursCold = await coldWarm('ours', '/ours/cold.html');
const ortCold = await coldWarm('ort', '/ort/cold.html');
const oursRestart = RESTARTS > 0 ? await restartWarm('ours', '/ours/cold.html') : null;
const ortRestart = RESTARTS > 0 ? await restartWarm('ort', '/ort/cold.html') : null;
await browser.close();
server.close();

// ---- report
const diff = (a, b) => {
  let d = 0;
  a.outputs.forEach((row, i) => row.forEach((v, j) => (d = Math.max(d, Math.abs(v - b.outputs[i][j])))));
  return d;
};
const maxDiff = diff(ours128, ort);
const maxDiffReal = diff(ours, ort);
const meanReal = inputs.slice(0, RUNS).reduce((a, x) => a + realIds(x.ids).length, 0) / Math.min(RUNS, inputs.length);

function bytes(files) {
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const b = fs.readFileSync(f);
    raw += b.length;
    gz += zlib.gzipSync(b, { level: 9 }).length;
  }
  return { raw, gz };
}
const list = (dir, re) => fs.readdirSync(dir).filter((f) => re.test(f)).map((f) => path.join(dir, f));
const model = path.join(site, 'models', manifest.file);
const vocab = path.join(site, 'models', manifest.vocab.file);
const oursWasm = bytes(list(path.join(site, 'ours'), /\.wasm$/));
const oursJs = bytes(list(path.join(site, 'ours'), /^ours\.js$/));
const ortWasm = bytes([path.join(site, 'ort', 'ort-wasm-simd-threaded.wasm')]);
const ortJs = bytes([path.join(site, 'ort', 'ort.wasm.min.mjs'), path.join(site, 'ort', 'ort-wasm-simd-threaded.mjs')]);
const modelB = bytes([model]);
const oursTotal = bytes([...list(path.join(site, 'ours'), /\.wasm$/), ...list(path.join(site, 'ours'), /^ours\.js$/), model, vocab]);
const ortTotal = bytes([path.join(site, 'ort', 'ort-wasm-simd-threaded.wasm'), path.join(site, 'ort', 'ort.wasm.min.mjs'), path.join(site, 'ort', 'ort-wasm-simd-threaded.mjs'), model]);
const wasmModelOurs = oursWasm.gz + modelB.gz + bytes([vocab]).gz;
const wasmModelOrt = ortWasm.gz + modelB.gz;

const f = (x, d = 3) => (typeof x === 'number' ? x.toFixed(d) : String(x));
const kib = (x) => `${(x / 1024).toFixed(0)} KiB`;
const row = (...cells) => console.log(`| ${cells.join(' | ')} |`);
const chromeVersion = browser.version ? browser.version() : '';
console.log(`\nModel benchmark: ${manifest.name} ${manifest.version} (${kib(fs.statSync(model).size)}), ${RUNS} held-out inputs, warm-up ${WARMUP_MS} ms, headless Chromium ${chromeVersion}`);
console.log(`onnxruntime-web ${JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')).version} (wasm, 1 thread, SIMD) gets pre-tokenized ids; ours gets text and tokenizes inside every timed call.\n`);
// Each ratio is the median over rounds of that round's ratio: the two engines of one round ran a minute apart,
// so their ratio is free of the machine's drift between rounds (a ratio of the two medians is not: the medians can
// come from different rounds).
const roundRatios = (a, b, get) => a.runs.map((r, i) => get(r) / get(b.runs[i]));
const ratio = (a, b, get) => median(roundRatios(a, b, get));
const steadyRows = (a, b) => {
  for (const k of ['p50', 'p95', 'p99', 'mean']) row(`${k} (ms)`, f(a.steady[k]), f(b.steady[k]), f(ratio(a, b, (r) => r.steady[k]), 2));
};
row('steady state, one 128-token analysis (ids padded to 128)', 'ours', 'onnxruntime-web', 'ours / ort');
row('---', '---:', '---:', '---:');
steadyRows(ours128, ort);
row('batch of 32 (analyses/s)', f(ours128.batch.perSecond, 0), f(ort.batch.perSecond, 0), f(ratio(ours128, ort, (r) => r.batch.perSecond), 2));
const perRound = (a, b) => roundRatios(a, b, (r) => r.steady.p50).map((x) => f(x, 2)).join(', ');
console.log(`\n(figures: medians of ${ROUNDS} rounds; ratios: medians of the per-round ratios; p50 ours / ort per round: ${perRound(ours128, ort)})`);
console.log(`(ours with the manifest's paddingInvariant off; max |ours - ort| over 200 inputs x 9 outputs: ${maxDiff.toExponential(2)})\n`);
row(`steady state, real tokens only (no trailing [PAD]; mean ${f(meanReal, 1)} ids)`, 'ours', trimmable ? 'onnxruntime-web' : 'onnxruntime-web, 128 ids', 'ours / ort');
row('---', '---:', '---:', '---:');
const ortR = ortTrim || ort;
steadyRows(ours, ortR);
row('batch of 32 (analyses/s; ort pads each batch to its longest)', f(ours.batch.perSecond, 0), f(ortR.batch.perSecond, 0), f(ratio(ours, ortR, (r) => r.batch.perSecond), 2));
console.log(`\n(figures: medians of ${ROUNDS} rounds; ratios: medians of the per-round ratios; p50 ours / ort per round: ${perRound(ours, ortR)})`);
console.log(`(ours as shipped${manifest.paddingInvariant ? ', paddingInvariant: only the real tokens run' : ' (the manifest is not paddingInvariant: 128 ids)'}; ${trimmable ? 'onnxruntime-web given the same real ids' : 'the model file fixes its sequence axis at 128, so onnxruntime-web is given 128 ids'}; max |ours - ort 128| ${maxDiffReal.toExponential(2)})\n`);
row('session/runtime setup, model already fetched (ms)', f(ours.setup.setupMs, 0), f(ort.setup.setupMs, 0), f(ours.setup.setupMs / ort.setup.setupMs, 2));
row('cold start, Fast 4G: navigation to first result (ms)', f(oursCold.cold.firstResultMs, 0), f(ortCold.cold.firstResultMs, 0), f(oursCold.cold.firstResultMs / ortCold.cold.firstResultMs, 2));
row(`warm start, model in IndexedDB: navigation to first result (ms; median of ${WARM_STARTS})`, f(oursCold.warm.firstResultMs, 0), f(ortCold.warm.firstResultMs, 0), f(oursCold.warm.firstResultMs / ortCold.warm.firstResultMs, 2));
// The runtime's own share of the warm start: from create() to the first result (the .wasm is compiled before the
// page's script starts, in the 'script' phase). Not comparable with ORT's, which compiles its .wasm inside its
// session setup, so no ratio.
if (oursCold.warm.phases) row('of which create() to first result, ours (ms)', f(oursCold.warm.phases.model + oursCold.warm.phases.first, 0), '', '');
if (oursRestart) row(`warm start after a browser restart: navigation to first result (ms; median of ${RESTARTS})`, f(oursRestart.firstResultMs, 0), f(ortRestart.firstResultMs, 0), f(oursRestart.firstResultMs / ortRestart.firstResultMs, 2));
const ph = (r) => (r.phases ? `script ${f(r.phases.script, 0)}, wasm ${f(r.phases.wasm, 0)}, model ${f(r.phases.model, 0)}, first ${f(r.phases.first, 0)}${r.phases.modelRead != null ? ` (of which Runtime.start ${f(r.phases.runtimeStart, 0)}; model read ${f(r.phases.modelRead, 0)}, build ${f(r.phases.modelBuild, 0)})` : ''}` : r.error || '?');
console.log(`\nphases (ms) ours cold: ${ph(oursCold.cold)}; warm: ${ph(oursCold.warm)}`);
console.log(`phases (ms) ort  cold: ${ph(ortCold.cold)}; warm: ${ph(ortCold.warm)} (ort's 'wasm' includes its session setup)`);
console.log(`warm starts (ms): ours ${oursCold.warm.all.join(', ')}; ort ${ortCold.warm.all.join(', ')}`);
if (oursRestart) {
  console.log(`after a restart (ms): ours ${oursRestart.all.join(', ')}; ort ${ortRestart.all.join(', ')}`);
  console.log(`phases (ms) after a restart, ours: ${ph(oursRestart)}; ort: ${ph(ortRestart)}`);
  console.log(`(first session: ours played ${oursRestart.played} analyses and left ${kib(oursRestart.codeCache)} of V8 code cache for its .wasm; ort ${ortRestart.played} and ${kib(ortRestart.codeCache)})`);
}
console.log(`(cold: ours from ${oursCold.cold.modelFrom}, ort from ${ortCold.cold.modelFrom}; warm: ours from ${oursCold.warm.modelFrom}, ort from ${ortCold.warm.modelFrom}; first line read as ${oursCold.cold.label} / ${ortCold.cold.label})\n`);
row('bytes to download', 'ours raw', 'ours gzip', 'ort raw', 'ort gzip');
row('---', '---:', '---:', '---:', '---:');
row('.wasm', kib(oursWasm.raw), kib(oursWasm.gz), kib(ortWasm.raw), kib(ortWasm.gz));
row('JS', kib(oursJs.raw), kib(oursJs.gz), kib(ortJs.raw), kib(ortJs.gz));
row('model (+ vocab for ours)', kib(modelB.raw + fs.statSync(vocab).size), kib(modelB.gz + bytes([vocab]).gz), kib(modelB.raw), kib(modelB.gz));
row('total', kib(oursTotal.raw), kib(oursTotal.gz), kib(ortTotal.raw), kib(ortTotal.gz));
console.log(`\nwasm + model, gzip: ours ${kib(wasmModelOurs)} vs ort ${kib(wasmModelOrt)} = ${f(wasmModelOurs / wasmModelOrt, 2)}x`);
if (nosimd) console.log(`without +simd128: p50 ${f(nosimd.steady.p50)} ms vs ${f(ours.steady.p50)} ms with it (${f(nosimd.steady.p50 / ours.steady.p50, 2)}x slower); batch ${f(nosimd.batch.perSecond, 0)}/s`);
console.log(`warm-up runs: ours ${ours128.steady.warmupRuns} / ${ours.steady.warmupRuns}, ort ${ort.steady.warmupRuns}${ortTrim ? ` / ${ortTrim.steady.warmupRuns}` : ''}`);
fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify({ ours128, ort, ours, ortTrim, nosimd, oursCold, ortCold, oursRestart, ortRestart, maxDiff, maxDiffReal, transfers }, null, 1));
