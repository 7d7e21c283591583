// End-to-end: the demo page (served by webpack-dev-server, as the demo command does) and the consumer game
// (built from the packed tarball) in Debian's Chromium via playwright-core. Fails on any console error.
// Usage: node tests/e2e/run.mjs [--demo-only]   (after scripts/build-pkg and the consumer build)
// The mock cloud and the model server must be running at UNWRITTEN_MOCK_URL and UNWRITTEN_MODELS_URL (as
// scripts/test starts them; default 127.0.0.1:8787 and :8788); E2E_DEMO_PORT is the demo page's port (8181).
// --demo-only runs the demo page's scenario alone (no consumer build needed).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { runDemoScenario } from './demo.mjs';
import { launchFirefox } from './firefox.mjs';
import { serve } from '../../scripts/static-server.mjs';
import { CHROMIUM_ARGS } from './browsers.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const outDir = path.join(root, 'target', 'e2e');
fs.mkdirSync(outDir, { recursive: true });
// The package version every page must report.
const expected = JSON.parse(fs.readFileSync(path.join(root, 'pkg', 'package.json'), 'utf8')).version;

const MOCK_URL = (process.env.UNWRITTEN_MOCK_URL || 'http://127.0.0.1:8787').replace(/\/$/, '');
const MODELS_URL = (process.env.UNWRITTEN_MODELS_URL || 'http://127.0.0.1:8788/').replace(/\/?$/, '/');
const demoOnly = process.argv.includes('--demo-only');

