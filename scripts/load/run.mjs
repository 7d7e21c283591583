#!/usr/bin/env node
// Load run (not a test): N concurrent generate() calls in headless Chromium against the mock cloud with a
// share of faults, then a report: failures (must be 0), p50/p95/p99 per source, breaker trips, calls saved by
// single-flight and batching, cost. Needs pkg/ (scripts/build-pkg).
// Usage: node scripts/load/run.mjs [--n 1000] [--distinct 700] [--fault-rate 0.2] [--seed 7] [--no-batch] [--cloud-only]
// By default the page uses the package's bundled model, so low-importance calls are answered by the local step.
import { serve } from '../static-server.mjs';
import { bundlePage, launchChromium, mockCall, numberOption as opt, requirePkg, startMock } from '../page-run.mjs';

const args = process.argv.slice(2);
const n = opt('n', 1000);
const distinct = opt('distinct', Math.round(n * 0.7));
const faultRate = opt('fault-rate', 0.2);
const seed = opt('seed', 7);
const batch = !args.includes('--no-batch');
const cloudOnly = args.includes('--cloud-only');
const mockPort = opt('mock-port', 8797);

requirePkg();

// The fault mix, summing to faultRate: errors, 429s with Retry-After, malformed JSON, hangs, refusals.
const share = (f) => Math.round(faultRate * f * 1000) / 1000;
const faults = {
  latencyMs: 120, jitterMs: 400, seed,
  errorRate: share(0.3), status429RetryAfter: 1, rateLimitRate: share(0.2), malformedRate: share(0.2),
  hangRate: share(0.15), refusalRate: share(0.15),
};

const mock = await startMock(mockPort);
let server;
let browser;
try {
  const mockUrl = mock.url;
  await mockCall(`${mockUrl}/__faults`, faults);
  const dir = await bundlePage(import.meta.dirname, 'load');
  server = await serve(dir, { port: 0 });
  const pageUrl = `http://127.0.0.1:${server.address().port}/`;
  browser = await launchChromium();
  const page = await browser.newPage();
  await page.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(pageUrl);
  await page.waitForSelector('#out[data-state="ready"]', { state: 'attached', timeout: 60_000 });
  const r = await page.evaluate((o) => window.runLoad(o), { mockUrl, n, distinct, seed, batch, cloudOnly });
  await new Promise((r) => setTimeout(r, 500)); // let the mock see the connections aborted last
  const cloudStats = await mockCall(`${mockUrl}/__stats`);

  const ms = (x) => (x == null ? '-' : `${x.toFixed(1)} ms`);
  const rt = r.router;
  console.log(`load: ${n} concurrent generate() calls (${distinct} distinct requests), faults ${faultRate * 100}% ` +
    `(${JSON.stringify(faults)}), batching ${batch ? 'on' : 'off'}, Chromium ${browser.version()}`);
  console.log(`local model: ${r.model.state} (${r.model.name ?? '-'} ${r.model.version ?? ''}), response bank ${r.model.responseBank}, strategy ${r.model.strategy}`);
  console.log(`wall time: ${ms(r.wallMs)}`);
  console.log(`failures: ${r.failures.length}${r.failures.length ? ` (${[...new Set(r.failures)].slice(0, 5).join('; ')})` : ''}`);
  console.log('latency per source (as reported by generate(); includes waiting behind 1000 concurrent calls):');
  for (const [source, l] of Object.entries(r.latency).sort((a, b) => b[1].count - a[1].count)) {
    console.log(`  ${source.padEnd(30)} n=${String(l.count).padStart(4)}  p50 ${ms(l.p50).padStart(10)}  p95 ${ms(l.p95).padStart(10)}  p99 ${ms(l.p99).padStart(10)}`);
  }
  const trips = Object.entries(rt.breakers).map(([id, b]) => `${id}: ${b.opens} opens, ${b.rejected} calls rejected, now ${b.state}`);
  const transitions = r.events.filter((e) => e.type === 'breakerStateChanged').map((e) => `${e.from}>${e.to}`);
  console.log(`breaker trips: ${trips.join('; ') || 'none'} (transitions: ${transitions.join(', ') || 'none'})`);
  console.log(`single-flight: ${rt.cloud.singleFlightSaved} calls saved (joined an identical call in flight)`);
  console.log(`batching: ${rt.cloud.batchedCalls} calls in ${rt.cloud.batchesSent} HTTP requests (${rt.cloud.batchedCalls - rt.cloud.batchesSent} requests saved)`);
  console.log(`cloud: ${rt.cloud.calls} model calls, ${rt.cloud.retries} retries, errors ${JSON.stringify(rt.cloud.errors)}, quality retries ${rt.qualityRetries}`);
  console.log(`fallbacks: ${JSON.stringify(rt.fallbacks)}`);
  console.log(`cost: $${rt.cost.spentUsd.toFixed(6)} spent of $${rt.cost.dailyBudgetUsd} daily budget; by model ${JSON.stringify(Object.fromEntries(Object.entries(rt.cost.byModel).map(([k, v]) => [k, Number(v.toFixed(6))])))}`);
  console.log(`mock cloud saw: ${JSON.stringify(cloudStats)}`);
  if (consoleErrors.length) console.log(`page errors: ${consoleErrors.join('; ')}`);
  process.exitCode = r.failures.length === 0 && consoleErrors.length === 0 ? 0 : 1;
} finally {
  await browser?.close();
  server?.close();
  mock.stop();
}
