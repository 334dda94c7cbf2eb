/**
 * A real browser for the status page tests: Debian's chromium driven by playwright-core, headless,
 * with a fresh profile (playwright makes a new temporary one per launch), and no way to reach anything but 127.0.0.1 (the resolver maps every other
 * name to nothing, and every request to another host is aborted and recorded). `.ci/run` installs
 * chromium where it is missing; without it the tests fail, they do not skip.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.UDPGW_CHROMIUM ?? '/usr/bin/chromium';

export interface TestBrowser {
  readonly browser: Browser;
  readonly context: BrowserContext;
  /** Requests that were refused because they went elsewhere than 127.0.0.1. */
  readonly blocked: string[];
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1280, height: 900 }): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium; .ci/run does) or set UDPGW_CHROMIUM`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps',
      '--disable-domain-reliability', '--metrics-recording-only', '--no-pings', '--disable-features=Translate,OptimizationHints,MediaRouter',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
  const context = await browser.newContext({ viewport, serviceWorkers: 'block' });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  return {
    browser, context, blocked,
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
}
