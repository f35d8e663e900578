import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { escapeHtml, jsonForScript } from '../src/report/escape.js';
import { densityFigure, densityGrid } from '../src/report/densityFigure.js';
import { traceFigure } from '../src/report/traceFigure.js';
import { autocorrelation } from '../src/report/autocorrFigure.js';
import { figureSet } from '../src/report/figures.js';
import { renderReportHtml } from '../src/report/html.js';
import { figureToSvg, exportFiguresPng } from '../src/report/png.js';
import { formatTable } from '../src/report/summaryRow.js';
import { thinIndices } from '../src/report/figure.js';
import { fakeBanana, fakeDraws, fakeRow } from './helpers/reportFakes.js';
import { RandomStream } from '../src/core/random.js';
import { makeDraws } from '../src/core/draws.js';

const evil = `ev<script>alert("x")</script>'"&`;

describe('report escaping', () => {
  it('escapes HTML metacharacters', () => {
    expect(escapeHtml(evil)).toBe('ev&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&quot;&amp;');
  });
  it('makes JSON safe inside a script element and keeps it parseable', () => {
    const s = jsonForScript({ name: evil, sep: '\u2028' });
    expect(s).not.toMatch(/<|>|\u2028/);
    expect(JSON.parse(s)).toEqual({ name: evil, sep: '\u2028' });
  });
});

describe('figure builders', () => {
  it('thins evenly and never exceeds the cap', () => {
    expect(thinIndices(10, 20)).toHaveLength(10);
    const t = thinIndices(10_000, 2000);
    expect(t).toHaveLength(2000);
    expect(new Set(t).size).toBe(2000);
    expect(t[0]).toBe(0);
    expect(t[t.length - 1]).toBeLessThan(10_000);
  });
  it('density grid peaks at 1 where the density peaks (top row = high y)', () => {
    const g = densityGrid(fakeBanana(), [[-5, 5], [-3, 8]], 40);
    expect(Math.max(...g)).toBeCloseTo(1, 1);
    const argmax = g.indexOf(Math.max(...g));
    const row = Math.floor(argmax / 40);
    const y = 8 - ((row + 0.5) / 40) * 11;
    expect(Math.abs(y - -1)).toBeLessThan(0.5); // the banana's mode is at (0, -1)
  });
  it('caps the points per sampler and renders contours and symbols in Node', async () => {
    const draws = [fakeDraws('a', 1, 4, 1000), fakeDraws('b', 2)];
    const fig = densityFigure(fakeBanana(), draws, { maxPoints: 500 });
    const pts = (fig.spec.data as { name: string; values: unknown[] }[])[0].values;
    expect(pts).toHaveLength(500 + 500);
    const svg = await figureToSvg(fig);
    expect((svg.match(/class="mark-symbol/g) ?? []).length).toBe(2);
    expect((svg.match(/class="mark-shape/g) ?? []).length).toBe(2);
  });
  it('higher dimensions: pairwise panels with kde2d contours of exact draws', async () => {
    const rng = new RandomStream(5);
    const target3 = {
      ...fakeBanana('gauss3'),
      dim: 3,
      plotBounds: undefined,
      logDensity: (x: Float64Array) => -0.5 * (x[0] ** 2 + x[1] ** 2 + x[2] ** 2),
      sampleExact: (n: number, r: RandomStream) => r.fillNormal(new Float64Array(3 * n)),
    };
    const values = rng.fillNormal(new Float64Array(2 * 200 * 3));
    const d = makeDraws({ sampler: 'nuts', chains: 2, draws: 200, dim: 3, values, wallTimeMs: 1, densityEvals: 1, gradEvals: 1, acceptance: 0.8 });
    const figs = figureSet(target3, [d], [fakeRow('nuts', 0)], []);
    expect(figs.filter((f) => f.id.startsWith('density-')).map((f) => f.id)).toEqual(['density-x1-x2', 'density-x1-x3', 'density-x2-x3']);
    const svg = await figureToSvg(figs[2]);
    expect((svg.match(/class="mark-shape/g) ?? []).length).toBe(1);
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(400); // 400 draws + contours + axes
    expect(figs.some((f) => f.id === 'training')).toBe(false); // no flow, no training figure
  });
  it('trace plot carries one series per chain per sampler', () => {
    const fig = traceFigure([fakeDraws('a', 1, 3, 1000)], { maxIterations: 100 });
    const rows = (fig.spec.data as { values: { chain: string }[] }).values;
    expect(rows).toHaveLength(300);
    expect(new Set(rows.map((r) => r.chain)).size).toBe(3);
  });
  it('autocorrelation is 1 at lag 0 and near 0 at lag 1 for independent draws', () => {
    const d = fakeDraws('a', 3, 1, 4000);
    const x = Float64Array.from({ length: 4000 }, (_, i) => d.values[2 * i]);
    const a = autocorrelation(x, 5);
    expect(a[0]).toBeCloseTo(1, 12);
    // sd of the lag-1 estimate for iid draws is ~1/sqrt(n) = 0.016; 5 sd: false-failure ~1e-6.
    expect(Math.abs(a[1])).toBeLessThan(5 / Math.sqrt(4000));
  });
  it('formats the table with one line per sampler and "-" for missing values', () => {
    const t = formatTable([fakeRow('nuts', 0), { ...fakeRow('rwm', 1), kl: null }]);
    const lines = t.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^sampler\s+ESS bulk\s+ESS tail\s+R-hat/);
    expect(lines[3]).toMatch(/^rwm .* - /);
  });
});

describe('report.html and PNG export', () => {
  it('is self-contained, escapes user strings and exports one PNG per figure', async () => {
    const target = { ...fakeBanana(evil) };
    const draws = [fakeDraws('nuts', 1), fakeDraws('iaf', 2)];
    const rows = draws.map((d, i) => fakeRow(d.sampler, i));
    const curve = { name: 'iaf', points: Array.from({ length: 50 }, (_, s) => ({ step: s, loss: 1 / (s + 1), essFraction: s / 50 })) };
    const figs = figureSet(target, draws, rows, [curve]);
    expect(figs.map((f) => f.id)).toEqual(['density-x1-x2', 'trace-x1', 'autocorrelation-x1', 'training', 'efficiency']);
    const html = await renderReportHtml({ title: evil, sections: [{ target: { ...target, expression: evil }, rows, figures: figs }], meta: { seed: 1 } });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toMatch(/src="http|href="http|cdn\./i);
    expect(html).toContain('ev&lt;script&gt;alert(&quot;x&quot;)');
    expect((html.match(/class="vega-figure"/g) ?? []).length).toBe(figs.length);
    const dir = await mkdtemp(join(tmpdir(), 'fs-report-'));
    const paths = await exportFiguresPng(figs, join(dir, 'figures'));
    expect((await readdir(join(dir, 'figures'))).sort()).toEqual(figs.map((f) => `${f.id}.png`).sort());
    const png = await readFile(paths[0]);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.length).toBeGreaterThan(5000);
  });
});
