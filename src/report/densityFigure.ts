/**
 * Target density contours with each sampler's draws over them, one small multiple per sampler.
 * 2-D targets: contours of the exact (unnormalised) density on a grid. Higher dimensions: the
 * pair (i, j) of coordinates, with contours from a 2-D kernel density estimate of exact draws
 * when the target has an exact sampler (a marginal density is not computable from log p̃), and
 * draws alone otherwise. A Vega spec (not Vega-Lite) because Vega has the isocontour and kde2d
 * transforms; contours are computed by Vega, not drawn by hand.
 */
import type { Draws } from '../core/draws.js';
import type { Target } from '../targets/target.js';
import { RandomStream } from '../core/random.js';
import { type Figure, thinIndices, safeId } from './figure.js';

export interface DensityFigureOptions {
  /** Coordinates to show (0-based), default [0, 1]. */
  pair?: [number, number];
  /** Max points per sampler (default 1000). */
  maxPoints?: number;
  /** Grid resolution for 2-D density contours (default 80). */
  grid?: number;
  /** Side of each panel in pixels (default 220). */
  cell?: number;
  /** Seed for the exact reference draws of higher-D targets. */
  seed?: number | string;
  /**
   * Draws per known mode, by sampler: each panel then prints the count at every mode's centre
   * (targets whose modes are known and have centres, at most 64 modes) and its title says how
   * many modes the sampler visited.
   */
  modeCounts?: Record<string, number[]>;
}

/** The panel title: the sampler, and with mode counts how many modes it visited (≥ ¼ of its fair share). */
function panelLabel(target: Target, sampler: string, counts: number[] | undefined): string {
  if (!counts || !target.modes) return sampler;
  const n = counts.reduce((a, b) => a + b, 0);
  const visited = counts.filter((c, k) => c >= 1 && c >= 0.25 * n * target.modes!.weights[k]).length;
  return `${sampler}: ${visited}/${counts.length} modes`;
}

/** The plotting box: target.plotBounds when given, else 0.5%–99.5% quantiles of all draws, padded. */
export function plotBox(target: Target, draws: Draws[], i: number, j: number): [[number, number], [number, number]] {
  const fromBounds = (k: number): [number, number] | undefined => target.plotBounds?.[k];
  const fromDraws = (k: number): [number, number] => {
    const vals: number[] = [];
    for (const d of draws) {
      const n = d.chains * d.draws;
      for (const r of thinIndices(n, 4000)) vals.push(d.values[r * d.dim + k]);
    }
    if (vals.length === 0) return [-3, 3];
    vals.sort((a, b) => a - b);
    const lo = vals[Math.floor(0.005 * (vals.length - 1))];
    const hi = vals[Math.ceil(0.995 * (vals.length - 1))];
    const pad = 0.1 * (hi - lo || 1);
    return [lo - pad, hi + pad];
  };
  return [fromBounds(i) ?? fromDraws(i), fromBounds(j) ?? fromDraws(j)];
}

/** Exact density on an n x n grid, rows from top (high y) to bottom, scaled so the max is 1. */
export function densityGrid(target: Target, box: [[number, number], [number, number]], n: number): number[] {
  const [[x0, x1], [y0, y1]] = box;
  const p = new Float64Array(2);
  const logs = new Float64Array(n * n);
  let max = -Infinity;
  for (let r = 0; r < n; r++) {
    p[1] = y1 - ((r + 0.5) / n) * (y1 - y0);
    for (let c = 0; c < n; c++) {
      p[0] = x0 + ((c + 0.5) / n) * (x1 - x0);
      const l = target.logDensity(p);
      logs[r * n + c] = Number.isFinite(l) ? l : -Infinity;
      if (logs[r * n + c] > max) max = logs[r * n + c];
    }
  }
  return Array.from(logs, (l) => (Number.isFinite(max) && Number.isFinite(l) ? Math.exp(l - max) : 0));
}

