// The gateway scenario. First tests/gateway/check-config.py checks both LiteLLM configs (the real one only against
// a capture server on loopback: no provider can be reached here). Then the packed package (pkg/, built by
// scripts/build-pkg) runs in headless Chromium with a real LiteLLM proxy (gateway/litellm-mock.yaml, from the venv
// scripts/setup makes) as its OpenAI-compatible cloud endpoint. Everything listens on 127.0.0.1 only. Checks: a
// costed cloud line comes through the proxy; a 429 storm and a 500 storm each end in local or template lines and
// open the breaker; a slow model answers late and fills the cache. The proxy is stopped (by its PID) whatever
// happens.
// Usage: node tests/gateway/run.mjs   (env: GATEWAY_PORT 8831, GATEWAY_PAGE_PORT 8832, GATEWAY_VENV, CHROMIUM)
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/static-server.mjs';
import { CHROMIUM_ARGS } from '../e2e/browsers.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const outDir = path.join(root, 'target', 'gateway');
fs.mkdirSync(outDir, { recursive: true });
const venv = process.env.GATEWAY_VENV || path.join(root, 'target', 'gateway-venv');
const proxyPort = Number(process.env.GATEWAY_PORT || 8831);
const pagePort = Number(process.env.GATEWAY_PAGE_PORT || 8832);
const proxyLogPath = path.join(outDir, 'proxy.log');

let passed = 0;
let failed = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (ok) passed += 1;
  else failed += 1;
}

// ---- the proxy ----

let proxy = null;
function stopProxy() {
  if (!proxy || proxy.exitCode !== null || proxy.signalCode !== null) return;
  // Its own process group (detached below): the proxy and anything it started, nothing else.
  try { process.kill(-proxy.pid, 'SIGTERM'); } catch {}
}
// Stops it and waits (bounded) for it to go; one that ignores SIGTERM is killed.
async function stopProxyAndWait() {
  if (!proxy) return;
  stopProxy();
  const gone = () => proxy.exitCode !== null || proxy.signalCode !== null;
  for (let i = 0; i < 100 && !gone(); i++) await new Promise((r) => setTimeout(r, 100));
  if (!gone()) try { process.kill(-proxy.pid, 'SIGKILL'); } catch {}
}
process.on('exit', stopProxy);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopProxy(); process.exit(1); });

