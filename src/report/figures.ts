/**
 * The figure set of one target in a comparison: density + draws (the first pairs of coordinates
 * for higher dimensions), traces, autocorrelation, the flows' training curves, efficiency bars.
 */
import type { Draws } from '../core/draws.js';
import type { Target } from '../targets/target.js';
import type { Figure } from './figure.js';
import type { SummaryRow } from './summaryRow.js';
import { densityFigure, type DensityFigureOptions } from './densityFigure.js';
import { densityFigure1d } from './densityFigure1d.js';
import { traceFigure } from './traceFigure.js';
import { autocorrFigure } from './autocorrFigure.js';
import { trainingFigure, type TrainingCurve } from './trainingFigure.js';
import { barsFigure } from './barsFigure.js';

export interface FigureSetOptions {
  seed?: number | string;
  /** Coordinate pairs to draw for dim > 2 (default: pairs among the first 3 coordinates). */
  pairs?: [number, number][];
  /** Draws per known mode, by sampler (shown in the density panels). */
  modeCounts?: Record<string, number[]>;
  /** Points per sampler and panel side of the density panels (the playground's are smaller). */
  density?: Pick<DensityFigureOptions, 'maxPoints' | 'cell'>;
}

export function figureSet(
  target: Target,
  draws: Draws[],
  rows: SummaryRow[],
  training: TrainingCurve[],
  opts: FigureSetOptions = {},
): Figure[] {
  const figs: Figure[] = [];
  if (draws.length > 0 && target.dim >= 2) {
    const pairs: [number, number][] = opts.pairs ?? (target.dim === 2 ? [[0, 1]] : target.dim === 3 ? [[0, 1], [0, 2], [1, 2]] : [[0, 1], [0, 2], [1, 2]]);
    // Mode counts only in the first pair's panels (the counts are over all coordinates).
    pairs.forEach((pair, k) => figs.push(densityFigure(target, draws, { ...opts.density, pair, seed: opts.seed, ...(k === 0 && opts.modeCounts ? { modeCounts: opts.modeCounts } : {}) })));
  }
  if (draws.length > 0 && target.dim === 1) figs.push(densityFigure1d(target, draws, { modeCounts: opts.modeCounts }));
  if (draws.length > 0) {
    figs.push(traceFigure(draws));
    figs.push(autocorrFigure(draws));
  }
  if (training.length > 0 && training.some((t) => t.points.length > 0)) figs.push(trainingFigure(training));
  if (rows.some((r) => !r.error)) figs.push(barsFigure(rows));
  return figs;
}
