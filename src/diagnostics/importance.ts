/**
 * Importance-sampling summaries from log weights, all in log-sum-exp form so that weights
 * spanning hundreds of orders of magnitude neither overflow nor vanish.
 */
import { NonFiniteError, ParameterError } from '../core/errors.js';
import { logSumExp } from '../core/linalg.js';

function checkLogWeights(what: string, lw: Float64Array, min = 1): void {
  if (lw.length < min) throw new ParameterError(`${what}: need at least ${min} log weights, got ${lw.length}`);
  let max = -Infinity;
  for (let i = 0; i < lw.length; i++) {
    const v = lw[i];
    if (Number.isNaN(v) || v === Infinity) {
      throw new NonFiniteError(`${what}: log weight ${i + 1} is ${v}; log weights must be finite or -Infinity`);
    }
    if (v > max) max = v;
  }
  if (max === -Infinity) throw new NonFiniteError(`${what}: every log weight is -Infinity (all weights zero)`);
}

/** Kish's effective sample size (Σw)² / Σw² (Kish 1965), between 1 and S. */
export function kishEss(logWeights: Float64Array): number {
  checkLogWeights('kishEss', logWeights);
  const twice = logWeights.map((v) => 2 * v);
  return Math.exp(2 * logSumExp(logWeights) - logSumExp(twice));
}

/**
 * log Z from importance log weights log p̃(x) - log q(x), x ~ q: log Ẑ = logSumExp(lw) - log S,
 * unbiased for Z (not for log Z). `se` is the delta-method standard error of log Ẑ,
 * sd(w) / (sqrt(S) mean(w)), computed on weights scaled by their maximum. Meaningful only when
 * the weights' variance is finite (PSIS k-hat < 0.5).
 */
export function logZEstimate(logWeights: Float64Array): { logZ: number; se: number } {
  checkLogWeights('logZEstimate', logWeights, 2);
  const s = logWeights.length;
  let max = -Infinity;
  for (const v of logWeights) if (v > max) max = v;
  let sum = 0;
  for (const v of logWeights) sum += Math.exp(v - max);
  const m = sum / s;
  let ss = 0;
  for (const v of logWeights) {
    const d = Math.exp(v - max) - m;
    ss += d * d;
  }
  const sdW = Math.sqrt(ss / (s - 1));
  return { logZ: max + Math.log(m), se: sdW / (Math.sqrt(s) * m) };
}
