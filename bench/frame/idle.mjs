// What pre-generation costs while the player idles (issue 19: "CPU ms per idle minute measured in Chromium"), with
// the packed package's release build and default config, in both modes: bench/frame/idle.js leaves a player idle
// near three characters for --idle seconds and this prints the loop's figures and the main thread's long tasks.
// Needs pkg/ (scripts/build-pkg).
//   node bench/frame/idle.mjs [--idle 60] [--rounds 2]
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/static-server.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const IDLE_S = Number(arg('--idle', 60));
const ROUNDS = Number(arg('--rounds', 2));
const site = path.join(root, 'target', 'bench', 'idle', 'site');
execFileSync('npx', ['webpack', '--config', 'bench/frame/webpack.config.js', '--env', `out=${path.join(site, 'ours')}`, '--stats', 'errors-only'], { cwd: root, stdio: 'inherit' });
const server = await serve(site, { maxAge: 3600 });
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const rows = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const worker of r % 2 ? [1, 0] : [0, 1]) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${base}/ours/idle.html?worker=${worker}&idle=${IDLE_S}`);
    await page.waitForFunction(() => document.title === 'done', null, { timeout: (IDLE_S + 120) * 1000 });
    const res = await page.evaluate(() => window.result);
    await ctx.close();
    if (res.error) throw new Error(res.error);
    rows.push({ worker, ...res });
    process.stderr.write('.');
  }
}
await browser.close();
server.close();

const p1 = (x) => (typeof x === 'number' ? x.toFixed(1) : String(x));
console.log(`\nPre-generation while idle: ${IDLE_S} s per run, headless Chromium ${browser.version()}, default config, model bundled\n`);
console.log('| mode | generated local / cloud | warm-ups | checks passed (idleMs) | cpuMs | cpuMs per idle minute | main-thread long tasks | late frames |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const p = r.pregen;
  console.log(`| ${r.worker ? 'worker' : 'worker: false'} | ${p.generatedLocal} / ${p.generatedCloud} | ${p.warmups} | ${p1(p.idleMs)} | ${p1(p.cpuMs)} | ${p1(p.cpuMsPerIdleMinute)} | ${r.longTasks.count}${r.longTasks.count ? ` (${r.longTasks.all.join(' ')})` : ''} | ${r.lateFrames} |`);
}
console.log('\ngates per run:', rows.map((r) => JSON.stringify(r.pregen.gates)).join('\n  '));
