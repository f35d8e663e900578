/**
 * What every MCMC sampler shares: option validation, starting points, a counting wrapper around
 * the target (evaluations, non-finite values), running C chains one after another with
 * cooperative yielding and progress, and assembling the Draws.
 *
 * A sampler file supplies only a `ChainRunner` factory: given a chain's random stream and start,
 * it returns an object whose `transition(iter)` moves the chain one step (adapting while
 * `iter < warmup`). Each chain has its own derived stream (`root.derive('chain', c)`), start and
 * counted target, so adding a chain never changes the others' numbers, and chains can run on
 * other threads (`runChainSubset` + `assembleChains`, used by src/study's worker pool) with the
 * same numbers as `runChains` on one thread.
 */
import { Cooperative } from '../core/cooperative.js';
import { makeDraws, type Draws } from '../core/draws.js';
import { DimensionError, NonFiniteError, ParameterError, checkParam } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import type { SamplerOptions } from './sampler.js';
import { assertTarget } from '../targets/checkTarget.js';
import { drawsWarnings } from '../diagnostics/drawsWarnings.js';
import { checkArray, FLOAT64_BYTES } from '../core/memory.js';

/** Validated common options. */
export interface CommonConfig {
  seed: number | string;
  chains: number;
  draws: number;
  warmup: number;
}

/**
 * Checks the options every sampler shares and fills in defaults.
 * Throws ParameterError for chains < 1, draws < 1, negative warm-up, a missing seed.
 */
export function commonConfig(options: SamplerOptions, defaultWarmup = 1000): CommonConfig {
  if (options === undefined || options === null || typeof options !== 'object') {
    throw new ParameterError('sampler options are required (at least { seed })');
  }
  const seed = options.seed;
  if (seed === undefined || seed === null || (typeof seed !== 'number' && typeof seed !== 'string')) {
    throw new ParameterError('sampler option seed is required (a number or a string)');
  }
  const chains = options.chains ?? 4;
  const draws = options.draws ?? 1000;
  const warmup = options.warmup ?? defaultWarmup;
  checkParam('chains', chains, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
  checkParam('draws', draws, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
  checkParam('warmup', warmup, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0');
  return { seed, chains, draws, warmup };
}

/** Checks that `target` looks like a Target (dim and a log density). */
export function checkTargetContract(target: Target, needsGradient: boolean): void {
  if (!target || typeof target.logDensity !== 'function') {
    throw new ParameterError('target must implement logDensity(x)');
  }
  if (!Number.isInteger(target.dim) || target.dim < 1) {
    throw new ParameterError(`target ${target.name ?? '?'} has invalid dim ${String(target.dim)}`);
  }
  if (needsGradient && typeof target.gradLogDensity !== 'function') {
    throw new ParameterError(`target ${target.name ?? '?'} has no gradLogDensity, which this sampler needs`);
  }
}

/** One multiply-add per entry: 0·x is NaN exactly when x is ±Infinity or NaN. */
function allFinite(x: Float64Array): boolean {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += 0 * x[i];
  return s === 0;
}

/**
 * The target seen through a counter: every call is counted, and NaN or ±Infinity results
 * (or a non-finite gradient) come back as -Infinity, i.e. zero density, so the caller rejects
 * the point. Those events are counted in `nonFinite`, as are proposals with a non-finite
 * coordinate (the target is not called on them). A fused gradient call counts as one
 * density and one gradient evaluation.
 */
export class CountedTarget {
  densityEvals = 0;
  gradEvals = 0;
  nonFinite = 0;
  /** Of those, NaN or +Infinity values (or a non-finite gradient at a finite value): target bugs, not support edges. */
  invalid = 0;
  readonly dim: number;

  constructor(readonly target: Target) {
    this.dim = target.dim;
  }

  logDensity(x: Float64Array): number {
    this.densityEvals++;
    if (!allFinite(x)) {
      this.nonFinite++;
      return -Infinity;
    }
    const v = this.target.logDensity(x);
    if (Number.isFinite(v)) return v;
    this.nonFinite++;
    if (v !== -Infinity) this.invalid++;
    return -Infinity;
  }

  /** Writes the gradient into `out` and returns log p̃; -Infinity (gradient zeroed) if anything is non-finite. */
  gradLogDensity(x: Float64Array, out: Float64Array): number {
    this.densityEvals++;
    this.gradEvals++;
    if (!allFinite(x)) {
      this.nonFinite++;
      out.fill(0);
      return -Infinity;
    }
    const v = this.target.gradLogDensity(x, out);
    if (Number.isFinite(v) && allFinite(out)) return v;
    this.nonFinite++;
    if (v !== -Infinity) this.invalid++;
    out.fill(0);
    return -Infinity;
  }
}

function formatPoint(x: Float64Array): string {
  const shown = Array.from(x.subarray(0, 6), (v) => Number(v.toPrecision(4)));
  return `[${shown.join(', ')}${x.length > 6 ? ', ...' : ''}]`;
}

/**
 * Checks the log density (and gradient) at a chain's starting point, before any counting.
 * Throws NonFiniteError naming the chain and the point.
 */
export function checkInitialPoint(target: Target, x: Float64Array, chain: number, needsGradient: boolean): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new NonFiniteError(`chain ${chain}: initial point ${formatPoint(x)} has a non-finite coordinate ${i + 1}`);
    }
  }
  if (needsGradient) {
    const g = new Float64Array(x.length);
    const v = target.gradLogDensity(x, g);
    if (!Number.isFinite(v)) {
      throw new NonFiniteError(
        `chain ${chain}: log density of ${target.name} is ${v} at the initial point ${formatPoint(x)}; start inside the support`,
      );
    }
    const bad = g.findIndex((gi) => !Number.isFinite(gi));
    if (bad >= 0) {
      throw new NonFiniteError(
        `chain ${chain}: gradient of ${target.name} is non-finite (component ${bad + 1} = ${g[bad]}) at the initial point ${formatPoint(x)}`,
      );
    }
  } else {
    const v = target.logDensity(x);
    if (!Number.isFinite(v)) {
      throw new NonFiniteError(
        `chain ${chain}: log density of ${target.name} is ${v} at the initial point ${formatPoint(x)}; start inside the support`,
      );
    }
  }
}

