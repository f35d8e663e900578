/**
 * The report as a user sees it: report.html opened from disk in headless Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core), every figure rendered by vega-embed with its
 * marks, no page errors, no network. Skipped with a message when Chromium is not installed
 * (.ci/run installs it, so CI always runs this).
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { figureSet } from '../src/report/figures.js';
import { renderReportHtml } from '../src/report/html.js';
import type { Figure } from '../src/report/figure.js';
import { fakeBanana, fakeDraws, fakeRow } from './helpers/reportFakes.js';

const CHROMIUM = process.env.FLOWSAMPLER_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`report.e2e: skipped — ${CHROMIUM} not found (install Debian's 'chromium' package, or set FLOWSAMPLER_CHROMIUM)`);
}

describe('report.html in a browser', () => {
  it.skipIf(!haveChromium)('renders every figure with its marks, offline, with user strings escaped', async () => {
    const { chromium } = await import('playwright-core');
    const target = fakeBanana(`banana <script>window.__pwned = 1</script> "quoted"`);
    const draws = [fakeDraws('nuts', 1), fakeDraws('iaf', 2), fakeDraws('rwm', 3)];
    const rows = draws.map((d, i) => fakeRow(d.sampler, i));
    const curve = { name: 'iaf', points: Array.from({ length: 100 }, (_, s) => ({ step: s, loss: 2 / (s + 1), essFraction: s / 100 })) };
    const figs: Figure[] = figureSet(target, draws, rows, [curve]);
    const html = await renderReportHtml({
      title: 'e2e <img src=x onerror="window.__pwned=2">',
      sections: [{ target: { ...target, expression: `-x1^2 </script><script>window.__pwned=3</script>` }, rows, figures: figs }],
      meta: { seed: 1 },
    });
    const dir = await mkdtemp(join(tmpdir(), 'fs-e2e-'));
    const file = join(dir, 'report.html');
    await writeFile(file, html);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('request', (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && requests.push(r.url()));
      await page.goto(pathToFileURL(file).href);
      await page.waitForFunction(
        () => [...document.querySelectorAll('.vega-figure')].every((e) => e.hasAttribute('data-rendered') || e.hasAttribute('data-error')),
        null,
        { timeout: 60_000 },
      );
      const rendered = await page.evaluate(() =>
        [...document.querySelectorAll('.vega-figure')].map((e) => ({
          id: e.getAttribute('data-figure'),
          error: e.getAttribute('data-error'),
          svg: e.querySelectorAll('svg.marks').length,
          counts: Object.fromEntries(
            ['mark-symbol', 'mark-shape', 'mark-line', 'mark-rect'].map((c) => [c, e.querySelectorAll(`g.${c} > path`).length]),
          ),
        })),
      );
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(rendered.map((r) => r.id)).toEqual(figs.map((f) => f.id));
      for (const [k, fig] of figs.entries()) {
        const r = rendered[k];
        expect(r.error, fig.id).toBeNull();
        expect(r.svg, fig.id).toBe(1);
        for (const e of fig.expect) expect(r.counts[e.markClass], `${fig.id} ${e.markClass}`).toBeGreaterThanOrEqual(e.min);
      }
      // Exact counts where we know them: 300 thinned draws x 3 samplers in the density panel,
      // 3 samplers x 2 chains trace lines, 3 x 3 bars (ESS/s, ESS/1k evals, KL).
      const byId = Object.fromEntries(rendered.map((r) => [r.id, r.counts]));
      expect(byId['density-x1-x2']['mark-symbol']).toBe(3 * 600);
      expect(byId['density-x1-x2']['mark-shape']).toBeGreaterThanOrEqual(3 * 7);
      expect(byId['trace-x1']['mark-line']).toBe(6);
      expect(byId['efficiency']['mark-rect']).toBe(9);
      expect(await page.locator('table.summary tbody tr').count()).toBe(3);
      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`report.e2e: screenshot at ${shot}`);
    } finally {
      await browser.close();
    }
  });
});