export function densityFigure(target: Target, draws: Draws[], opts: DensityFigureOptions = {}): Figure {
  const [i, j] = opts.pair ?? [0, 1];
  const S = opts.cell ?? 220;
  const n = opts.grid ?? 80;
  const box = plotBox(target, draws, i, j);
  const names = target.paramNames ?? Array.from({ length: target.dim }, (_, k) => `x${k + 1}`);
  const points: { sampler: string; label: string; order: number; a: number; b: number }[] = [];
  for (const [order, d] of draws.entries()) {
    const label = panelLabel(target, d.sampler, opts.modeCounts?.[d.sampler]);
    for (const r of thinIndices(d.chains * d.draws, opts.maxPoints ?? 1000)) {
      points.push({ sampler: d.sampler, label, order, a: d.values[r * d.dim + i], b: d.values[r * d.dim + j] });
    }
  }
  const data: Record<string, unknown>[] = [{ name: 'points', values: points }];
  const center = target.modes?.center;
  const labels: { sampler: string; a: number; b: number; count: number }[] = [];
  if (center && opts.modeCounts && target.modes!.count <= 64) {
    for (const [sampler, counts] of Object.entries(opts.modeCounts)) {
      counts.forEach((count, k) => {
        const c = center(k);
        labels.push({ sampler, a: c[i], b: c[j], count });
      });
    }
  }
  const withLabels = labels.length > 0;
  if (withLabels) data.push({ name: 'modeLabels', values: labels });
  let contourNote: string;
  if (target.dim === 2) {
    // Levels as fractions of the peak density; the outermost holds nearly all the mass.
    const thresholds = [0.01, 0.05, 0.15, 0.3, 0.5, 0.7, 0.9];
    data.push({
      name: 'contours',
      values: [{ width: n, height: n, values: densityGrid(target, box, n) }],
      transform: [{ type: 'isocontour', thresholds, scale: S / n }],
    });
    contourNote = 'Contours: the exact target density (levels at 1%, 5%, 15%, 30%, 50%, 70%, 90% of its peak).';
  } else if (target.sampleExact) {
    const m = 2000;
    const ref = target.sampleExact(m, new RandomStream(opts.seed ?? 0).derive('report-reference'));
    const refPts = Array.from({ length: m }, (_, r) => ({ a: ref[r * target.dim + i], b: ref[r * target.dim + j] }));
    data.push({
      name: 'contours',
      values: refPts,
      transform: [
        { type: 'kde2d', size: [S, S], x: { expr: "scale('x', datum.a)" }, y: { expr: "scale('y', datum.b)" }, as: 'grid' },
        { type: 'isocontour', field: 'grid', levels: 6 },
      ],
    });
    contourNote = `Contours: kernel density estimate of ${m} exact draws of the (${names[i]}, ${names[j]}) marginal.`;
  } else {
    contourNote = 'No contours: the marginal density of a higher-dimensional target without an exact sampler is unknown.';
  }
  const samplers = [...new Set(draws.map((d) => d.sampler))];
  const cellMarks: Record<string, unknown>[] = [];
  if (data.some((d) => d.name === 'contours')) {
    cellMarks.push({
      type: 'shape',
      from: { data: 'contours' },
      encode: { enter: { stroke: { value: '#555' }, strokeWidth: { value: 0.8 }, fill: { value: null }, strokeOpacity: { value: 0.8 } } },
      transform: [{ type: 'geoshape', field: 'datum.contour' }],
    });
  }
  cellMarks.push({
    type: 'symbol',
    from: { data: 'cell' },
    encode: {
      enter: {
        x: { scale: 'x', field: 'a' },
        y: { scale: 'y', field: 'b' },
        size: { value: 6 },
        fill: { scale: 'color', field: 'sampler' },
        fillOpacity: { value: 0.45 },
      },
    },
  });
  if (withLabels) {
    cellMarks.push({
      type: 'text',
      from: { data: 'cellLabels' },
      encode: {
        enter: {
          x: { scale: 'x', field: 'a' },
          y: { scale: 'y', field: 'b' },
          text: { field: 'count' },
          align: { value: 'center' },
          baseline: { value: 'middle' },
          fontSize: { value: 8 },
          fontWeight: { value: 'bold' },
          fill: { signal: "datum.count === 0 ? '#c00' : '#000'" },
        },
      },
    });
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    padding: 8,
    autosize: 'pad',
    data,
    layout: { columns: Math.min(4, Math.max(1, samplers.length)), padding: 18, bounds: 'full' },
    scales: [
      { name: 'x', type: 'linear', domain: box[0], range: [0, S], zero: false, nice: false },
      { name: 'y', type: 'linear', domain: box[1], range: [S, 0], zero: false, nice: false },
      { name: 'color', type: 'ordinal', domain: samplers, range: 'category' },
    ],
    marks: [
      {
        type: 'group',
        // Panels in the order the samplers ran (the table's order), not alphabetical.
        from: { facet: { name: 'cell', data: 'points', groupby: ['order', 'sampler', 'label'] } },
        sort: { field: 'datum.order' },
        title: { text: { signal: 'parent.label' }, fontSize: 12 },
        ...(withLabels ? { data: [{ name: 'cellLabels', source: 'modeLabels', transform: [{ type: 'filter', expr: 'datum.sampler === parent.sampler' }] }] } : {}),
        encode: { enter: { width: { value: S }, height: { value: S }, stroke: { value: '#ccc' } } },
        axes: [
          { orient: 'bottom', scale: 'x', title: names[i], tickCount: 5 },
          { orient: 'left', scale: 'y', title: names[j], tickCount: 5 },
        ],
        // An inner clipping group: clipping the outer one would also clip its axes.
        marks: [{ type: 'group', encode: { enter: { width: { value: S }, height: { value: S }, clip: { value: true } } }, marks: cellMarks }],
      },
    ],
  };
  const expect = [{ markClass: 'mark-symbol', min: Math.min(points.length, samplers.length) }];
  if (data.some((d) => d.name === 'contours')) expect.push({ markClass: 'mark-shape', min: samplers.length });
  if (withLabels) expect.push({ markClass: 'mark-text', min: Math.min(samplers.length, Object.keys(opts.modeCounts ?? {}).length) });
  return {
    id: `density-${safeId(names[i])}-${safeId(names[j])}`,
    title: `Draws over the target density: ${names[i]} vs ${names[j]}`,
    caption: `${contourNote} Points: up to ${opts.maxPoints ?? 1000} draws per sampler, thinned evenly.${withLabels ? ' Numbers: draws of each sampler assigned to each mode (the component of highest responsibility), over all its draws; red = never visited. A mode counts as visited when it holds at least a quarter of its fair share.' : ''}`,
    mode: 'vega',
    spec,
    expect,
  };
}
