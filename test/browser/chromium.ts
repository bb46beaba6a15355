// Where the browser tests find Chromium (Debian's package, or EDGESEARCH_CHROMIUM) and how they
// start it. EDGESEARCH_REQUIRE_BROWSER=1 (CI) makes a missing Chromium a failure, not a skip.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.EDGESEARCH_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
export const chromiumRequired = process.env.EDGESEARCH_REQUIRE_BROWSER === '1';
export const chromiumMissing = `no Chromium at ${CHROMIUM}: apt-get install chromium (or set EDGESEARCH_CHROMIUM)`;

/** Headless Chromium (no sandbox: tests run as root in CI). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}
