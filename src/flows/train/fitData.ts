/**
 * Data for maximum-likelihood fitting: checked, split and standardised.
 *
 * - `toDataMatrix`: rows (number[][]) or a row-major array of n x dim values → one Float64Array,
 *   with a one-line error naming the row and column of the first value that is not finite, a
 *   constant column (its density would be a spike: the likelihood has no maximum), or too few rows.
 * - `discreteColumns`: columns that take few distinct values (counts, rounded measurements). A
 *   continuous density can pile its mass onto those values, and its likelihood then grows without
 *   bound; the usual remedy is dequantisation (Theis, van den Oord & Bethge 2016, "A note on the
 *   evaluation of generative models", §3.1): add uniform noise of the grid width.
 * - `splitRows`: a seeded shuffle into a training and a validation set.
 * - `standardizeFlow`: sets the flow's data-side affine layer to the data's mean and sd, so the
 *   layers before it see standardised data. The layer is part of the flow, so log q(x) includes
 *   its log-det, −Σ log sd_j, exactly; then any ActNorm layers initialise from the data as it
 *   arrives at them (Kingma & Dhariwal 2018). The fits hold the layer fixed
 *   (`standardizationParams`): Adam moves every parameter by about the learning rate in its own
 *   units, which for a mean in data units would depend on the data's scale.
 */
import type { Flow } from '../flow.js';
import type { Param } from '../params.js';
import { AffineDiagonal } from '../bijectors/affineDiagonal.js';
import { DimensionError, NonFiniteError, ParameterError, checkParam } from '../../core/errors.js';
import { checkArray, FLOAT64_BYTES } from '../../core/memory.js';
import { RandomStream } from '../../core/random.js';
import { fmt, makeWarning, type Warning } from '../../core/warnings.js';

/** Rows as arrays, or n x dim values row-major. */
export type FitData = ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/** The fewest rows a fit accepts (a validation split needs some of them). */
export const MIN_FIT_ROWS = 10;

function colName(names: readonly string[] | undefined, j: number): string {
  return names?.[j] !== undefined ? `'${names[j]}'` : `${j + 1}`;
}

/** The data as one row-major Float64Array of n x dim (see the file header; `forFit` false: only the shape and finiteness checks). */
export function toDataMatrix(data: FitData, dim: number, what = 'data', names?: readonly string[], forFit = true): { x: Float64Array; n: number } {
  if (data == null || typeof (data as ArrayLike<unknown>).length !== 'number') throw new ParameterError(`${what}: expected rows of numbers or a row-major array of n x ${dim} values`);
  const len = (data as ArrayLike<unknown>).length;
  let x: Float64Array;
  let n: number;
  if (len > 0 && typeof (data as ArrayLike<unknown>)[0] === 'object' && (data as ArrayLike<unknown>)[0] !== null) {
    const rows = data as ArrayLike<ArrayLike<number>>;
    n = len;
    checkArray(`${what}: ${n} rows of ${dim}`, n * dim, FLOAT64_BYTES);
    x = new Float64Array(n * dim);
    for (let r = 0; r < n; r++) {
      const row = rows[r];
      if (row == null || row.length !== dim) throw new DimensionError(`${what}: row ${r + 1} has ${row?.length ?? 0} values, the flow has dim ${dim}`);
      for (let j = 0; j < dim; j++) x[r * dim + j] = Number(row[j]);
    }
  } else {
    if (len % dim !== 0) throw new DimensionError(`${what}: ${len} values are not whole rows of dim ${dim}`);
    n = len / dim;
    x = Float64Array.from(data as ArrayLike<number>);
  }
  for (let k = 0; k < x.length; k++) {
    if (!Number.isFinite(x[k])) {
      throw new NonFiniteError(`${what}: row ${Math.floor(k / dim) + 1}, column ${colName(names, k % dim)} is ${String(x[k])}; a density fit needs finite values (drop or impute the row)`);
    }
  }
  if (!forFit) return { x, n };
  if (n < MIN_FIT_ROWS) throw new ParameterError(`${what}: ${n} rows are too few to fit a density (at least ${MIN_FIT_ROWS})`);
  for (let j = 0; j < dim; j++) {
    const v0 = x[j];
    let constant = true;
    for (let r = 1; constant && r < n; r++) constant = x[r * dim + j] === v0;
    if (constant) throw new ParameterError(`${what}: column ${colName(names, j)} is constant (every value is ${fmt(v0)}); its density would be a spike: drop the column`);
  }
  return { x, n };
}

