/**
 * The No-U-Turn Sampler, multinomial variant as in Stan: the trajectory doubles forwards or
 * backwards at random; the draw is chosen among all its points with weights exp(-H) (uniform
 * progressive sampling inside a new subtree, biased toward the new subtree at the top level);
 * doubling stops at the generalized U-turn criterion, checked on every subtree and across the
 * seams between subtrees, at a divergence (energy error > maxEnergyError, default 1000), or at
 * the maximum tree depth (default 10; hits are counted).
 *
 * Hoffman & Gelman (2014), "The No-U-Turn Sampler", JMLR 15 (tree building, dual averaging);
 * Betancourt (2017), "A Conceptual Introduction to Hamiltonian Monte Carlo", arXiv:1701.02434
 * (multinomial sampling, generalized criterion). Warm-up, step size and metric come from
 * hmc.ts (`hamiltonianChain`) and hmcCore.ts: NUTS only supplies its transition.
 *
 * Example:
 *   const draws = await nuts(banana({ dim: 2 }), { seed: 1, chains: 4, draws: 1000 });
 */
import { exp, log } from '../core/portableMath.js';
import type { Draws } from '../core/draws.js';
import { checkParam } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import { runChains, type ChainSpec, type CountedTarget } from './chains.js';
import { applyWarmStart, chargeWarmStart, checkHamiltonianOptions, hamiltonianChain, type HamiltonianOptions, type HmcState } from './hmc.js';
import { copyPoint, copyState, hamiltonian, leapfrog, newPoint, startTrajectory, type PhasePoint } from './hmcCore.js';
import { asMetric, type Metric } from './metric.js';

export interface NutsOptions extends HamiltonianOptions {
  /** Maximum tree depth: at most 2^maxTreeDepth leapfrog steps per transition (default 10). */
  maxTreeDepth?: number;
}

export type NutsState = HmcState;

export interface NutsInfo {
  /** Mean Metropolis acceptance probability over the trajectory (what dual averaging uses). */
  acceptStat: number;
  divergent: boolean;
  treeDepth: number;
  /** The tree reached maxTreeDepth without a U-turn. */
  hitMaxDepth: boolean;
  numSteps: number;
  /** Hamiltonian at the start of the transition. */
  energy: number;
}

export interface NutsParams {
  stepSize: number;
  /** The metric, or a diagonal inverse metric as a plain vector. */
  invMetric: Metric | Float64Array;
  maxTreeDepth: number;
  maxEnergyError: number;
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + log(exp(a - m) + exp(b - m));
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Generalized U-turn criterion: both end velocities still point along the summed momentum ρ. */
function noUTurn(pSharpMinus: Float64Array, pSharpPlus: Float64Array, rho: Float64Array): boolean {
  return dot(pSharpPlus, rho) > 0 && dot(pSharpMinus, rho) > 0;
}

/** noUTurn with ρ = a + b, in one pass and without writing ρ (the seam checks). */
function noUTurnSum(pSharpMinus: Float64Array, pSharpPlus: Float64Array, a: Float64Array, b: Float64Array): boolean {
  let sPlus = 0;
  let sMinus = 0;
  for (let i = 0; i < a.length; i++) {
    const r = a[i] + b[i];
    sPlus += pSharpPlus[i] * r;
    sMinus += pSharpMinus[i] * r;
  }
  return sPlus > 0 && sMinus > 0;
}

function addInto(out: Float64Array, a: Float64Array, b: Float64Array): Float64Array {
  for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
  return out;
}

/**
 * A subtree's outputs. `pBeg`/`pEnd` (and their velocities) are the momenta at the end nearest
 * to / farthest from the starting point in the direction of integration; `rho` and `logSumWeight`
 * accumulate. Arrays may alias the parent's, exactly where the parent shares an end.
 */
interface Subtree {
  propose: PhasePoint;
  pSharpBeg: Float64Array;
  pSharpEnd: Float64Array;
  pBeg: Float64Array;
  pEnd: Float64Array;
  rho: Float64Array;
  logSumWeight: number;
}

/** Scratch for the subtrees built at one depth (reused: siblings at a depth run one after another). */
interface Level {
  init: Subtree;
  final: Subtree;
  rhoSubtree: Float64Array;
}

/**
 * Preallocated arrays for one chain, so a transition allocates only the state it returns.
 * (Allocating per tree node made NUTS ~5x slower than the gradient itself on a 10-D Gaussian.)
 */
export class NutsWorkspace {
  readonly levels: Level[] = [];
  readonly z0: PhasePoint;
  readonly zFwd: PhasePoint;
  readonly zBck: PhasePoint;
  readonly sample: PhasePoint;
  readonly propose: PhasePoint;
  readonly v: Float64Array[];

