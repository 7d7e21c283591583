// End-to-end: the demo page (served by webpack-dev-server, as the demo command does) and the consumer game
// (built from the packed tarball) in Debian's Chromium via playwright-core. Fails on any console error.
// Usage: node tests/e2e/run.mjs   (after scripts/build-pkg and the consumer build)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/static-server.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const outDir = path.join(root, 'target', 'e2e');
fs.mkdirSync(outDir, { recursive: true });

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
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

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
const demo = await startDemoServer(Number(process.env.E2E_DEMO_PORT || 8181));
try {
  // 1. The demo page initialises the runtime.
  const { context, page, problems } = await openPage(browser, demo.url, '#status:not([data-state="loading"])');
  const state = await page.getAttribute('#status', 'data-state');
  const status = await page.textContent('#status');
  check(state === 'ready', `demo status is ready (got ${state}: ${status})`);
  const version = await page.textContent('#version');
  const expected = JSON.parse(fs.readFileSync(path.join(root, 'pkg', 'package.json'), 'utf8')).version;
  check(version === expected, `demo shows version ${expected} (got ${version})`);
  const metrics = JSON.parse((await page.textContent('#metrics')) || '{}');
  check(metrics.storage?.indexedDb?.state === 'available', 'IndexedDB tier available in the demo');
  check(metrics.storage?.localStorage?.state === 'available', 'localStorage tier available in the demo');
  await page.waitForSelector('#model-status[data-state="ready"], #model-status[data-state="failed"]', { timeout: 60_000 }).catch(() => {});
  check((await page.getAttribute('#model-status', 'data-state')) === 'ready',
    `bundled model loaded in the demo (${await page.textContent('#model-status')})`);
  await page.waitForSelector('#analysis[data-label]', { timeout: 30_000 }).catch(() => {});
  check((await page.getAttribute('#analysis', 'data-label')) === 'negative', 'demo analyses the hostile line as negative');
  await page.fill('#analyze-input', 'Thank you so much, you saved my life!');
  await page.click('#analyze-button');
  await page.waitForSelector('#analysis[data-label="positive"]', { timeout: 10_000 }).catch(() => {});
  check((await page.getAttribute('#analysis', 'data-label')) === 'positive', 'a grateful line typed into the demo reads as positive');
  await page.click('#generate-button');
  await page.waitForSelector('#generate-line[data-source]', { timeout: 20_000 }).catch(() => {});
  const source = await page.getAttribute('#generate-line', 'data-source');
  const line = await page.textContent('#generate-line');
  check(Boolean(source) && line.length > 10, `demo generate() answered (source ${source}: ${line})`);
  check(problems.length === 0, `no console errors on the demo page ${problems.join(' | ')}`);
  const shot = path.join(outDir, 'demo.png');
  await page.screenshot({ path: shot, fullPage: true });
  check(fs.statSync(shot).size > 1000, `screenshot saved to ${path.relative(root, shot)}`);
  await context.close();

  // 2. The consumer game built from the packed tarball runs.
  const consumerDir = path.join(root, 'tests', 'consumer', 'dist');
  const server = await serve(consumerDir);
  const consumerUrl = `http://127.0.0.1:${server.address().port}/`;
  const c = await openPage(browser, consumerUrl, '#out:not([data-state="loading"])');
  const out = JSON.parse((await c.page.textContent('#out')) || '{}');
  check(out.version === expected, `consumer game created the runtime (version ${out.version})`);
  check(out.rejected === 'InvalidConfig', `consumer game saw InvalidConfig for a bad namespace (got ${out.rejected})`);
  check(c.problems.length === 0, `no console errors in the consumer game ${c.problems.join(' | ')}`);
  await c.context.close();
  server.close();
} finally {
  await browser.close();
  try { process.kill(-demo.child.pid); } catch {}
}

console.log(failures === 0 ? 'e2e: all checks passed' : `e2e: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
