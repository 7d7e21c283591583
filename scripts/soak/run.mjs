#!/usr/bin/env node
// Soak run (not a test, not in CI): mixed generate / analyze / cache traffic in headless Chromium for N minutes
// against the mock cloud, with faults switched on and off each minute (errors, 429s, malformed bodies, hangs, then
// offline). Every minute it prints the JS heap and the WebAssembly memory, the origin's storage use, the spend
// against the budget and the calls still pending. What it looks for: memory that stops growing, no call left
// pending once the traffic stops, and spend at or under the budget. Needs pkg/ (scripts/build-pkg).
// Usage: node scripts/soak/run.mjs [--minutes 30] [--workers 4] [--daily-usd 25] [--mock-port 8799]
import { serve } from '../static-server.mjs';
import { bundlePage, launchChromium, mockCall, numberOption as opt, requirePkg, startMock } from '../page-run.mjs';

const minutes = opt('minutes', 30);
const workers = opt('workers', 4);
// More than 30 minutes of this traffic spends (about $19 here), so the cloud stays in use throughout; a smaller
// budget shows it hold (spend stops at it, local and templates answer).
const dailyUsd = opt('daily-usd', 25);
const mockPort = opt('mock-port', 8799);

requirePkg();

// Minute by minute: calm, a mix of faults, calm, offline.
const PHASES = [
  ['calm', {}],
  ['faults', { latencyMs: 100, jitterMs: 300, errorRate: 0.1, status429RetryAfter: 1, rateLimitRate: 0.05, malformedRate: 0.05, hangRate: 0.05 }],
  ['calm', {}],
  ['offline', { offline: true }],
];

const mb = (x) => (x == null ? '-' : (x / 1048576).toFixed(1));
const mock = await startMock(mockPort);
let server;
let browser;
try {
  const mockUrl = mock.url;
  const dir = await bundlePage(import.meta.dirname, 'soak');
  server = await serve(dir, { port: 0 });
  browser = await launchChromium();
  const page = await browser.newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForSelector('#out[data-state="ready"]', { state: 'attached', timeout: 60_000 });
  const model = await page.evaluate((o) => window.soakStart(o), { mockUrl, dailyUsd, workers });
  console.log(`soak: ${minutes} min, ${workers} workers, budget $${dailyUsd}/day, model ${model}, Chromium ${browser.version()}`);
  console.log('min  phase    calls(ok/failed)  pending  JS heap MB  wasm MB  storage MB  spent $    budget $  errors');
  const row = async (minute, phase) => {
    await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
    const { metrics } = await cdp.send('Performance.getMetrics');
    const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value;
    const s = await page.evaluate(() => window.soakSnapshot());
    console.log(
      `${String(minute).padStart(3)}  ${phase.padEnd(8)} ${`${s.counts.ok}/${s.counts.failed}`.padStart(16)}  ` +
      `${String(s.counts.pending).padStart(7)}  ${mb(heap).padStart(10)}  ${mb(s.wasmBytes).padStart(7)}  ` +
      `${mb(s.storageBytes).padStart(10)}  ${s.spentUsd.toFixed(5).padStart(8)}  ${String(s.budgetUsd).padStart(8)}  ` +
      `${JSON.stringify(s.errors)}`,
    );
    return s;
  };
  await row(0, 'start');
  for (let minute = 1; minute <= minutes; minute++) {
    const [phase, faults] = PHASES[(minute - 1) % PHASES.length];
    await mockCall(`${mockUrl}/__reset`, {});
    await mockCall(`${mockUrl}/__faults`, { seed: minute, ...faults });
    await new Promise((r) => setTimeout(r, 60_000));
    await row(minute, phase);
  }
  await page.evaluate(() => window.soakStop());
  await mockCall(`${mockUrl}/__reset`, {});
  // Calls in flight finish within their deadlines; then nothing may be left pending.
  await new Promise((r) => setTimeout(r, 15_000));
  const end = await row(minutes, 'stopped');
  const ok = end.counts.pending === 0 && end.spentUsd <= end.budgetUsd + 1e-9 && end.counts.emptyText === 0;
  console.log(`soak: ${end.counts.started} calls, ${end.counts.pending} pending after the stop, ${end.counts.emptyText} ` +
    `empty lines, spend $${end.spentUsd.toFixed(5)} of $${end.budgetUsd}; page errors: ${pageErrors.length ? pageErrors.join('; ') : 'none'}`);
  process.exitCode = ok && pageErrors.length === 0 ? 0 : 1;
} finally {
  await browser?.close();
  server?.close();
  mock.stop();
}