  constructor(readonly dim: number, readonly maxTreeDepth: number) {
    const a = () => new Float64Array(dim);
    const sub = (): Subtree => ({ propose: newPoint(dim), pSharpBeg: a(), pSharpEnd: a(), pBeg: a(), pEnd: a(), rho: a(), logSumWeight: -Infinity });
    for (let k = 0; k <= maxTreeDepth; k++) this.levels.push({ init: sub(), final: sub(), rhoSubtree: a() });
    this.z0 = newPoint(dim);
    this.zFwd = newPoint(dim);
    this.zBck = newPoint(dim);
    this.sample = newPoint(dim);
    this.propose = newPoint(dim);
    // pFwdFwd, pSharpFwdFwd, pFwdBck, pSharpFwdBck, pBckFwd, pSharpBckFwd, pBckBck, pSharpBckBck,
    // rho, rhoFwd, rhoBck
    this.v = Array.from({ length: 11 }, a);
  }
}

/** Per-transition context of the tree builder. */
interface TreeContext {
  target: CountedTarget;
  rng: RandomStream;
  metric: Metric;
  eps: number;
  h0: number;
  maxEnergyError: number;
  numSteps: number;
  sumMetroProb: number;
  divergent: boolean;
  ws: NutsWorkspace;
}

/** Builds a subtree of 2^depth leapfrog steps from `z` (moved in place). Returns false to stop. */
function buildTree(ctx: TreeContext, depth: number, z: PhasePoint, sign: 1 | -1, t: Subtree): boolean {
  const dim = z.q.length;
  if (depth === 0) {
    const ok = leapfrog(ctx.target, z, sign * ctx.eps, ctx.metric);
    ctx.numSteps++;
    const h = ok ? hamiltonian(z) : Infinity;
    if (h - ctx.h0 > ctx.maxEnergyError) ctx.divergent = true;
    t.logSumWeight = logAddExp(t.logSumWeight, ctx.h0 - h);
    ctx.sumMetroProb += ctx.h0 - h > 0 ? 1 : exp(ctx.h0 - h);
    copyState(z, t.propose);
    const { p, v } = z;
    const { pSharpBeg, pSharpEnd, pBeg, pEnd, rho } = t;
    for (let i = 0; i < dim; i++) {
      const pi = p[i];
      const vi = v[i];
      rho[i] += pi;
      pBeg[i] = pi;
      pEnd[i] = pi;
      pSharpBeg[i] = vi;
      pSharpEnd[i] = vi;
    }
    return !ctx.divergent;
  }
  const lv = ctx.ws.levels[depth];
  // First half: shares the beginning (and the proposal slot) with t.
  const init = lv.init;
  init.propose = t.propose;
  init.pSharpBeg = t.pSharpBeg;
  init.pBeg = t.pBeg;
  init.rho.fill(0);
  init.logSumWeight = -Infinity;
  if (!buildTree(ctx, depth - 1, z, sign, init)) return false;
  // Second half: shares the end with t.
  const final = lv.final;
  final.pSharpEnd = t.pSharpEnd;
  final.pEnd = t.pEnd;
  final.rho.fill(0);
  final.logSumWeight = -Infinity;
  if (!buildTree(ctx, depth - 1, z, sign, final)) return false;

  // Uniform progressive multinomial sampling between the two halves.
  const lswSubtree = logAddExp(init.logSumWeight, final.logSumWeight);
  t.logSumWeight = logAddExp(t.logSumWeight, lswSubtree);
  if (final.logSumWeight > lswSubtree || ctx.rng.uniform() < exp(final.logSumWeight - lswSubtree)) {
    copyState(final.propose, t.propose);
  }
  const rhoSubtree = lv.rhoSubtree;
  const tRho = t.rho;
  const a = init.rho;
  const b = final.rho;
  for (let i = 0; i < dim; i++) {
    const r = a[i] + b[i];
    rhoSubtree[i] = r;
    tRho[i] += r;
  }
  // U-turn across the whole subtree, then across the seam between its halves.
  return (
    noUTurn(t.pSharpBeg, t.pSharpEnd, rhoSubtree) &&
    noUTurnSum(t.pSharpBeg, final.pSharpBeg, init.rho, final.pBeg) &&
    noUTurnSum(init.pSharpEnd, t.pSharpEnd, final.rho, init.pEnd)
  );
}

/**
 * One NUTS transition from `state`. Pass a NutsWorkspace (one per chain) to avoid allocating
 * scratch each call; its contents are overwritten.
 */
export function nutsStep(
  rng: RandomStream,
  target: CountedTarget,
  state: NutsState,
  params: NutsParams,
  ws: NutsWorkspace = new NutsWorkspace(state.position.length, params.maxTreeDepth),
): [NutsState, NutsInfo] {
  const { maxTreeDepth } = params;
  const metric = asMetric(params.invMetric);
  const dim = state.position.length;
  if (ws.dim !== dim || ws.maxTreeDepth < maxTreeDepth) ws = new NutsWorkspace(dim, maxTreeDepth);
  const z0 = ws.z0;
  z0.q.set(state.position);
  z0.grad.set(state.grad);
  z0.logp = state.logDensity;
  startTrajectory(rng, metric, z0);
  const h0 = hamiltonian(z0);
  const ctx: TreeContext = {
    target,
    rng,
    metric,
    eps: params.stepSize,
    h0,
    maxEnergyError: params.maxEnergyError,
    numSteps: 0,
    sumMetroProb: 0,
    divergent: false,
    ws,
  };
  const zFwd = copyPoint(z0, ws.zFwd);
  const zBck = copyPoint(z0, ws.zBck);
  const propose = ws.propose;
  let moved = false;
  // Momenta and velocities at the four ends of the two parts (bck = backward part, fwd =
  // forward part) of the current trajectory.
  const [pFwdFwd, pSharpFwdFwd, pFwdBck, pSharpFwdBck, pBckFwd, pSharpBckFwd, pBckBck, pSharpBckBck, rho, rhoFwd, rhoBck] = ws.v;
  pSharpFwdFwd.set(z0.v);
  for (const a of [pSharpFwdBck, pSharpBckFwd, pSharpBckBck]) a.set(pSharpFwdFwd);
  for (const a of [pFwdFwd, pFwdBck, pBckFwd, pBckBck, rho]) a.set(z0.p);
  let logSumWeight = 0;
  let depth = 0;
  const t: Subtree = { propose, pSharpBeg: pSharpFwdBck, pSharpEnd: pSharpFwdFwd, pBeg: pFwdBck, pEnd: pFwdFwd, rho: rhoFwd, logSumWeight: -Infinity };
  while (depth < maxTreeDepth) {
    rhoFwd.fill(0);
    rhoBck.fill(0);
    t.logSumWeight = -Infinity;
    let valid: boolean;
    if (rng.uniform() > 0.5) {
      // Extend forward: the old trajectory becomes the backward part.
      rhoBck.set(rho);
      pBckFwd.set(pFwdFwd);
      pSharpBckFwd.set(pSharpFwdFwd);
      t.pSharpBeg = pSharpFwdBck;
      t.pSharpEnd = pSharpFwdFwd;
      t.pBeg = pFwdBck;
      t.pEnd = pFwdFwd;
      t.rho = rhoFwd;
      valid = buildTree(ctx, depth, zFwd, 1, t);
    } else {
      // Extend backward: the old trajectory becomes the forward part.
      rhoFwd.set(rho);
      pFwdBck.set(pBckBck);
      pSharpFwdBck.set(pSharpBckBck);
      t.pSharpBeg = pSharpBckFwd;
      t.pSharpEnd = pSharpBckBck;
      t.pBeg = pBckFwd;
      t.pEnd = pBckBck;
      t.rho = rhoBck;
      valid = buildTree(ctx, depth, zBck, -1, t);
    }
    if (!valid) break;
    depth++;
    // Biased progressive sampling: favour the new subtree (Betancourt 2017, appendix A.3.2).
    if (t.logSumWeight > logSumWeight || rng.uniform() < exp(t.logSumWeight - logSumWeight)) {
      copyState(propose, ws.sample);
      moved = true;
    }
    logSumWeight = logAddExp(logSumWeight, t.logSumWeight);
    addInto(rho, rhoBck, rhoFwd);
    const persist =
      noUTurn(pSharpBckBck, pSharpFwdFwd, rho) &&
      noUTurnSum(pSharpBckBck, pSharpFwdBck, rhoBck, pFwdBck) &&
      noUTurnSum(pSharpBckFwd, pSharpFwdFwd, rhoFwd, pBckFwd);
    if (!persist) break;
  }
  const info: NutsInfo = {
    acceptStat: ctx.numSteps > 0 ? ctx.sumMetroProb / ctx.numSteps : 0,
    divergent: ctx.divergent,
    treeDepth: depth,
    hitMaxDepth: depth >= maxTreeDepth,
    numSteps: ctx.numSteps,
    energy: h0,
  };
  if (!moved) return [state, info];
  const s = ws.sample;
  return [{ position: s.q.slice(), logDensity: s.logp, grad: s.grad.slice() }, info];
}

/** The chains of nuts as a ChainSpec, for running them here (`nuts`) or spread over threads. */
export function nutsChainSpec(target: Target, options: NutsOptions): ChainSpec {
  const maxTreeDepth = options?.maxTreeDepth ?? 10;
  checkParam('maxTreeDepth', maxTreeDepth, (v) => Number.isInteger(v) && v >= 1 && v <= 30, 'an integer in [1, 30]');
  if (options && target && Number.isInteger(target.dim)) checkHamiltonianOptions(options, target.dim);
  const maxEnergyError = options?.maxEnergyError ?? 1000;
  return {
    sampler: 'nuts',
    needsGradient: true,
    makeChain(_c, rng, x0, counted, config) {
      const ws = new NutsWorkspace(x0.length, maxTreeDepth);
      let hits = 0;
      let depthSum = 0;
      let stepsSum = 0;
      let n = 0;
      const chain = hamiltonianChain(
        rng,
        x0,
        counted,
        config,
        options,
        (r, s, eps, inv) => nutsStep(r, counted, s, { stepSize: eps, invMetric: inv, maxTreeDepth, maxEnergyError }, ws),
        (info, warm) => {
          if (warm) return;
          if (info.hitMaxDepth) hits++;
          depthSum += info.treeDepth;
          stepsSum += info.numSteps;
          n++;
        },
      );
      return {
        ...chain,
        summary: () => ({ stepSize: chain.stepSize(), meanTreeDepth: n ? depthSum / n : 0, meanSteps: n ? stepsSum / n : 0 }),
        counts: () => ({ maxTreeDepthHits: hits }),
      };
    },
  };
}

/** NUTS with Stan's warm-up. Info: stepSize, meanTreeDepth, meanSteps; counts: maxTreeDepthHits. */
export async function nuts(target: Target, nutsOptions: NutsOptions): Promise<Draws> {
  const options = applyWarmStart(nutsOptions, target);
  const draws = await runChains(target, options, nutsChainSpec(target, options));
  return chargeWarmStart(draws, options.warmStart);
}
