/**
 * Autocorrelation of one parameter by lag, averaged over chains, one line per sampler.
 * Computed directly (O(n * maxLag)), which for <= 100 lags is cheaper than an FFT round trip.
 */
import type { Draws } from '../core/draws.js';
import { parameterChains } from '../core/draws.js';
import { type Figure, jsonNumber, safeId } from './figure.js';

/** Autocorrelation at lags 0..maxLag of one chain (biased estimator, as in Geyer 1992). */
export function autocorrelation(x: Float64Array, maxLag: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(maxLag + 1);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let c0 = 0;
  for (let i = 0; i < n; i++) c0 += (x[i] - mean) ** 2;
  if (!(c0 > 0)) return out.fill(NaN);
  for (let k = 0; k <= Math.min(maxLag, n - 1); k++) {
    let s = 0;
    for (let i = 0; i + k < n; i++) s += (x[i] - mean) * (x[i + k] - mean);
    out[k] = s / c0;
  }
  return out;
}

export function autocorrFigure(draws: Draws[], opts: { param?: number; maxLag?: number } = {}): Figure {
  const p = opts.param ?? 0;
  const rows: { sampler: string; lag: number; acf: number | null }[] = [];
  let name = `x${p + 1}`;
  for (const d of draws) {
    if (p >= d.dim) continue;
    name = d.paramNames[p] ?? name;
    const maxLag = Math.min(opts.maxLag ?? 50, d.draws - 1);
    const acc = new Float64Array(maxLag + 1);
    for (const chain of parameterChains(d, p)) {
      const a = autocorrelation(chain, maxLag);
      for (let k = 0; k <= maxLag; k++) acc[k] += a[k] / d.chains;
    }
    for (let k = 0; k <= maxLag; k++) rows.push({ sampler: d.sampler, lag: k, acf: jsonNumber(acc[k]) });
  }
  const samplers = [...new Set(draws.map((d) => d.sampler))];
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: 220,
    data: { values: rows },
    layer: [
      { mark: { type: 'rule', color: '#999' }, encoding: { y: { datum: 0 } } },
      {
        mark: { type: 'line', point: { size: 12 } },
        encoding: {
          x: { field: 'lag', type: 'quantitative', title: 'lag' },
          y: { field: 'acf', type: 'quantitative', title: `autocorrelation of ${name}`, scale: { domain: [-0.2, 1] } },
          color: { field: 'sampler', type: 'nominal', sort: samplers },
        },
      },
    ],
  };
  return {
    id: `autocorrelation-${safeId(name)}`,
    title: `Autocorrelation of ${name}`,
    caption: 'Mean over chains of the lag-k autocorrelation. Fast decay to 0 means many effective draws per iteration.',
    mode: 'vega-lite',
    spec,
    expect: [{ markClass: 'mark-line', min: 1 }],
  };
}