let failures = 0;
// The browser the checks that follow are about.
let where = 'chromium';
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} [${where}] ${what}`);
  if (!ok) failures += 1;
}

async function startDemoServer(port) {
  const child = spawn('npx', ['webpack', 'serve', '--config', 'webpack.config.js', '--env', `port=${port}`], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 240; i++) {
    try {
      const r = await fetch(url);
      if (r.ok && /compiled/.test(log)) return { child, url };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  process.kill(-child.pid);
  throw new Error(`demo server did not come up:\n${log}`);
}

async function openPage(browser, url, readySelector) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  await page.route(/^(?!http:\/\/127\.0\.0\.1)/, (route) => route.abort());
  await page.goto(url);
  await page.waitForSelector(readySelector, { timeout: 30_000 }).catch(() => {});
  return { context, page, problems };
}

// The consumer game's report (tests/consumer/src/index.ts), whichever browser ran it.
function checkGame(outText) {
  let out = {};
  try { out = JSON.parse(outText); } catch {}
  // A word missing from the report matches nothing the game saw.
  const expectedOf = (group) => new Proxy(out.expected?.[group] ?? {}, {
    get: (known, k) => known[k] ?? `(expected.${group}.${String(k)} missing)`,
  });
  const words = expectedOf('words');
  const fields = expectedOf('fields');
  const rejects = (what, e, name, field) => {
    const ok = e?.name === name && (field === undefined || e?.field === field);
    const got = e ? `${e.name}${e.field ? ` field ${e.field}` : ''}${ok ? '' : `: ${e.message}`}` : 'it did not fail';
    check(ok, `${what} with ${name}${field === undefined ? '' : ` field ${field}`} (got ${got})`);
  };

  // Every method of the class in the installed package's declarations (but wasm-bindgen's free() and the `__` ones
  // the package's own worker host calls) has an entry.
  const dts = fs.readFileSync(path.join(root, 'tests/consumer/node_modules/unwritten-ai/unwritten_ai.d.ts'), 'utf8');
  const classBody = dts.match(/export class UnwrittenAI \{([\s\S]*?)\n\}/)?.[1] ?? '';
  const methods = [...classBody.matchAll(/^\s+(?:static )?([A-Za-z_]\w*)\(/gm)].map((m) => m[1]);
  const missing = ['init', ...methods.filter((m) => m !== 'free' && !m.startsWith('__'))].filter((m) => !(m in out));
  check(methods.length > 20 && missing.length === 0,
    `consumer report has an entry for init() and every method of UnwrittenAI (missing: ${missing.join(', ') || 'none'})`);

  check(out.init?.exportsUnwrittenAI === true, 'init() resolves to the module exports (with UnwrittenAI)');
  check(out.version?.version === expected, `version() is the package's ${expected} (got ${out.version?.version})`);
  check(out.create?.namespace === 'consumer-game', `create(config) applied the namespace (got ${out.create?.namespace})`);
  rejects('create() rejects a bad namespace', out.create?.badConfig, words.invalidConfig, fields.badNamespace);

  const lm = out.loadModel ?? {};
  check(lm.progressCalls > 0 && lm.lastLoaded > 0 && lm.lastLoaded === lm.lastTotal,
    `loadModel(onProgress) reported progress (${lm.progressCalls} calls, last ${lm.lastLoaded}/${lm.lastTotal} bytes)`);
  check(lm.state === words.modelReady && lm.loadMs > 0,
    `loadModel() resolves to a ${words.modelReady} status (got ${lm.state}, ${lm.loadMs} ms)`);
  const ms = out.modelStatus ?? {};
  check(ms.state === words.modelReady && ms.responseBank === words.bankReady && Boolean(ms.name),
    `modelStatus(): model ${ms.state}, response bank ${ms.responseBank} (${ms.name}, strategy ${ms.strategy})`);
  const an = out.analyze ?? {};
  check(an.label === words.hostile, `analyze() reads the hostile line as ${words.hostile} (got ${an.label})`);
  check(Math.abs(an.probsSum - 1) < 1e-3 && an.traits === 5 && Math.abs(an.relationship) <= 1 && an.truncated === false,
    `analyze() result is well formed (probs sum ${an.probsSum}, ${an.traits} traits, ` +
    `relationship ${an.relationship}, truncated ${an.truncated})`);
  const ab = out.analyzeBatch ?? {};
  check(ab.count === 2 && ab.labels?.[0] === words.grateful && ab.labels?.[1] === words.hostile,
    `analyzeBatch([grateful, hostile]) is [${words.grateful}, ${words.hostile}] (got [${ab.labels}])`);

  const g1 = out.generate?.first ?? {};
  const g2 = out.generate?.second ?? {};
  check(typeof g1.text === 'string' && g1.text.length > 0 && g1.cached === false && g1.source === words.localSource,
    `generate() answers a greeting from the local model (source ${g1.source}, route ${g1.route}, ` +
    `fallbacks [${g1.fallbacks}]: ${g1.text})`);
  check(g2.cached === true && g2.text === g1.text && g2.fallbacksIsArray === true && g2.source === words.memorySource,
    `generate() of the same request again is the cached line (cached ${g2.cached}, source ${g2.source})`);
  rejects('generate() rejects importance 2', out.generate?.badRequest, words.invalidRequest, fields.badImportance);
  check(out.takeEvents?.isArray === true, `takeEvents() is an array (events: [${out.takeEvents?.types}])`);
  const up = out.checkForModelUpdate ?? {};
  check(up.update === 'current' && up.state === 'ready',
    `checkForModelUpdate() finds the served version current and the model still ready (update ${up.update}, ` +
    `state ${up.state}, version ${up.version})`);
  rejects('rollbackModel() without a backup', out.rollbackModel?.noBackup, 'ModelNotReady');
  check(out.isEnabled?.useLocalAi === true && out.getFlag?.threshold === 0.3,
    `isEnabled('useLocalAi') and getFlag('localAiThreshold') give the design's defaults ` +
    `(${out.isEnabled?.useLocalAi}, ${out.getFlag?.threshold})`);
  rejects('isEnabled(42) throws', out.isEnabled?.badFlag, words.invalidRequest, 'flag');
  check(out.variant?.unknownIsUndefined === true && out.inRollout?.unknownIsUndefined === true,
    'variant() and inRollout() of an unknown name are undefined');
  check(out.refreshFlags?.outcome === 'off', `refreshFlags() without flags.url is "off" (${out.refreshFlags?.outcome})`);
  const rep = out.onReport ?? {};
  check(rep.analyzeCount >= 3 && rep.watched === 7 && out.offReport?.stopped === true && out.offReport?.unknown === false,
    `onReport(cb, 1000) hands over metrics() with the monitor (${rep.analyzeCount} analyses timed, ` +
    `${rep.watched} figures watched), and offReport(id) stops it`);
  rejects('onReport(a string) throws', rep.badReport, words.invalidRequest, 'callback');
  const ob = out.observe ?? {};
  check(ob.observed === 3 && ob.rejected === 1, `observe() counts 3 events and 1 refused (got ${ob.observed}, ${ob.rejected})`);
  rejects('observe() rejects hour 25', ob.badEvent, words.invalidRequest, fields.badHour);
  const cr = out.canonicalRequest ?? {};
  check(cr.npcId === 'bram' && cr.playerText === 'Any news?' && cr.scene === 'the forge' && cr.cached === true,
    `canonicalRequest(moment) is the request for the moment, the same each time (cached ${cr.cached})`);

  const key = out.cacheKey ?? {};
  check(key.length > 0 && key.orderIrrelevant === true && key.playerMatters === true,
    `cacheKey() gives a ${key.length}-char key, the same for reordered parts, another for another player`);
  const putText = out.cachePut?.text;
  const get = out.cacheGet ?? {};
  check(Boolean(putText) && get.text === putText && get.tier === words.memoryTier,
    `cachePut(key, text, 0.9) then cacheGet(key) finds it in the ${words.memoryTier} tier (got ${get.tier}: ${get.text})`);
  const view = out.memoryCache ?? {};
  check(view.text === putText && view.has === true && view.size >= 1,
    `memoryCache(): get() finds the line, has() is true, size ${view.size}`);
  check(out.cacheGetSync?.text === putText && out.cacheGetSync?.missIsUndefined === true,
    'cacheGetSync() finds the line and is undefined for an unknown key');
  check(out.cachePutMany?.stored === 2, `cachePutMany() stored both entries (got ${out.cachePutMany?.stored})`);
  const inv = out.cacheInvalidate ?? {};
  check(inv.lineGone === true && inv.viewHas === false && inv.otherPlayerKept === true,
    `cacheInvalidate(player) removes that player's line only (gone ${inv.lineGone}, memoryCache().has ${inv.viewHas}, ` +
    `other player's kept ${inv.otherPlayerKept})`);
  check(out.clearCache?.entriesAfter === 0 && out.clearCache?.foundAfter === false,
    `clearCache() empties every tier (entries ${out.clearCache?.entriesAfter}, found ${out.clearCache?.foundAfter})`);
  const st = out.cacheStats ?? {};
  check(st.memoryHits >= 1 && st.syncMisses >= 1 && st.misses >= 0 && st.hitRate > 0 && st.hitRate <= 1 &&
    st.sameAsMetrics === true,
    `cacheStats() counts (memory hits ${st.memoryHits}, misses ${st.misses}, sync misses ${st.syncMisses}, ` +
    `hit rate ${st.hitRate}; same as metrics().cache ${st.sameAsMetrics})`);

  const m = out.metrics ?? {};
  check(m.version === expected && m.namespace === 'consumer-game' && m.indexedDb === words.tierAvailable &&
    m.modelState === words.modelReady && m.routerCalls >= 2 && m.uptimeMs > 0,
    `metrics(): IndexedDB ${m.indexedDb}, model ${m.modelState}, ${m.routerCalls} generate calls, uptime ${m.uptimeMs} ms`);
  const rd = out.refreshDevice ?? {};
  check(rd.version === expected && rd.hasDevice === true && rd.uptimeMs >= m.uptimeMs,
    `refreshDevice() resolves to fresh metrics (uptime ${rd.uptimeMs} ms)`);
  const d = out.dispose ?? {};
  rejects('after dispose(), generate() rejects', d.disposedCall, words.disposed);
  rejects('after dispose(), metrics() throws', d.disposedSync, words.disposed);
  check(d.secondDisposeOk === true, 'dispose() a second time is harmless');
}

