/**
 * The 1-D picture of a normalizing flow (UDL §16.1, figs. 16.1–16.2): the base density
 * N(0, 1) of z, the learned forward map x = f(z), and the density it induces,
 * q(x) = N(f⁻¹(x)) |df⁻¹/dx|, over a histogram of the data it was fitted to (and the true
 * density when known). Three panels side by side.
 */
import type { Flow } from '../flows/flow.js';
import { ParameterError } from '../core/errors.js';
import { type Figure, jsonNumber } from './figure.js';

export interface Flow1dFigureOptions {
  /** The data the flow was fitted to (histogram). */
  data?: ArrayLike<number>;
  /** The true log density, when known (a dashed line). */
  trueLogDensity?: (x: number) => number;
  /** The x range (default: the data's range padded by 10 %, or f(±3.5)). */
  xRange?: [number, number];
  /** Histogram bins (default 50) and grid points (default 300). */
  bins?: number;
  grid?: number;
  id?: string;
  title?: string;
}

export function flow1dFigure(flow: Flow, opts: Flow1dFigureOptions = {}): Figure {
  if (flow.dim !== 1) throw new ParameterError(`flow1dFigure: the flow has dim ${flow.dim}; the figure is for 1-D flows`);
  const G = opts.grid ?? 300;
  const zs = Float64Array.from({ length: G }, (_, k) => -3.5 + (7 * k) / (G - 1));
  const engine = flow.activeEngine();
  const [xs] = engine.evaluate(flow.store, flow.transformProgram(), [{ values: zs, rows: G, cols: 1 }]);
  let lo: number;
  let hi: number;
  if (opts.xRange) [lo, hi] = opts.xRange;
  else if (opts.data && opts.data.length > 0) {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < opts.data.length; i++) (lo = Math.min(lo, opts.data[i])), (hi = Math.max(hi, opts.data[i]));
    const pad = 0.1 * (hi - lo || 1);
    lo -= pad;
    hi += pad;
  } else [lo, hi] = [xs[0], xs[G - 1]];
  const xg = Float64Array.from({ length: G }, (_, k) => lo + ((hi - lo) * k) / (G - 1));
  const lq = flow.logProbArrays(xg);
  const rows: Record<string, unknown>[] = [];
  for (let k = 0; k < G; k++) rows.push({ panel: 'base', z: zs[k], y: Math.exp(-0.5 * zs[k] * zs[k]) / Math.sqrt(2 * Math.PI) });
  for (let k = 0; k < G; k++) rows.push({ panel: 'map', z: zs[k], x: jsonNumber(xs[k]) });
  for (let k = 0; k < G; k++) rows.push({ panel: 'density', kind: 'flow q(x)', x: xg[k], y: jsonNumber(Math.exp(lq[k])) });
  if (opts.trueLogDensity) for (let k = 0; k < G; k++) rows.push({ panel: 'density', kind: 'true p(x)', x: xg[k], y: jsonNumber(Math.exp(opts.trueLogDensity(xg[k]))) });
  if (opts.data && opts.data.length > 0) {
    const bins = opts.bins ?? 50;
    const w = (hi - lo) / bins;
    const counts = new Float64Array(bins);
    for (let i = 0; i < opts.data.length; i++) {
      const b = Math.floor((opts.data[i] - lo) / w);
      if (b >= 0 && b < bins) counts[b]++;
    }
    counts.forEach((c, b) => rows.push({ panel: 'hist', x0: lo + b * w, x1: lo + (b + 1) * w, y: c / (opts.data!.length * w) }));
  }
  const filter = (p: string) => [{ filter: `datum.panel === '${p}'` }];
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    hconcat: [
      {
        title: 'base density N(0, 1)',
        width: 200,
        height: 160,
        transform: filter('base'),
        mark: { type: 'area', opacity: 0.5, line: true },
        encoding: { x: { field: 'z', type: 'quantitative', title: 'z' }, y: { field: 'y', type: 'quantitative', title: 'density' } },
      },
      {
        title: 'forward map x = f(z)',
        width: 200,
        height: 160,
        transform: filter('map'),
        mark: { type: 'line', strokeWidth: 2, color: '#e45756' },
        encoding: { x: { field: 'z', type: 'quantitative', title: 'z' }, y: { field: 'x', type: 'quantitative', title: 'x', scale: { domain: [lo, hi], clamp: true } } },
      },
      {
        title: 'resulting density q(x)',
        width: 240,
        height: 160,
        layer: [
          {
            transform: filter('hist'),
            mark: { type: 'rect', opacity: 0.35, color: '#4c78a8' },
            encoding: { x: { field: 'x0', type: 'quantitative', title: 'x', scale: { domain: [lo, hi] } }, x2: { field: 'x1' }, y: { field: 'y', type: 'quantitative', title: 'density' } },
          },
          {
            transform: filter('density'),
            mark: { type: 'line', strokeWidth: 2 },
            encoding: {
              x: { field: 'x', type: 'quantitative' },
              y: { field: 'y', type: 'quantitative' },
              color: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['flow q(x)', 'true p(x)'], range: ['#e45756', '#333333'] } },
              strokeDash: { field: 'kind', type: 'nominal', legend: null, scale: { domain: ['flow q(x)', 'true p(x)'], range: [[1, 0], [4, 3]] } },
            },
          },
        ],
      },
    ],
  };
  return {
    id: opts.id ?? 'flow-1d',
    title: opts.title ?? 'A 1-D flow: base density, forward map, resulting density',
    caption:
      'Left: the base density of z. Middle: the learned monotone map x = f(z). Right: the density it induces, q(x) = N(f⁻¹(x); 0, 1)·|df⁻¹/dx|' +
      (opts.data ? ', over a histogram of the data it was fitted to' : '') +
      (opts.trueLogDensity ? ', with the true density dashed' : '') +
      '.',
    mode: 'vega-lite',
    spec,
    expect: [
      { markClass: 'mark-area', min: 1 },
      { markClass: 'mark-line', min: 2 },
      ...(opts.data ? [{ markClass: 'mark-rect', min: 1 }] : []),
    ],
  };
}
