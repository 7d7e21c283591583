// Debian's Firefox for the end-to-end pages, through geckodriver (W3C WebDriver over HTTP): playwright drives only
// its own patched Firefox, which cannot be installed here. Enough of WebDriver to open a page and read #out.
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function launchFirefox() {
  const port = await freePort();
  const driverBin = process.env.GECKODRIVER || path.join(os.homedir(), '.cargo', 'bin', 'geckodriver');
  const driver = spawn(driverBin, ['--port', String(port), '--host', '127.0.0.1'], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  const send = async (method, url, body) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`geckodriver ${method} ${url}: ${JSON.stringify(json.value)}`);
    return json.value;
  };
  for (let i = 0; ; i++) {
    try {
      await send('GET', '/status');
      break;
    } catch (e) {
      if (i > 100) throw e;
      await sleep(100);
    }
  }
  const session = await send('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        browserName: 'firefox',
        'moz:firefoxOptions': { binary: process.env.FIREFOX || '/usr/bin/firefox-esr', args: ['-headless'] },
        // The first page load here can take a minute or two (a new profile compiling a 6 MB module).
        timeouts: { pageLoad: 300_000, script: 30_000 },
      },
    },
  });
  const sid = session.sessionId;
  const script = (source, args = []) => send('POST', `/session/${sid}/execute/sync`, { script: source, args });
  return {
    /** Opens `url` and waits until #out leaves the "loading" state; resolves to { state, text }. */
    async readOut(url, timeoutMs) {
      await send('POST', `/session/${sid}/url`, { url });
      const until = Date.now() + timeoutMs;
      for (;;) {
        const out = await script(
          "const o = document.getElementById('out'); return o ? { state: o.dataset.state, text: o.textContent } : null;",
        );
        if ((out && out.state !== 'loading') || Date.now() > until) return out ?? { state: 'missing', text: '' };
        await sleep(250);
      }
    },
    async close() {
      try {
        await send('DELETE', `/session/${sid}`);
      } finally {
        driver.kill();
      }
    },
  };
}