/**
 * Starting points, one per chain. With `init`, they are used as given (one vector for all chains
 * or one per chain; DimensionError on a wrong length or count). Without, chains start at
 * `target.initialPoint()` (or zeros) jittered by uniform(-0.5, 0.5) per coordinate, drawn from the
 * chain's stream label 'init'; if the jittered point has a non-finite density the un-jittered one
 * is used. Every start is checked with checkInitialPoint.
 */
export function initialPoints(
  target: Target,
  init: SamplerOptions['init'],
  chains: number,
  root: RandomStream,
  needsGradient: boolean,
): Float64Array[] {
  const dim = target.dim;
  const out: Float64Array[] = [];
  if (init !== undefined) {
    let list: Float64Array[];
    if (init instanceof Float64Array) list = Array.from({ length: chains }, () => init);
    else if (Array.isArray(init)) {
      if (init.length !== chains) {
        throw new DimensionError(`init: got ${init.length} starting points for ${chains} chains (give one per chain, or one for all)`);
      }
      list = init;
    } else throw new ParameterError('init must be a Float64Array or an array of Float64Arrays');
    list.forEach((x, c) => {
      if (!(x instanceof Float64Array) && !Array.isArray(x)) {
        throw new ParameterError(`init for chain ${c} must be a Float64Array`);
      }
      if (x.length !== dim) {
        throw new DimensionError(`dimension mismatch: target ${target.name} has dim ${dim}, got init of length ${x.length} for chain ${c}`);
      }
      const copy = Float64Array.from(x);
      checkInitialPoint(target, copy, c, needsGradient);
      out.push(copy);
    });
    return out;
  }
  const base = target.initialPoint ? target.initialPoint() : new Float64Array(dim);
  if (base.length !== dim) {
    throw new DimensionError(`dimension mismatch: target ${target.name} has dim ${dim}, its initialPoint() has length ${base.length}`);
  }
  for (let c = 0; c < chains; c++) {
    const rng = root.derive('chain', c, 'init');
    const x = Float64Array.from(base, (v) => v + rng.uniform() - 0.5);
    const ok = Number.isFinite(needsGradient ? target.gradLogDensity(x, new Float64Array(dim)) : target.logDensity(x));
    const start = ok ? x : Float64Array.from(base);
    checkInitialPoint(target, start, c, needsGradient);
    out.push(start);
  }
  return out;
}