async function startProxy(key) {
  const bin = path.join(venv, 'bin', 'litellm');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run scripts/setup (it makes the gateway venv)`);
  const url = `http://127.0.0.1:${proxyPort}/health/liveliness`;
  // Something already answering there (a proxy left over) would be checked instead of ours.
  const taken = await fetch(url).then(() => true, () => false);
  if (taken) throw new Error(`port ${proxyPort} is already in use: stop what listens there or set GATEWAY_PORT`);
  const log = fs.openSync(proxyLogPath, 'w');
  proxy = spawn(bin, ['--config', 'gateway/litellm-mock.yaml', '--host', '127.0.0.1', '--port', String(proxyPort)], {
    cwd: root,
    detached: true,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      LITELLM_MASTER_KEY: key,
      // The price list shipped in the package, not a download of the newest one at start.
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      // The access log lines are counted below.
      PYTHONUNBUFFERED: '1',
    },
  });
  fs.closeSync(log);
  const started = Date.now();
  // Bounded: it answers in 5-10 s on these machines, slower under load.
  while (Date.now() - started < 180_000) {
    if (proxy.exitCode !== null) break;
    try {
      if ((await fetch(url)).ok) return (Date.now() - started) / 1000;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the LiteLLM proxy did not come up on ${url} (exit ${proxy.exitCode}); log:\n` +
    fs.readFileSync(proxyLogPath, 'utf8').slice(-4000));
}

// ---- the checks ----

const LOCAL_OR_TEMPLATE = ['local', 'template'];
const lineShown = (l) => `${l?.source}${l?.model ? ` ${l.model}` : ''}, $${l?.costUsd}: ${JSON.stringify(l?.text)}`;
const reasons = (l) => (l?.fallbacks ?? []).map((f) => `${f.step}:${f.reason}`);

function checkStorm(name, s, reason) {
  const lines = [...(s?.lines ?? []), s?.afterOpen].filter(Boolean);
  check(lines.length >= 2 && lines.every((l) => LOCAL_OR_TEMPLATE.includes(l.source) && l.text.length > 0),
    `${name}: every one of ${lines.length} calls answered with a local or template line ` +
    `(${lines.map((l) => l.source).join(', ')})`);
  check(s?.lines?.some((l) => reasons(l).includes(`cloud:${reason}`)),
    `${name}: the cloud step was passed over for ${reason} (first call's fallbacks: ${reasons(s?.lines?.[0])})`);
  check(s?.errors?.[reason] > 0 && s?.spentUsd === 0,
    `${name}: the runtime counted ${s?.errors?.[reason]} ${reason} errors and spent nothing ($${s?.spentUsd})`);
  check(s?.breaker?.state === 'open' && s?.breaker?.opens >= 1,
    `${name}: the gateway's breaker is open (metrics: ${JSON.stringify(s?.breaker)})`);
  const opened = s?.events?.find((e) => e.provider === 'gateway' && e.to === 'open');
  check(Boolean(opened), `${name}: takeEvents() has breakerStateChanged gateway ${opened?.from} -> open`);
  check(reasons(s?.afterOpen).includes('cloud:breakerOpen'),
    `${name}: with the breaker open the next call skips the cloud (${reasons(s?.afterOpen)}; ${lineShown(s?.afterOpen)})`);
}

// The proxy's own access log: what reached it, by status.
function proxyCounts() {
  const log = fs.readFileSync(proxyLogPath, 'utf8');
  const count = (status) => (log.match(new RegExp(`"POST /v1/chat/completions HTTP/1\\.1" ${status}\\b`, 'g')) ?? []).length;
  return { ok: count(200), rateLimited: count(429), failed: count(500) };
}

// ---- the run ----

const key = `sk-test-${crypto.randomBytes(24).toString('hex')}`;
let browser = null;
let server = null;
try {
  const python = path.join(venv, 'bin', 'python');
  const cfg = spawnSync(python, [path.join('tests', 'gateway', 'check-config.py')], { cwd: root, encoding: 'utf8' });
  const cfgLines = `${cfg.stdout ?? ''}`.split('\n').filter((l) => /^(ok  |FAIL)/.test(l));
  for (const l of cfgLines) console.log(`     config: ${l}`);
  check(cfg.status === 0 && cfgLines.length > 0 && !cfgLines.some((l) => l.startsWith('FAIL')),
    `gateway/litellm.yaml and gateway/litellm-mock.yaml load in LiteLLM, serve the runtime's model ids and send ` +
    `each role to its provider with its key` +
    (cfg.status === 0 ? '' : ` (exit ${cfg.status}: ${(cfg.error?.message ?? cfg.stderr ?? '').slice(-2000)})`));

  const upAfter = await startProxy(key);
  console.log(`LiteLLM proxy up on 127.0.0.1:${proxyPort} after ${upAfter.toFixed(1)} s (log: ${path.relative(root, proxyLogPath)})`);
  // The repository root: the page (tests/gateway/) and the packed package (/pkg/) on one origin.
  server = await serve(root, { port: pagePort });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  // Nothing leaves the machine.
  await page.route(/^(?!http:\/\/127\.0\.0\.1)/, (route) => route.abort());
  await page.goto(`http://127.0.0.1:${pagePort}/tests/gateway/index.html`);
  await page.waitForSelector('#out[data-state="ready"]', { timeout: 30_000 });
  const report = await page.evaluate(
    (gateway) => window.scenario(gateway),
    { baseUrl: `http://127.0.0.1:${proxyPort}/v1`, key },
  );
  fs.writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(report, null, 2));
  check(!report.error, `the scenario ran to the end${report.error ? `: ${report.error}` : ''}`);

  // 1. A costed cloud line through the proxy.
  const c = report.costed ?? {};
  check(c.line?.source === 'cloud' && c.line?.model === 'gemini-2.5-pro' && c.line?.costUsd > 0,
    `a cloud line came from the proxy under the runtime's default model id (${lineShown(c.line)})`);
  check(c.spentUsd > 0 && Math.abs(c.spentUsd - c.line?.costUsd) < 1e-12 && c.byModel?.['gemini-2.5-pro'] > 0,
    `its cost is booked from the response's usage fields ($${c.spentUsd} spent, by model ${JSON.stringify(c.byModel)})`);

  // 2 and 3. Storms: 429 and 500, each ending in local or template lines, and the breaker opening.
  checkStorm('429 storm', report.rateLimited, 'rateLimited');
  checkStorm('500 storm', report.failing, 'server');

  // 4. The slow model: answered at waitMs, filled the cache late.
  const s = report.slow ?? {};
  check(LOCAL_OR_TEMPLATE.includes(s.first?.source) && reasons(s.first).includes('cloud:waitMs'),
    `slow model: the player got a ${s.first?.source} line at waitMs (${reasons(s.first)})`);
  check(s.lateFills?.stored === 1,
    `slow model: its late answer was stored in the cache (lateFills ${JSON.stringify(s.lateFills)})`);
  // Every mock model answers the same mock_response, which the costed line showed.
  check(s.again?.cached === true && s.again?.text === c.line?.text && s.again?.text !== s.first?.text,
    `slow model: the same request again is the proxy's line, from the cache (${s.again?.source}: ${JSON.stringify(s.again?.text)})`);

  // What the proxy saw is what the runtime says it sent.
  await stopProxyAndWait();
  const seen = proxyCounts();
  const sent = {
    ok: c.httpRequests + s.httpRequests,
    rateLimited: report.rateLimited?.httpRequests,
    failed: report.failing?.httpRequests,
  };
  check(seen.ok === sent.ok && seen.rateLimited === sent.rateLimited && seen.failed === sent.failed,
    `the proxy's access log has every request the runtimes sent (proxy ${JSON.stringify(seen)}, runtimes ${JSON.stringify(sent)})`);

  // Chromium logs each 429 and 500 response itself ("Failed to load resource"); anything else is a problem.
  const unexpected = consoleErrors.filter((t) => !/Failed to load resource: the server responded with a status of (429|500)/.test(t));
  check(unexpected.length === 0, `no console errors but Chromium's own 429/500 notes ${unexpected.join(' | ')}`);
} catch (e) {
  check(false, `the scenario could not run: ${e?.stack || e}`);
} finally {
  await browser?.close().catch(() => {});
  server?.close();
  await stopProxyAndWait();
}

console.log(`gateway: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
