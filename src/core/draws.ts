/**
 * Draws: the common currency of every sampler. Values are `chains x draws x dim` in one
 * chain-major Float64Array: the d-th coordinate of draw i of chain c sits at
 * `(c * draws + i) * dim + d`. Cost accounting travels with the values so that diagnostics and
 * reports can put ESS per second and ESS per density evaluation side by side.
 */
import { DimensionError, NonFiniteError, ParameterError } from './errors.js';
import type { Warning } from './warnings.js';

export interface Draws {
  /** Who made the draws, e.g. 'nuts', 'iaf-imh', 'stan'. */
  sampler: string;
  /** Target name, when known. */
  target: string;
  chains: number;
  draws: number;
  dim: number;
  /** Parameter names, length `dim` (x1, x2, ... by default). */
  paramNames: string[];
  /** chain-major values, length chains * draws * dim. */
  values: Float64Array;
  /** Wall time of sampling in milliseconds (warm-up included, training excluded). */
  wallTimeMs: number;
  /** Wall time spent training a flow before sampling (0 for classical samplers). */
  trainTimeMs: number;
  /** Target log-density evaluations, all chains, warm-up included. */
  densityEvals: number;
  /** Target gradient evaluations, all chains, warm-up included. */
  gradEvals: number;
  /** Mean acceptance rate over post-warm-up transitions (1 for exact samplers). */
  acceptance: number;
  /** NaN/±Inf log densities met and treated as zero density (rejected). */
  nonFinite: number;
  /** For importance samplers: the log weights of the draws (length chains * draws). */
  logWeights?: Float64Array;
  /** HMC/NUTS: divergent transitions after warm-up. */
  divergences?: number;
  /** Anything else a sampler wants to report (step size, tree depth, envelope violations). */
  info?: Record<string, number | string | boolean>;
  /**
   * What may be wrong with these draws (divergences, R-hat, low ESS, k-hat, non-finite
   * densities; src/diagnostics/drawsWarnings.ts). Empty when nothing was found.
   */
  warnings: Warning[];
}

export function defaultParamNames(dim: number): string[] {
  return Array.from({ length: dim }, (_, i) => `x${i + 1}`);
}

/** Builds a Draws record, checking the array length and that every value is finite. */
export function makeDraws(
  fields: Omit<Draws, 'paramNames' | 'trainTimeMs' | 'nonFinite' | 'target' | 'warnings'> &
    Partial<Pick<Draws, 'paramNames' | 'trainTimeMs' | 'nonFinite' | 'target' | 'warnings'>>,
): Draws {
  const { chains, draws, dim, values } = fields;
  if (values.length !== chains * draws * dim) {
    throw new DimensionError(
      `draws: expected ${chains} chains x ${draws} draws x ${dim} dims = ${chains * draws * dim} values, got ${values.length}`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new NonFiniteError(`draws from ${fields.sampler} contain a non-finite value at index ${i}`);
    }
  }
  const paramNames = fields.paramNames ?? defaultParamNames(dim);
  if (paramNames.length !== dim) {
    throw new ParameterError(`draws: ${paramNames.length} parameter names for dim ${dim}`);
  }
  return {
    target: '',
    trainTimeMs: 0,
    nonFinite: 0,
    ...fields,
    paramNames,
    warnings: fields.warnings ? fields.warnings.slice() : [],
  };
}

/**
 * One parameter as an iterations x chains view for diagnostics: returns `chains` arrays,
 * each of length `draws`.
 */
export function parameterChains(d: Draws, param: number): Float64Array[] {
  if (param < 0 || param >= d.dim) {
    throw new DimensionError(`parameter index ${param} out of range for dim ${d.dim}`);
  }
  const out: Float64Array[] = [];
  for (let c = 0; c < d.chains; c++) {
    const a = new Float64Array(d.draws);
    const base = c * d.draws * d.dim + param;
    for (let i = 0; i < d.draws; i++) a[i] = d.values[base + i * d.dim];
    out.push(a);
  }
  return out;
}

/** The draw `i` of chain `c` as a fresh vector. */
export function drawAt(d: Draws, c: number, i: number): Float64Array {
  const off = (c * d.draws + i) * d.dim;
  return d.values.slice(off, off + d.dim);
}