// The crash page's report (tests/consumer/src/crash.ts).
function checkCrash(crashText) {
  let crash = {};
  try { crash = JSON.parse(crashText); } catch {}
  const crashed = crash.expected?.crashed ?? '(expected.crashed missing)';
  const rejectsCrashed = (what, o) => check(o?.settled === 'rejected' && o.error?.name === crashed,
    `${what} rejects with ${crashed} (got ${o?.settled}${o?.error ? `: ${o.error.name} ${o.error.message}` : ''})`);
  check(typeof crash.before === 'string' && crash.before.length > 0, 'the first runtime answered before the trap');
  rejectsCrashed('a trap inside a future: its pending promise', crash.asyncTrap);
  check(['resolved', 'rejected'].includes(crash.afterAsync?.inflight?.settled),
    `a call in flight during the trap settled (${crash.afterAsync?.inflight?.settled})`);
  rejectsCrashed('generate() on the trapped runtime', crash.afterAsync?.generate);
  check(crash.afterAsync?.version?.name === crashed, `version() on the trapped runtime throws ${crashed} ` +
    `(got ${crash.afterAsync?.version?.name})`);
  check(crash.afterAsync?.dispose === null, 'dispose() on the trapped runtime is harmless');
  for (const [name, w] of [['after the async trap', crash.secondWorks], ['after the sync trap', crash.thirdWorks]]) {
    check(typeof w?.text === 'string' && w.text.length > 0 && w.label === crash.expected?.label &&
      w.kept === crash.expected?.kept,
      `create() ${name} works on a fresh instance: generate, analyze (${w?.label}), the line cached before the ` +
      `crash is kept (${w?.kept})`);
  }
  rejectsCrashed('a trap inside a call', crash.syncTrap);
  rejectsCrashed('generate() on the runtime of the second trapped instance', crash.afterSync?.generate);
  // worker: true, and the worker closed with no error event (crash.ts silentDeath): the proxy's watchdog.
  const s = crash.silent ?? {};
  check(typeof s.before === 'string', `worker mode: the runtime answered before its worker was closed (${s.before})`);
  rejectsCrashed('worker mode: the call that closed the worker silently', s.closed);
  rejectsCrashed('worker mode: a call sent to the silently closed worker', s.pending);
  check(s.after?.settled === 'resolved' && s.label === crash.expected?.label,
    `worker mode: the next call works on a fresh worker (${s.after?.settled}, ${s.label})`);
  check(s.restarts === 1 && /no message/.test(s.reason ?? ''),
    `worker mode: one runtimeRestarted event, saying why (${s.restarts}: ${s.reason})`);
  check(s.mainThread === 'InvalidRequest', `__forceTrap('silent') without a worker is refused (${s.mainThread})`);
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
const demo = await startDemoServer(Number(process.env.E2E_DEMO_PORT || 8181));
try {
  // 1. The demo page's scenario (tests/e2e/demo.mjs): local and cloud lines, a breaker and an alert, a
  // pre-generated greeting, IndexedDB after a reload.
  await runDemoScenario(browser, { url: demo.url, mockUrl: MOCK_URL, modelsUrl: MODELS_URL, outDir, check, version: expected });
  if (!demoOnly) await consumerAndCrashPages();
} finally {
  await browser.close();
  try { process.kill(-demo.child.pid); } catch {}
}

async function consumerAndCrashPages() {
  // 2. The consumer game (tests/consumer/src), built from the packed tarball, uses every public method of
  // UnwrittenAI and reports the outcome of each in #out. Vocabulary words (labels, states, tiers, error names) are
  // compared only with `out.expected`, which the game copies from tests/consumer/src/expect.ts: update them there.
  const consumerDir = path.join(root, 'tests', 'consumer', 'dist');
  const server = await serve(consumerDir);
  const consumerUrl = `http://127.0.0.1:${server.address().port}/`;
  const c = await openPage(browser, consumerUrl, '#out:not([data-state="loading"])');
  await c.page.waitForSelector('#out:not([data-state="loading"])', { timeout: 90_000 }).catch(() => {});
  const gameState = await c.page.getAttribute('#out', 'data-state');
  const outText = (await c.page.textContent('#out')) || '';
  check(gameState === 'done', `consumer game ran to the end (${gameState}${gameState === 'done' ? '' : `: ${outText}`})`);
  checkGame(outText);
  check(c.problems.length === 0, `no console errors in the consumer game ${c.problems.join(' | ')}`);
  await c.context.close();

  // 3. The crash page (tests/consumer/src/crash.ts) traps the WebAssembly instance on purpose, twice, then closes a
  // runtime's worker with no error event.
  const k = await openPage(browser, `${consumerUrl}crash.html`, '#out:not([data-state="loading"])');
  await k.page.waitForSelector('#out:not([data-state="loading"])', { timeout: 240_000 }).catch(() => {});
  const crashState = await k.page.getAttribute('#out', 'data-state');
  const crashText = (await k.page.textContent('#out')) || '';
  check(crashState === 'done', `crash page ran to the end (${crashState}${crashState === 'done' ? '' : `: ${crashText}`})`);
  checkCrash(crashText);
  await k.context.close();

  // 4. The consumer game and the crash page again, in Firefox.
  where = 'firefox';
  const ff = await launchFirefox();
  try {
    const game = await ff.readOut(consumerUrl, 300_000);
    check(game.state === 'done', `consumer game ran to the end (${game.state}${game.state === 'done' ? '' : `: ${game.text}`})`);
    checkGame(game.text);
    const trapped = await ff.readOut(`${consumerUrl}crash.html`, 300_000);
    check(trapped.state === 'done',
      `crash page ran to the end (${trapped.state}${trapped.state === 'done' ? '' : `: ${trapped.text}`})`);
    checkCrash(trapped.text);
  } finally {
    await ff.close();
  }
  server.close();
}

console.log(failures === 0 ? 'e2e: all checks passed' : `e2e: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
