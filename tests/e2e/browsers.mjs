// What the end-to-end scripts share: headless Chromium through playwright-core (Debian's /usr/bin/chromium) with
// the flags this machine needs, and a page's #out read once it leaves the "loading" state. Firefox is firefox.mjs.
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Opens `url` in a new page of `context` (requests off 127.0.0.1 blocked) and waits for #out to leave "loading";
 *  resolves to { state, text, page }. */
export async function readOutChromium(context, url, timeoutMs) {
  const page = await context.newPage();
  await page.route(/^(?!http:\/\/127\.0\.0\.1)/, (route) => route.abort());
  await page.goto(url);
  await page.waitForSelector('#out:not([data-state="loading"])', { timeout: timeoutMs }).catch(() => {});
  const state = await page.getAttribute('#out', 'data-state');
  const text = (await page.textContent('#out')) || '';
  return { state: state ?? 'missing', text, page };
}
