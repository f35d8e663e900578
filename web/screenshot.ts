/**
 * The README's picture of the playground: builds the page, serves it, trains the flow on the
 * page's example expression in headless Chromium (test/helpers/browser.ts: Debian's chromium),
 * and saves the top of the finished page. `tsx web/screenshot.ts [out.png]`
 * (default docs/images/playground.png). A one-off for the docs, not a test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildWeb } from './build.js';
import { startStaticServer } from '../src/cli/staticServer.js';
import { haveChromium, launchChromium, CHROMIUM } from '../test/helpers/browser.js';

const out = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'docs', 'images', 'playground.png'));
if (!haveChromium) {
  console.error(`screenshot: ${CHROMIUM} not found (apt-get install chromium, or set FLOWSAMPLER_CHROMIUM)`);
  process.exit(2);
}
const dir = await mkdtemp(join(tmpdir(), 'flowsampler-shot-'));
const server = await startStaticServer((await buildWeb(dir)).dir);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 60_000 });
  const t0 = performance.now();
  await page.click('#run');
  await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 600_000 });
  // Let the last figures draw.
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('.vega-figure')].every((e) => e.dataset.rendered), null, { timeout: 30_000 });
  await page.waitForTimeout(500);
  const bottom = await page.evaluate(() => {
    const notes = document.getElementById('notes')!;
    return Math.ceil(notes.getBoundingClientRect().bottom + window.scrollY + 8);
  });
  await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1440, height: Math.min(bottom, 1400) }, fullPage: true });
  console.log(`${out}: run took ${((performance.now() - t0) / 1000).toFixed(1)} s; ${await page.textContent('#flow-status')}`);
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