/** One chain's kernel, as seen by the driver. */
export interface ChainRunner {
  /** One transition; `iter` counts from 0 and the chain adapts while `iter < warmup`. */
  transition(iter: number): void;
  /** The current position (the driver copies it). */
  position(): Float64Array;
  /** Acceptance statistic of the last transition (0/1 or a probability). */
  acceptStat(): number;
  /** Whether the last transition diverged (HMC/NUTS). */
  divergent?(): boolean;
  /** Per-chain numbers to average into Draws.info after the run (e.g. final step size). */
  summary?(): Record<string, number>;
  /** Per-chain counts to add up into Draws.info after the run (e.g. tree-depth hits). */
  counts?(): Record<string, number>;
}

export interface ChainSpec {
  sampler: string;
  needsGradient: boolean;
  defaultWarmup?: number;
  /** Builds chain `c`'s runner from its stream, start, the counted target and the config. */
  makeChain(c: number, rng: RandomStream, x0: Float64Array, target: CountedTarget, config: CommonConfig): ChainRunner;
}

/** What one chain leaves behind: its draws, its costs and the numbers Draws aggregates. */
export interface ChainOutput {
  chain: number;
  /** Post-warm-up positions, draws x dim. */
  values: Float64Array;
  /** Sum of the acceptance statistic over the post-warm-up transitions. */
  acceptSum: number;
  /** Divergent transitions after warm-up. */
  divergences: number;
  densityEvals: number;
  gradEvals: number;
  nonFinite: number;
  /** NaN or +Infinity log densities (never −Infinity, which is outside the support). */
  invalid: number;
  /** Evaluations up to the end of warm-up (initial search included). */
  warmupGradEvals: number;
  warmupDensityEvals: number;
  summary?: Record<string, number>;
  counts?: Record<string, number>;
  wallTimeMs: number;
}

/**
 * Runs the chains `chainIds` (a subset of 0..chains-1) of a sampler, one after another. Each
 * chain depends only on its own derived stream and start, so the chains of one run can be
 * spread over threads or machines and put together by `assembleChains` into the same Draws,
 * number for number, as `runChains`.
 */
export async function runChainSubset(target: Target, options: SamplerOptions, spec: ChainSpec, chainIds: number[]): Promise<ChainOutput[]> {
  checkTargetContract(target, spec.needsGradient);
  const config = commonConfig(options, spec.defaultWarmup ?? 1000);
  const { chains, draws, warmup } = config;
  for (const c of chainIds) {
    if (!Number.isInteger(c) || c < 0 || c >= chains) throw new ParameterError(`chain index ${c} is outside 0..${chains - 1}`);
  }
  const dim = target.dim;
  checkDrawsMemory(spec.sampler, chainIds.length, draws, dim);
  const root = new RandomStream(config.seed);
  const starts = initialPoints(target, options.init, chains, root, spec.needsGradient);
  // A wrong gradient makes a gradient sampler look healthy and sample the wrong thing: check it
  // against finite differences at the first chains' starting points before anything runs.
  if (spec.needsGradient && options.checkTarget !== false) assertTarget(target, { points: starts.slice(0, 3), paths: ['float64', 'gradient'], require: ['gradient'], shapes: false });
  const total = chainIds.length * (warmup + draws);
  let done = 0;
  let phase: 'warmup' | 'sampling' = 'warmup';
  const report = () => options.onProgress?.({ sampler: spec.sampler, done, total, phase });
  const coop = new Cooperative(options.signal, options.onProgress ? report : undefined);
  coop.checkAborted();

  const outputs: ChainOutput[] = [];
  for (const c of chainIds) {
    const t0 = performance.now();
    const counted = new CountedTarget(target);
    const runner = spec.makeChain(c, root.derive('chain', c), starts[c], counted, config);
    const values = new Float64Array(draws * dim);
    let acceptSum = 0;
    let divergences = 0;
    let warmupGradEvals = 0;
    let warmupDensityEvals = 0;
    const n = warmup + draws;
    for (let it = 0; it < n; it++) {
      if (it === warmup) {
        warmupGradEvals = counted.gradEvals;
        warmupDensityEvals = counted.densityEvals;
      }
      phase = it < warmup ? 'warmup' : 'sampling';
      runner.transition(it);
      done++;
      if (it >= warmup) {
        values.set(runner.position(), (it - warmup) * dim);
        acceptSum += runner.acceptStat();
        if (runner.divergent?.()) divergences++;
      }
      await coop.tick();
    }
    if (warmup >= n) {
      warmupGradEvals = counted.gradEvals;
      warmupDensityEvals = counted.densityEvals;
    }
    outputs.push({
      chain: c,
      values,
      acceptSum,
      divergences,
      densityEvals: counted.densityEvals,
      gradEvals: counted.gradEvals,
      nonFinite: counted.nonFinite,
      invalid: counted.invalid,
      warmupGradEvals,
      warmupDensityEvals,
      ...(runner.summary ? { summary: runner.summary() } : {}),
      ...(runner.counts ? { counts: runner.counts() } : {}),
      wallTimeMs: performance.now() - t0,
    });
  }
  report();
  return outputs;
}

