// End-to-end, worker mode (issue 18): the consumer game's worker page (tests/consumer/src/worker.ts, built from the
// packed tarball with `worker: true`) in Chromium and Firefox. The runtime runs in the package's Web Worker; the page
// reports each call's outcome into #out and this file checks it. Fails on any console error in Chromium.
// Usage: node tests/e2e/worker.mjs   (after scripts/build-pkg and the consumer build, as tests/e2e/run.mjs)
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { launchFirefox } from './firefox.mjs';
import { serve } from '../../scripts/static-server.mjs';
import { CHROMIUM_ARGS } from './browsers.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const expected = JSON.parse(fs.readFileSync(path.join(root, 'pkg', 'package.json'), 'utf8')).version;

let failures = 0;
let where = 'chromium';
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} [${where} worker] ${what}`);
  if (!ok) failures += 1;
}

function checkWorker(text) {
  let o = {};
  try { o = JSON.parse(text); } catch {}
  const w = o.expected?.words ?? {};
  check(o.badWorker?.name === 'InvalidConfig' && o.badWorker?.field === 'worker', `create({ worker: 'yes' }) rejects with InvalidConfig field worker (got ${JSON.stringify(o.badWorker)})`);
  check(o.badConfig?.name === 'InvalidConfig' && o.badConfig?.field === 'namespace', `a bad namespace is refused by the worker's runtime by name (got ${JSON.stringify(o.badConfig)})`);
  check(o.version === expected, `version() is ${expected} (got ${o.version})`);
  check(o.loadModel?.progressCalls > 0 && o.loadModel?.state === w.modelReady, `loadModel(onProgress) in the worker calls back on this thread (${o.loadModel?.progressCalls} calls, ${o.loadModel?.state})`);
  check(o.modelStatus?.state === w.modelReady && o.modelStatus?.responseBank === w.bankReady, `modelStatus() from the worker's state (${JSON.stringify(o.modelStatus)})`);
  check(o.analyze?.label === w.hostile && o.analyze?.batch?.join() === [w.grateful, w.hostile].join(), `analyze() and analyzeBatch() in the worker (${o.analyze?.label}, [${o.analyze?.batch}])`);
  check(o.analyze?.bad === w.invalidRequest, `analyze(42) rejects with ${w.invalidRequest} (got ${o.analyze?.bad})`);
  check(o.generate?.first?.source === w.localSource && o.generate?.second?.source === w.memorySource && o.generate?.second?.same === true,
    `generate() local, then the same line from memory (${o.generate?.first?.source}, ${o.generate?.second?.source})`);
  check(o.generate?.bad?.name === w.invalidRequest && o.generate?.bad?.field === 'importance', `generate() with importance 2 rejects naming the field (${JSON.stringify(o.generate?.bad)})`);
  check(o.generate?.unsendable === w.invalidRequest, `a function in a request is refused by name (got ${o.generate?.unsendable})`);
  const mc = o.memoryCache ?? {};
  check(mc.found && mc.viewText && mc.syncText, `memoryCache().get() and cacheGetSync() find the generated line on this thread (${JSON.stringify(mc)})`);
  check(mc.memoryHits >= 2, `hits served on this thread reach cacheStats() (memory hits ${mc.memoryHits})`);
  check(o.storage?.localStorage === 'available' && o.storage?.indexedDb === 'available' && o.storage?.lsKeys > 0,
    `localStorage bridged from the worker to the page's storage (${JSON.stringify(o.storage)})`);
  check(o.device?.visibility === 'visible', `visibility bridged into the worker (${o.device?.visibility})`);
  const r = o.onReport ?? {};
  check(r.reports >= 1 && r.hasMetrics && r.stopped === true && r.unknownReport === false && r.bad === w.invalidRequest,
    `onReport(cb, 1000) calls back from the worker, offReport stops it, a bad callback is refused (${JSON.stringify(r)})`);
  check(o.metrics?.namespace === 'consumer-worker' && o.metrics?.version === expected, `metrics() from the worker's state (${JSON.stringify(o.metrics)})`);
  const sy = o.sync ?? {};
  check(sy.calls > 20 && Array.isArray(sy.differ) && sy.differ.length === 0,
    `cacheKey, canonicalRequest, isEnabled, getFlag, variant and inRollout answer as worker: false, bad input included (${sy.calls} calls; differ: ${JSON.stringify(sy.differ)})`);
  const seen = sy.seen ?? {};
  check(typeof seen.cacheKey?.ok === 'string' && seen['cacheKey null']?.name === w.invalidRequest && seen['isEnabled 42']?.name === w.invalidRequest
    && seen['isEnabled 42']?.field === 'flag' && seen['getFlag npcMood']?.ok === 'calm' && seen['variant local_first']?.ok?.firstExposure === true
    && seen['variant local_first again']?.ok?.firstExposure === false && typeof seen['inRollout r50']?.ok === 'boolean',
    `the answers are real ones (${JSON.stringify({ key: seen.cacheKey, bad: seen['isEnabled 42'], mood: seen['getFlag npcMood'], v: seen['variant local_first'] })})`);
  const ex = sy.exposures ?? {};
  check(ex.atOnce === ex.expected && ex.later === 0 && ex.local === ex.expected && sy.after === true,
    `a variant's experimentExposure is in takeEvents() at once and once only, as with worker: false (${JSON.stringify(ex)}, after ${sy.after})`);
  const c = o.crash ?? {};
  check(c.trap === w.crashed, `a trap in the worker rejects the trapping call with ${w.crashed} (${c.trap})`);
  // The call sent before the trap may have finished first; it must not hang or fail otherwise.
  check(c.pending === 'resolved' || c.pending === w.crashed, `a call in flight during the trap settled (${c.pending})`);
  check(c.restarted === 1 && c.afterAnalyze === w.grateful && [w.memorySource, 'localStorage', 'indexedDb', w.localSource].includes(c.afterTrap),
    `the next call starts a fresh worker, reported once as runtimeRestarted; it answers (generate from ${c.afterTrap}, analyze ${c.afterAnalyze})`);
  check(o.dispose?.call === w.disposed && o.dispose?.sync === w.disposed, `after dispose() calls reject or throw ${w.disposed} (${JSON.stringify(o.dispose)})`);
  check(Array.isArray(o.dispose?.sixDiffer) && o.dispose.sixDiffer.length === 0 && o.dispose?.canonical === true && o.dispose?.flag?.name === w.disposed,
    `after dispose() the six sync methods answer as a disposed worker: false runtime (flags throw ${w.disposed}, canonicalRequest answers) (${JSON.stringify(o.dispose)})`);
}

