/**
 * Independence Metropolis–Hastings with a trained flow q as the proposal (Tierney 1994):
 * propose x' ~ q independently of the current x and accept with probability
 * min(1, w(x') / w(x)), w = p̃ / q. The chain is exact for p whatever q is (as long as q covers
 * p), and mixes in one step where q = p; its acceptance rate is a direct measure of fit.
 * Proposals and their log q come from the flow in batches (one parallel pass per batch); the
 * target density is the float64 `logDensity`.
 *
 * Draws cost: wall time of sampling; `trainTimeMs` (passed in) records the flow's training so
 * the sampler sits in the same comparison table as RWM/HMC/NUTS.
 */
import { Cooperative } from '../core/cooperative.js';
import { makeDraws, type Draws } from '../core/draws.js';
import { ParameterError, checkDim, checkPositiveInt } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import type { Flow } from '../flows/flow.js';
import type { SamplerOptions } from './sampler.js';
import { defensiveBaseScale } from './flowImportance.js';
import { log } from '../core/portableMath.js';
import { checkDrawsMemory, withWarnings } from './chains.js';

export interface FlowImhOptions extends SamplerOptions {
  /** Training time of the flow in ms, recorded in the Draws. */
  trainTimeMs?: number;
  /** Target evaluations spent in training, added to `densityEvals` when given (default 0). */
  trainDensityEvals?: number;
  /**
   * Widened proposal: base noise N(0, τ² I) with τ = baseScale. Default 1; 'auto' =
   * `defensiveBaseScale(dim)` (see flowImportance) helps where the flow's tails are too thin
   * (IMH chains then stick at high-weight points).
   */
  baseScale?: number | 'auto';
  /** Proposals drawn from the flow per batch (default 4096). */
  batchSize?: number;
}

export async function flowImh(flow: Flow, target: Target, options: FlowImhOptions): Promise<Draws> {
  if (!options || (typeof options.seed !== 'number' && typeof options.seed !== 'string')) {
    throw new ParameterError('flow IMH needs a seed (a number or a string)');
  }
  checkDim(`target ${target.name}`, flow.dim, target.dim);
  const chains = checkPositiveInt('chains', options.chains ?? 4);
  const draws = checkPositiveInt('draws', options.draws ?? 1000);
  const warmup = options.warmup ?? 100;
  if (!Number.isInteger(warmup) || warmup < 0) throw new ParameterError(`warmup must be a non-negative integer, got ${warmup}`);
  const batchSize = checkPositiveInt('batchSize', options.batchSize ?? 4096);
  const dim = flow.dim;
  const baseScale = options.baseScale === 'auto' ? defensiveBaseScale(dim) : (options.baseScale ?? 1);
  const root = new RandomStream(options.seed);
  const inits: (Float64Array | undefined)[] = Array.from({ length: chains }, (_, c) =>
    options.init === undefined ? undefined : options.init instanceof Float64Array ? options.init : options.init[c],
  );
  if (Array.isArray(options.init) && options.init.length !== chains) {
    throw new ParameterError(`init: ${options.init.length} starting points for ${chains} chains`);
  }
  checkDrawsMemory('flow IMH', chains, draws, dim);
  const coop = new Cooperative(options.signal);
  const values = new Float64Array(chains * draws * dim);
  const total = chains * (warmup + draws);
  let evals = 0;
  let accepted = 0;
  let nonFinite = 0;
  let done = 0;
  const t0 = performance.now();

  for (let c = 0; c < chains; c++) {
    coop.checkAborted();
    const rng = root.derive('chain', c);
    const proposals = rng.derive('proposals');
    let buf: { x: Float64Array; logq: Float64Array } = { x: new Float64Array(0), logq: new Float64Array(0) };
    let pos = 0;
    const next = (): { x: Float64Array; logq: number } => {
      if (pos >= buf.logq.length) {
        coop.checkAborted();
        buf = flow.sampleArrays(batchSize, proposals, batchSize, baseScale);
        pos = 0;
      }
      const i = pos++;
      return { x: buf.x.subarray(i * dim, (i + 1) * dim), logq: buf.logq[i] };
    };
    const logW = (x: Float64Array, logq: number): number => {
      evals++;
      const lp = target.logDensity(x);
      const lw = lp - logq;
      if (Number.isNaN(lw) || lw === Infinity) {
        nonFinite++;
        return -Infinity;
      }
      return lw;
    };
    // Start: the given point (its log q by the flow's inverse) or a flow draw.
    let cur = new Float64Array(dim);
    let curLw: number;
    const init = inits[c];
    if (init) {
      checkDim(`init of chain ${c + 1}`, dim, init.length);
      cur.set(init);
      curLw = logW(cur, flow.logProbArrays(cur, 1, baseScale)[0]);
    } else {
      const p = next();
      cur.set(p.x);
      curLw = logW(cur, p.logq);
    }
    for (let it = 0; it < warmup + draws; it++) {
      const p = next();
      const lw = logW(p.x, p.logq);
      // Accept with probability min(1, exp(lw − curLw)); a state of zero weight (only possible
      // from a bad `init`) is always left. lw = −Infinity is never accepted otherwise.
      if (curLw === -Infinity || log(rng.uniform()) < lw - curLw) {
        cur = Float64Array.from(p.x);
        curLw = lw;
        if (it >= warmup) accepted++;
      }
      if (it >= warmup) values.set(cur, (c * draws + (it - warmup)) * dim);
      done++;
      if (done % 500 === 0) options.onProgress?.({ sampler: 'flow-imh', done, total, phase: it < warmup ? 'warmup' : 'sampling' });
      await coop.tick();
    }
  }
  options.onProgress?.({ sampler: 'flow-imh', done, total, phase: 'sampling' });
  return withWarnings(makeDraws({
    sampler: 'flow-imh',
    target: target.name,
    chains,
    draws,
    dim,
    paramNames: target.paramNames,
    values,
    wallTimeMs: performance.now() - t0,
    trainTimeMs: options.trainTimeMs ?? 0,
    densityEvals: evals + (options.trainDensityEvals ?? 0),
    gradEvals: 0,
    acceptance: accepted / (chains * draws),
    nonFinite,
    info: { batchSize, warmup, baseScale, ...(nonFinite > 0 ? { invalidDensities: nonFinite } : {}) },
  }));
}