/**
 * Puts the outputs of every chain (in any order, each chain once) into Draws, with its
 * warnings. Per-chain summaries are averaged into `info` (and also kept per chain as
 * `name[c]`), per-chain counts are added up; divergences after warm-up go to
 * `Draws.divergences`. Sums run in chain order, so the result does not depend on how the chains
 * were spread out.
 */
export function assembleChains(target: Target, options: SamplerOptions, spec: ChainSpec, outputs: ChainOutput[], wallTimeMs: number): Draws {
  const config = commonConfig(options, spec.defaultWarmup ?? 1000);
  const { chains, draws, warmup } = config;
  const dim = target.dim;
  const byChain = [...outputs].sort((a, b) => a.chain - b.chain);
  if (byChain.length !== chains || byChain.some((o, c) => o.chain !== c)) {
    throw new ParameterError(`assembleChains: need each of the ${chains} chains once, got chains ${outputs.map((o) => o.chain).join(', ')}`);
  }
  checkDrawsMemory(spec.sampler, chains, draws, dim);
  const values = new Float64Array(chains * draws * dim);
  let acceptSum = 0;
  let divergences = 0;
  let densityEvals = 0;
  let gradEvals = 0;
  let nonFinite = 0;
  let invalid = 0;
  let warmupGradEvals = 0;
  let warmupDensityEvals = 0;
  const counts: Record<string, number> = {};
  for (const o of byChain) {
    values.set(o.values, o.chain * draws * dim);
    acceptSum += o.acceptSum;
    divergences += o.divergences;
    densityEvals += o.densityEvals;
    gradEvals += o.gradEvals;
    nonFinite += o.nonFinite;
    invalid += o.invalid;
    warmupGradEvals += o.warmupGradEvals;
    warmupDensityEvals += o.warmupDensityEvals;
    if (o.counts) for (const [k, v] of Object.entries(o.counts)) counts[k] = (counts[k] ?? 0) + v;
  }
  const info: Record<string, number | string | boolean> = {};
  const summaries = byChain.filter((o) => o.summary).map((o) => o.summary!);
  if (summaries.length > 0) {
    for (const key of Object.keys(summaries[0])) {
      let s = 0;
      summaries.forEach((m, c) => {
        s += m[key];
        info[`${key}[${c}]`] = m[key];
      });
      info[key] = s / summaries.length;
    }
  }
  Object.assign(info, counts);
  info.warmup = warmup;
  // Evaluations up to the end of warm-up (initial search included), all chains.
  info.warmupGradEvals = warmupGradEvals;
  info.warmupDensityEvals = warmupDensityEvals;
  if (invalid > 0) info.invalidDensities = invalid;
  return withWarnings(
    makeDraws({
      sampler: spec.sampler,
      target: target.name ?? '',
      chains,
      draws,
      dim,
      paramNames: target.paramNames,
      values,
      wallTimeMs,
      densityEvals,
      gradEvals,
      acceptance: acceptSum / (chains * draws),
      nonFinite,
      ...(spec.needsGradient ? { divergences } : {}),
      info,
    }),
  );
}

/** Runs every chain of a sampler on this thread, one after another, and returns the Draws. */
export async function runChains(target: Target, options: SamplerOptions, spec: ChainSpec): Promise<Draws> {
  const { chains } = commonConfig(options, spec.defaultWarmup ?? 1000);
  const t0 = performance.now();
  const outputs = await runChainSubset(target, options, spec, Array.from({ length: chains }, (_, c) => c));
  return assembleChains(target, options, spec, outputs, performance.now() - t0);
}

/** Throws MemoryLimitError before allocating chains x draws x dim values that cannot fit. */
export function checkDrawsMemory(sampler: string, chains: number, draws: number, dim: number): void {
  checkArray(`${sampler}: ${chains} chains x ${draws} draws x dim ${dim}`, chains * draws * dim, FLOAT64_BYTES, 'fewer draws or chains');
}

/** Attaches drawsWarnings (divergences, R-hat, ESS, non-finite densities) to freshly made Draws. */
export function withWarnings(d: Draws): Draws {
  d.warnings = drawsWarnings(d);
  return d;
}

