/**
 * Rejection sampling for `compare`, where no hand-made envelope exists: a Gaussian proposal
 * q = N(m, diag(s²)) from what the target tells (exact mean and variance, else its plot box,
 * else N(0, 3²)), widened 1.5x, and log M from a pilot of 20 000 proposals plus the target's
 * initial point (the mode for the built-ins), with a margin of log 2. A pilot can miss the
 * worst ratio, so violations are not fatal here: they are counted and reported in the draws'
 * info (envelopeViolations), never hidden. In high dimension the acceptance rate collapses; the
 * proposal budget (maxProposals) turns that into a clear failure instead of a hang.
 */
import type { Draws } from '../core/draws.js';
import type { RandomStream } from '../core/random.js';
import { RandomStream as Stream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import { rejection, type Proposal } from '../samplers/rejection.js';
import type { RunContext } from './samplerRegistry.js';

const PILOT = 20_000;

export function gaussianProposal(target: Target): Proposal {
  const dim = target.dim;
  const m = new Float64Array(dim);
  const s = new Float64Array(dim).fill(3);
  for (let k = 0; k < dim; k++) {
    if (target.mean && target.variance) {
      m[k] = target.mean[k];
      s[k] = Math.sqrt(target.variance[k]);
    } else if (target.plotBounds?.[k]) {
      const [lo, hi] = target.plotBounds[k];
      m[k] = (lo + hi) / 2;
      s[k] = (hi - lo) / 4;
    }
    s[k] *= 1.5;
  }
  let logNorm = 0;
  for (let k = 0; k < dim; k++) logNorm -= Math.log(s[k]) + 0.5 * Math.log(2 * Math.PI);
  return {
    dim,
    logDensity(x) {
      let q = logNorm;
      for (let k = 0; k < dim; k++) q -= 0.5 * ((x[k] - m[k]) / s[k]) ** 2;
      return q;
    },
    sample(rng: RandomStream) {
      const x = new Float64Array(dim);
      for (let k = 0; k < dim; k++) x[k] = m[k] + s[k] * rng.normal();
      return x;
    },
  };
}

export async function runRejection(ctx: RunContext): Promise<Draws> {
  const { target } = ctx;
  const q = gaussianProposal(target);
  const rng = new Stream(ctx.seed).derive('rejection-pilot');
  let logM = -Infinity;
  const consider = (x: Float64Array) => {
    const r = target.logDensity(x) - q.logDensity(x);
    if (Number.isFinite(r) && r > logM) logM = r;
  };
  if (target.initialPoint) consider(target.initialPoint());
  for (let i = 0; i < PILOT; i++) consider(q.sample(rng));
  logM += Math.log(2);
  const warnings: string[] = [];
  const d = await rejection(target, {
    seed: ctx.seed,
    chains: ctx.chains,
    draws: ctx.draws,
    signal: ctx.signal,
    onProgress: ctx.onProgress,
    proposal: q,
    logM,
    onViolation: 'warn',
    onWarning: (w) => warnings.push(w),
    maxProposals: 5e6,
  });
  const pilotEvals = PILOT + (target.initialPoint ? 1 : 0);
  return { ...d, densityEvals: d.densityEvals + pilotEvals, info: { ...d.info, pilotProposals: pilotEvals, ...(warnings.length ? { warning: warnings[0] } : {}) } };
}
