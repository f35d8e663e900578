/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium (or FLOWSAMPLER_CHROMIUM)
 * driven by playwright-core, with the flags that keep it off the network. Tests that need it are
 * skipped with a message saying how to get it when it is missing; .ci/run installs it.
 */
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.FLOWSAMPLER_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** Warns once per test file when Chromium is missing; returns whether tests can run. */
export function chromiumOrSkipMessage(what: string): boolean {
  if (!haveChromium) {
    console.warn(`${what}: skipped — ${CHROMIUM} not found (install Debian's 'chromium' package: apt-get install chromium; or set FLOWSAMPLER_CHROMIUM)`);
  }
  return haveChromium;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Page errors, console errors and every request that leaves `allowedOrigin`. */
export function watchPage(page: Page, allowedOrigin: string): { errors: string[]; offsite: string[] } {
  const errors: string[] = [];
  const offsite: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(allowedOrigin) && !u.startsWith('data:') && !u.startsWith('blob:')) offsite.push(u);
  });
  return { errors, offsite };
}
