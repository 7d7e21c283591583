// What the page runs (scripts/load, scripts/soak) share: the page bundled against pkg/ as a game would bundle it,
// the mock cloud as a child process, and Debian's headless Chromium. Not tests: they print tables.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import webpack from 'webpack';
import HtmlWebpackPlugin from 'html-webpack-plugin';
import { chromium } from 'playwright-core';

export const root = path.resolve(import.meta.dirname, '..');

/** `--name value` from the command line as a number, or `dflt`. */
export function numberOption(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

export function requirePkg() {
  if (!fs.existsSync(path.join(root, 'pkg', 'unwritten_ai_bg.wasm'))) {
    console.error('pkg/ is missing: run scripts/build-pkg first');
    process.exit(2);
  }
}

/** Bundles `dir/page.js` (importing `unwritten-ai` from pkg/) into target/`name`; resolves to that folder. */
export async function bundlePage(dir, name) {
  const out = path.join(root, 'target', name);
  const config = {
    mode: 'production',
    context: dir,
    entry: './page.js',
    output: { path: out, filename: `${name}.[contenthash].js`, clean: true },
    resolve: { alias: { 'unwritten-ai': path.join(root, 'pkg') } },
    performance: { hints: false },
    plugins: [new HtmlWebpackPlugin({ templateContent: '<!doctype html><html><body><pre id="out" data-state="loading"></pre></body></html>' })],
  };
  await new Promise((resolve, reject) =>
    webpack(config, (err, stats) => (err || stats.hasErrors() ? reject(err || new Error(stats.toString('errors-only'))) : resolve())),
  );
  return out;
}

/** GET `url`, or POST `body` as JSON; resolves to the JSON answer. */
export async function mockCall(url, body) {
  const resp = await fetch(url, body ? { method: 'POST', body: JSON.stringify(body) } : undefined);
  return resp.json();
}

/** Starts scripts/mock-cloud.mjs on `port` with no faults; resolves to `{ url, stop }`. */
export async function startMock(port) {
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'mock-cloud.mjs'), '--port', String(port)], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    try {
      await mockCall(`${url}/health`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await mockCall(`${url}/__reset`, {});
  return { url, stop: () => child.kill() };
}

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
