/**
 * Rejection sampling (von Neumann 1951): propose x ~ q, accept with probability
 * p̃(x) / (M q(x)). Exact only if the envelope holds, p̃(x) <= M q(x) everywhere. We cannot prove
 * that, but we check it at every proposal: a proposal with log p̃(x) - log q(x) > log M is an
 * envelope violation. Violations are counted and reported (Draws.info.envelopeViolations,
 * maxLogRatioExcess); by default the first one throws EnvelopeViolationError, with
 * `onViolation: 'warn'` the run finishes and warns once. Never silently biased.
 *
 * Example:
 *   // N(0,1) (unnormalised) under a Laplace(1) envelope: p̃/q <= 2 e^{1/2}.
 *   const laplace = { dim: 1, logDensity: (x) => Math.log(0.5) - Math.abs(x[0]),
 *     sample: (rng) => Float64Array.of((rng.uniform() < 0.5 ? -1 : 1) * rng.exponential()) };
 *   const d = await rejection(gaussian({ dim: 1 }), { seed: 1, proposal: laplace, logM: Math.log(2) + 0.5 });
 */
import { Cooperative } from '../core/cooperative.js';
import { makeDraws, type Draws } from '../core/draws.js';
import { DimensionError, FlowsamplerError, ParameterError, checkParam } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import { emitWarning } from '../core/platform.js';
import type { Target } from '../targets/target.js';
import { checkDrawsMemory, checkTargetContract, commonConfig, withWarnings } from './chains.js';
import type { SamplerOptions } from './sampler.js';
import { log } from '../core/portableMath.js';

/** The envelope p̃(x) <= M q(x) failed at some proposed x. */
export class EnvelopeViolationError extends FlowsamplerError {}

/** A normalised proposal density q that can be sampled. */
export interface Proposal {
  dim: number;
  /** log q(x), normalised. */
  logDensity(x: Float64Array): number;
  /** One draw from q. */
  sample(rng: RandomStream): Float64Array;
}

export interface RejectionOptions extends Omit<SamplerOptions, 'init' | 'warmup'> {
  proposal: Proposal;
  /** log M of the envelope p̃ <= M q. */
  logM: number;
  /** What to do on an envelope violation: 'throw' (default) or 'warn' (count, finish, warn once). */
  onViolation?: 'throw' | 'warn';
  /** Receives the warning text (default: Node's process.emitWarning; console.warn in a browser). */
  onWarning?: (message: string) => void;
  /** Give up after this many proposals in total (default 1e8): a too-large M would run forever. */
  maxProposals?: number;
}

function fmt(x: Float64Array): string {
  return `[${Array.from(x.subarray(0, 6), (v) => Number(v.toPrecision(4))).join(', ')}${x.length > 6 ? ', ...' : ''}]`;
}

export async function rejection(target: Target, options: RejectionOptions): Promise<Draws> {
  checkTargetContract(target, false);
  const cfg = commonConfig({ ...options, warmup: 0 } as SamplerOptions, 0);
  const { proposal } = options;
  if (!proposal || typeof proposal.logDensity !== 'function' || typeof proposal.sample !== 'function') {
    throw new ParameterError('rejection: options.proposal needs logDensity(x) and sample(rng)');
  }
  if (proposal.dim !== target.dim) {
    throw new DimensionError(`dimension mismatch: target ${target.name} has dim ${target.dim}, proposal has dim ${proposal.dim}`);
  }
  const logM = checkParam('logM', options.logM, () => true, 'a finite number');
  const mode = options.onViolation ?? 'throw';
  if (mode !== 'throw' && mode !== 'warn') throw new ParameterError(`onViolation must be 'throw' or 'warn', got '${String(mode)}'`);
  const maxProposals = options.maxProposals ?? 1e8;
  checkParam('maxProposals', maxProposals, (v) => v >= 1, 'a number >= 1');

  const dim = target.dim;
  checkDrawsMemory('rejection', cfg.chains, cfg.draws, dim);
  const values = new Float64Array(cfg.chains * cfg.draws * dim);
  const root = new RandomStream(cfg.seed);
  const total = cfg.chains * cfg.draws;
  let accepted = 0;
  let proposals = 0;
  let violations = 0;
  let maxExcess = -Infinity;
  let nonFinite = 0;
  const report = () => options.onProgress?.({ sampler: 'rejection', done: accepted, total, phase: 'sampling' });
  const coop = new Cooperative(options.signal, options.onProgress ? report : undefined);
  coop.checkAborted();
  const t0 = performance.now();
  for (let c = 0; c < cfg.chains; c++) {
    const rng = root.derive('chain', c);
    for (let i = 0; i < cfg.draws; ) {
      if (proposals >= maxProposals) {
        throw new FlowsamplerError(
          `rejection: ${proposals} proposals gave only ${accepted} of ${total} draws (acceptance ${(accepted / proposals).toExponential(2)}); the envelope constant M is probably far too large`,
        );
      }
      proposals++;
      const x = proposal.sample(rng);
      if (x.length !== dim) throw new DimensionError(`dimension mismatch: proposal.sample returned length ${x.length}, target has dim ${dim}`);
      let lp = target.logDensity(x);
      if (Number.isNaN(lp) || lp === Infinity) {
        nonFinite++;
        lp = -Infinity;
      }
      const lq = proposal.logDensity(x);
      const excess = lp === -Infinity ? -Infinity : lp - lq - logM; // lq = -Inf with lp finite: excess = +Inf
      if (excess > maxExcess) maxExcess = excess;
      if (excess > 0 || Number.isNaN(excess)) {
        violations++;
        if (mode === 'throw') {
          throw new EnvelopeViolationError(
            `rejection: envelope violated at x = ${fmt(x)}: log p̃(x) - log q(x) = ${(lp - lq).toPrecision(4)} > log M = ${logM.toPrecision(4)}; ` +
              `the draws would be biased. Raise logM above ${(lp - lq).toPrecision(4)} (or use onViolation: 'warn' to count violations)`,
          );
        }
      }
      if (log(rng.uniform()) < excess) {
        values.set(x, (c * cfg.draws + i) * dim);
        i++;
        accepted++;
      }
      await coop.tick();
    }
  }
  const wallTimeMs = performance.now() - t0;
  report();
  if (violations > 0) {
    const msg = `rejection: the envelope was violated at ${violations} of ${proposals} proposals (max log p̃ - log q - log M = ${maxExcess.toPrecision(3)}); the draws are biased toward q where p̃ > M q`;
    (options.onWarning ?? emitWarning)(msg);
  }
  return withWarnings(makeDraws({
    sampler: 'rejection',
    target: target.name ?? '',
    chains: cfg.chains,
    draws: cfg.draws,
    dim,
    paramNames: target.paramNames,
    values,
    wallTimeMs,
    densityEvals: proposals,
    gradEvals: 0,
    acceptance: accepted / proposals,
    nonFinite,
    info: { proposals, envelopeViolations: violations, maxLogRatioExcess: maxExcess, logM },
  }));
}