// E2E_CONSUMER_DIST: the consumer built by another bundler (scripts/test runs the Vite build too).
const server = await serve(process.env.E2E_CONSUMER_DIST || path.join(root, 'tests', 'consumer', 'dist'));
const url = `http://127.0.0.1:${server.address().port}/worker.html`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  // The forced trap's panic message is the one console error the page causes on purpose.
  page.on('console', (m) => m.type() === 'error' && !/forced trap/.test(m.text()) && problems.push(`console.error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  await page.route(/^(?!http:\/\/127\.0\.0\.1)/, (route) => route.abort());
  await page.goto(url);
  await page.waitForSelector('#out:not([data-state="loading"])', { timeout: 180_000 }).catch(() => {});
  const state = await page.getAttribute('#out', 'data-state');
  const text = (await page.textContent('#out')) || '';
  check(state === 'done', `worker page ran to the end (${state}${state === 'done' ? '' : `: ${text}`})`);
  checkWorker(text);
  check(problems.length === 0, `no console errors on the worker page ${problems.join(' | ')}`);
  await context.close();

  where = 'firefox';
  const ff = await launchFirefox();
  try {
    const game = await ff.readOut(url, 300_000);
    check(game.state === 'done', `worker page ran to the end (${game.state}${game.state === 'done' ? '' : `: ${game.text}`})`);
    checkWorker(game.text);
  } finally {
    await ff.close();
  }
} finally {
  await browser.close();
  server.close();
}
console.log(failures === 0 ? 'e2e worker: all checks passed' : `e2e worker: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