/** Columns with fewer distinct values than max(20, n/50): likely counts or coarse rounding. */
export function discreteColumns(x: Float64Array, n: number, dim: number, names?: readonly string[]): Warning[] {
  const out: Warning[] = [];
  const limit = Math.max(20, Math.floor(n / 50));
  for (let j = 0; j < dim; j++) {
    const seen = new Set<number>();
    for (let r = 0; r < n && seen.size <= limit; r++) seen.add(x[r * dim + j]);
    if (seen.size <= limit && n >= 4 * seen.size) {
      out.push(
        makeWarning(
          'discrete-data',
          `column ${colName(names, j)} takes only ${seen.size} distinct values in ${n} rows: a continuous density can pile its mass onto them and its likelihood then grows without bound; add uniform noise of the grid width (dequantisation) or leave the column out`,
          { column: j + 1, distinct: seen.size, rows: n },
        ),
      );
    }
  }
  return out;
}

/** A seeded permutation of 0..n-1 (Fisher–Yates). */
export function shuffledIndices(n: number, rng: RandomStream): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}

/** The rows `idx` of x. */
export function gatherRows(x: Float64Array, dim: number, idx: ArrayLike<number>, from = 0, to = idx.length): Float64Array {
  const out = new Float64Array((to - from) * dim);
  for (let r = from; r < to; r++) out.set(x.subarray(idx[r] * dim, (idx[r] + 1) * dim), (r - from) * dim);
  return out;
}

/**
 * The validation split of a fit: round(fraction · n) rows (at least 1 unless the fraction is 0),
 * chosen by the seed's 'split' stream, so every fit with the same seed holds out the same rows.
 */
export function holdOut(x: Float64Array, n: number, dim: number, fraction: number, seed: string): ReturnType<typeof splitRows> {
  checkParam('validationFraction', fraction, (v) => v >= 0 && v < 1, 'in [0, 1)');
  const nVal = fraction === 0 ? 0 : Math.max(1, Math.round(fraction * n));
  if (n - nVal < 2) throw new ParameterError(`validationFraction ${fraction} leaves ${n - nVal} training rows of ${n}`);
  return splitRows(x, n, dim, nVal, new RandomStream(seed).derive('split'));
}

/** A seeded split: `nValidation` rows for validation, the rest for training. */
export function splitRows(x: Float64Array, n: number, dim: number, nValidation: number, rng: RandomStream): { train: Float64Array; nTrain: number; validation: Float64Array; nValidation: number } {
  const idx = shuffledIndices(n, rng);
  return { train: gatherRows(x, dim, idx, 0, n - nValidation), nTrain: n - nValidation, validation: gatherRows(x, dim, idx, n - nValidation, n), nValidation };
}

/** Per-column mean and sd (n − 1 denominator). */
export function columnMoments(x: Float64Array, n: number, dim: number): { mean: Float64Array; sd: Float64Array } {
  const mean = new Float64Array(dim);
  const sd = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) mean[j] += x[r * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) sd[j] += (x[r * dim + j] - mean[j]) ** 2;
  for (let j = 0; j < dim; j++) sd[j] = Math.sqrt(sd[j] / Math.max(1, n - 1));
  return { mean, sd };
}

/**
 * Sets the data-side (last) affine layer of the flow to the data's mean and sd, then runs the
 * flow's data-dependent initialisation (ActNorm layers). Throws when the flow has no such layer:
 * build it with an output affine layer (every family except `affine: 'none' | 'base'`).
 */
export function standardizeFlow(flow: Flow, x: Float64Array, n: number): { mean: number[]; sd: number[] } {
  const last = flow.bijectors[flow.bijectors.length - 1];
  if (!(last instanceof AffineDiagonal)) {
    throw new ParameterError(
      `standardize: the flow's last (data-side) layer is '${last.type}', not an affine-diagonal or actnorm layer that can hold the data's mean and sd; build the flow with an output affine layer (e.g. createFamilyFlow('maf', dim) or affine: 'output'), or pass standardize: false`,
    );
  }
  const { mean, sd } = columnMoments(x, n, flow.dim);
  const clip = Math.exp(0.99 * last.maxLogScale);
  const scale = Array.from(sd, (s) => Math.min(clip, Math.max(s, 1 / clip)));
  last.setLocScale(mean, scale, (p, v) => flow.store.set(p, v));
  flow.initializeFromData(x.subarray(0, n * flow.dim));
  return { mean: Array.from(mean), sd: scale };
}

/** The parameters of the standardisation layer (the flow's last), which the fits hold fixed. */
export function standardizationParams(flow: Flow): Param[] {
  return flow.bijectors[flow.bijectors.length - 1].params();
}
