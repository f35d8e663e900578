/**
 * Accuracy against ground truth, where the target offers it:
 * - KL(p || q̂) between exact target draws and the sampler's draws by the k-nearest-neighbour
 *   estimator (Wang, Kulkarni & Verdú 2009), at equal sample sizes for every sampler so that
 *   its small-sample bias is the same for all of them;
 * - PSIS k-hat of the importance weights (Vehtari et al. 2024) for importance samplers.
 */
import type { Draws } from '../core/draws.js';
import { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import { knnKL, psis } from '../diagnostics/index.js';
import { thinIndices } from './figure.js';

/** Draws per side for the KL estimate: equal for every sampler. */
export const KL_SAMPLE_SIZE = 2000;

export interface GroundTruth {
  kl: number | null;
  khat: number | null;
}

export function groundTruthMetrics(target: Target, d: Draws, opts: { seed: number | string; importance: boolean }): GroundTruth {
  let kl: number | null = null;
  if (target.sampleExact) {
    const total = d.chains * d.draws;
    const idx = thinIndices(total, KL_SAMPLE_SIZE);
    const m = idx.length;
    const q = new Float64Array(m * d.dim);
    idx.forEach((r, k) => q.set(d.values.subarray(r * d.dim, (r + 1) * d.dim), k * d.dim));
    // The same exact draws for every sampler of a run (derived from the seed, not the sampler).
    const p = target.sampleExact(m, new RandomStream(opts.seed).derive('ground-truth'));
    if (m >= 10) {
      const est = knnKL(p, q, d.dim).kl;
      kl = Number.isFinite(est) ? est : null;
    }
  }
  let khat: number | null = null;
  if (opts.importance) {
    // Raw weights when the draws carry them; else the k-hat the sampler computed before resampling.
    const k = d.logWeights && d.logWeights.length >= 2 ? psis(d.logWeights).paretoK : typeof d.info?.paretoK === 'number' ? d.info.paretoK : NaN;
    khat = Number.isFinite(k) ? k : null;
  }
  return { kl, khat };
}
