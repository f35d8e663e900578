/**
 * Trace plots: one parameter's value against iteration, one line per chain, one row per sampler.
 * Flat, well-mixed "hairy caterpillars" are what a healthy chain looks like; trends or long
 * flat stretches mean the sampler is stuck.
 */
import type { Draws } from '../core/draws.js';
import { type Figure, thinIndices, safeId } from './figure.js';

export interface TraceFigureOptions {
  /** Parameter index (default 0). */
  param?: number;
  /** Max iterations shown per chain (default 400, evenly thinned). */
  maxIterations?: number;
  /** Max chains shown per sampler (default 4). */
  maxChains?: number;
}

export function traceFigure(draws: Draws[], opts: TraceFigureOptions = {}): Figure {
  const p = opts.param ?? 0;
  const rows: { sampler: string; chain: string; iteration: number; value: number }[] = [];
  let name = `x${p + 1}`;
  for (const d of draws) {
    if (p >= d.dim) continue;
    name = d.paramNames[p] ?? name;
    const idx = thinIndices(d.draws, opts.maxIterations ?? 400);
    for (let c = 0; c < Math.min(d.chains, opts.maxChains ?? 4); c++) {
      for (const i of idx) {
        rows.push({ sampler: d.sampler, chain: String(c + 1), iteration: i + 1, value: d.values[(c * d.draws + i) * d.dim + p] });
      }
    }
  }
  const samplers = [...new Set(draws.map((d) => d.sampler))];
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    facet: { row: { field: 'sampler', type: 'nominal', sort: samplers, title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    spec: {
      width: 560,
      height: 70,
      mark: { type: 'line', strokeWidth: 0.7, opacity: 0.8 },
      encoding: {
        x: { field: 'iteration', type: 'quantitative', title: 'iteration (post warm-up)' },
        y: { field: 'value', type: 'quantitative', title: name, scale: { zero: false } },
        color: { field: 'chain', type: 'nominal', title: 'chain' },
      },
    },
    resolve: { scale: { y: 'shared' } },
  };
  const lines = samplers.length * Math.min(4, Math.max(1, ...draws.map((d) => d.chains)));
  return {
    id: `trace-${safeId(name)}`,
    title: `Trace plots of ${name}`,
    caption: `Each line is one chain (at most ${opts.maxIterations ?? 400} iterations shown, evenly thinned). Importance samplers' draws are independent, so their traces are noise by construction.`,
    mode: 'vega-lite',
    spec,
    expect: [{ markClass: 'mark-line', min: Math.min(lines, samplers.length) }],
  };
}
