// The replay of issue 19 in Chromium: a session trace (tests/traces/) in real time through the packed package's
// facade with pre-generation on and off, each in its own browser context at the same time, against the mock cloud
// at the design's latency for the flash tier (2.5 s). It prints what `cargo test --test replay` prints for the trace,
// to set beside it. Only traces that last minutes are practical in real time (explorer ~9.5 min, rusher ~9 min).
// Needs pkg/ (scripts/build-pkg).
//   node bench/frame/replay.mjs [--trace explorer.jsonl] [--mock-port 8863] [--until MS]
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/static-server.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const TRACE = arg('--trace', 'explorer.jsonl');
const MOCK_PORT = Number(arg('--mock-port', 8863));
// --until MS: only the trace's first MS (a quick look; the figures are the whole trace's only without it).
const UNTIL = Number(arg('--until', Infinity));
const site = path.join(root, 'target', 'bench', 'replay', 'site');
execFileSync('npx', ['webpack', '--config', 'bench/frame/webpack.config.js', '--env', `out=${path.join(site, 'ours')}`, '--stats', 'errors-only'], { cwd: root, stdio: 'inherit' });
fs.mkdirSync(path.join(site, 'traces'), { recursive: true });
const kept = fs.readFileSync(path.join(root, 'tests', 'traces', TRACE), 'utf8').split('\n').filter(Boolean)
  .filter((l) => !(JSON.parse(l).t > UNTIL));
fs.writeFileSync(path.join(site, 'traces', TRACE), kept.join('\n'));
const duration = Math.max(...kept.map((l) => JSON.parse(l).t ?? 0));

const mock = spawn(process.execPath, [path.join(root, 'scripts', 'mock-cloud.mjs'), '--port', String(MOCK_PORT)], { stdio: ['ignore', 'ignore', 'inherit'] });
const cloud = `http://127.0.0.1:${MOCK_PORT}`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${cloud}/health`)).ok) break;
  } catch {
    if (i > 100) throw new Error(`mock cloud did not start on port ${MOCK_PORT}`);
  }
  await new Promise((r) => setTimeout(r, 100));
}
await fetch(`${cloud}/__faults`, { method: 'POST', body: JSON.stringify({ latencyMs: 2500 }) });
const server = await serve(site, { maxAge: 3600 });
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const run = async (pregen) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/ours/replay.html?trace=${TRACE}&pregen=${pregen}&cloud=${encodeURIComponent(`${cloud}/v1`)}`);
  await page.waitForFunction(() => document.title === 'done', null, { timeout: duration + 300_000 });
  const res = await page.evaluate(() => window.result);
  await ctx.close();
  if (res.error) throw new Error(res.error);
  return res;
};
const [off, on] = await Promise.all([run(0), run(1)]);
await browser.close();
server.close();
mock.kill();

fs.writeFileSync(path.join(site, '..', 'results.json'), JSON.stringify({ trace: TRACE, off, on }, null, 1));
const pct = (x) => `${Math.round(x * 100)} %`;
const row = (name, r) => {
  const n = r.calls.length;
  const cached = r.calls.filter((c) => c.cached).length;
  // A hit on a line pre-generation made: the page cannot tell which of them came from the cloud, so at most
  // generatedCloud of them count as cloud lines (the local share is a lower bound when it made any).
  const pregenHits = r.calls.filter((c) => c.origin === 'pregen').length;
  const cloudLines = r.calls.filter((c) => c.origin === 'cloud').length + Math.min(pregenHits, r.pregen.generatedCloud);
  const cost = r.calls.reduce((a, c) => a + c.costUsd, 0) + (r.pregen.spendTotalUsd ?? 0);
  const ms = r.calls.map((c) => c.ms).sort((a, b) => a - b);
  const made = r.pregen.generatedLocal + r.pregen.generatedCloud;
  const wasted = made - (r.pregen.used ?? 0);
  return `| ${name} | ${n} | ${pct(cached / n)} | ${pct(1 - cloudLines / n)} | $${cost.toFixed(4)} | ${Math.round(ms[Math.floor(n / 2)])} / ${Math.round(ms[Math.min(n - 1, Math.ceil(n * 0.95) - 1)])} | ${made ? `${wasted} / ${made}` : '0 / 0'} |`;
};
console.log(`\nReplay of ${TRACE} in headless Chromium ${browser.version()}, real time (${Math.round(duration / 1000)} s), mock cloud at 2.5 s\n`);
console.log('| pre-generation | calls | hit rate | local share | cost | latency p50 / p95 ms | wasted / generated |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
console.log(row('off', off));
console.log(row('on', on));
console.log(`\npregen (on): ${JSON.stringify({ generatedLocal: on.pregen.generatedLocal, generatedCloud: on.pregen.generatedCloud, served: on.pregen.served, used: on.pregen.used, joined: on.pregen.joined, cpuMs: on.pregen.cpuMs, cpuMsPerIdleMinute: on.pregen.cpuMsPerIdleMinute })}`);
