/**
 * 1-D targets: each sampler's histogram (as a density) under the exact target density, one
 * small multiple per sampler. The curve is p̃ normalised by log Z when it is known, else by
 * quadrature over the plotted range. With known modes, each panel's title says how many modes
 * the sampler visited and how many draws each mode received.
 */
import type { Draws } from '../core/draws.js';
import type { Target } from '../targets/target.js';
import { type Figure, jsonNumber } from './figure.js';
import { plotBox } from './densityFigure.js';

export interface DensityFigure1dOptions {
  /** Histogram bins over the plotted range (default 60). */
  bins?: number;
  /** Points of the density curve (default 200). */
  grid?: number;
  /** Draws per known mode, by sampler (as in densityFigure). */
  modeCounts?: Record<string, number[]>;
}

function title(target: Target, sampler: string, counts: number[] | undefined): string {
  if (!counts || !target.modes) return sampler;
  const n = counts.reduce((a, b) => a + b, 0);
  const visited = counts.filter((c, k) => c >= 1 && c >= 0.25 * n * target.modes!.weights[k]).length;
  return `${sampler}: ${visited}/${counts.length} modes (${counts.join(' / ')})`;
}

export function densityFigure1d(target: Target, draws: Draws[], opts: DensityFigure1dOptions = {}): Figure {
  const [[lo, hi]] = plotBox(target, draws, 0, 0);
  const bins = opts.bins ?? 60;
  const grid = opts.grid ?? 200;
  const width = (hi - lo) / bins;
  // The exact density on the grid, normalised.
  const xs = Array.from({ length: grid }, (_, k) => lo + ((k + 0.5) / grid) * (hi - lo));
  const logs = xs.map((x) => target.logDensity(Float64Array.of(x)));
  let logNorm = target.logZ;
  if (logNorm === undefined) {
    const m = Math.max(...logs.filter(Number.isFinite));
    logNorm = m + Math.log(logs.reduce((s, l) => s + (Number.isFinite(l) ? Math.exp(l - m) : 0), 0) * ((hi - lo) / grid));
  }
  const rows: Record<string, unknown>[] = [];
  const panels: string[] = [];
  for (const d of draws) {
    const label = title(target, d.sampler, opts.modeCounts?.[d.sampler]);
    panels.push(label);
    const counts = new Float64Array(bins);
    const n = d.chains * d.draws;
    for (let r = 0; r < n; r++) {
      const b = Math.floor((d.values[r * d.dim] - lo) / width);
      if (b >= 0 && b < bins) counts[b]++;
    }
    counts.forEach((c, b) => rows.push({ panel: label, kind: 'draws', x0: lo + b * width, x1: lo + (b + 1) * width, y: c / (n * width) }));
    xs.forEach((x, k) => rows.push({ panel: label, kind: 'exact', x, y: jsonNumber(Math.exp(logs[k] - logNorm!)) }));
  }
  const name = target.paramNames?.[0] ?? 'x1';
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 12 } },
    columns: Math.min(4, Math.max(1, draws.length)),
    spec: {
      width: 220,
      height: 140,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'draws'" }],
          mark: { type: 'rect', opacity: 0.6 },
          encoding: {
            x: { field: 'x0', type: 'quantitative', title: name, scale: { domain: [lo, hi] } },
            x2: { field: 'x1' },
            y: { field: 'y', type: 'quantitative', title: 'density' },
            color: { value: '#4c78a8' },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'exact'" }],
          mark: { type: 'line', strokeWidth: 1.2, color: '#333' },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
      ],
    },
  };
  return {
    id: `density-${name.replace(/[^A-Za-z0-9_-]+/g, '_')}`,
    title: `Draws over the target density: ${name}`,
    caption: `Bars: each sampler's histogram of ${name} as a density (${bins} bins over the plotted range). Line: the exact target density${target.logZ === undefined ? ' (normalised over the plotted range)' : ''}.${opts.modeCounts && target.modes ? ' Titles: modes visited (at least a quarter of their fair share of the draws) and the draws in each mode.' : ''}`,
    mode: 'vega-lite',
    spec,
    expect: [
      { markClass: 'mark-rect', min: Math.min(1, draws.length) },
      { markClass: 'mark-line', min: draws.length },
    ],
  };
}
