/**
 * The flow-assisted MCMC bars, measured through the code paths `compare` uses:
 * the default flow trained by `trainFlowFor` (compare's defaults: IAF, LU, 3000 steps, stop at
 * the first usable proposal), then the samplers' registry entries (src/cli/samplerRegistry.ts)
 * at 4 chains x 1000 draws, each charged its flow's training time.
 *
 * 1. funnel10 `neutra`: divergences, sd(v) against 3 with its MCSE, min bulk ESS/s including
 *    training, beside `iaf`'s.
 * 2. `nuts-warm` against `nuts` on banana and funnel10: warm-up gradient evaluations, max R-hat,
 *    every mean within 3 MCSE of the exact one.
 * 3. `flowmc` on the ring of 8 and gmm40: modes visited, each mode's weight against the exact one
 *    within 3 MCSE (the MCSE of the mode's indicator), max R-hat, global acceptance.
 * 4. NUTS with `metric: 'dense'` against the diagonal metric on gauss50: min bulk ESS per 1000
 *    gradient evaluations, warm-up included (`nuts` itself: the registry has no metric option).
 *
 * The Stan ratio of the fifth bar is bench/stanNuts.ts (it needs Rscript with rstan).
 *
 *   npx tsx bench/flowMcmc.ts [--quick] [--seeds 1,2]
 */
import { initBackend } from '../src/core/backend.js';
import { parameterChains, type Draws } from '../src/core/draws.js';
import { parseTargetSpec } from '../src/targets/registry.js';
import type { Target } from '../src/targets/target.js';
import { trainFlowFor } from '../src/cli/flowTraining.js';
import { samplerRegistry, type RunContext, type TrainedFlow } from '../src/cli/samplerRegistry.js';
import { summaryRowFor } from '../src/report/metrics.js';
import { mcseMean, mcseSd } from '../src/diagnostics/index.js';
import { modeVisits } from '../src/diagnostics/modes.js';
import { nuts } from '../src/samplers/nuts.js';
import { benchTarget } from './flowsTargets.js';
import { isMain, optionValue } from './standalone.js';

export interface FlowMcmcOptions {
  quick?: boolean;
  seeds?: number[];
  log?: (line: string) => void;
}

export interface BarResult {
  bar: string;
  seed: number;
  met: boolean;
  numbers: Record<string, unknown>;
}

const CHAINS = 4;

interface Budget {
  draws: number;
  /** Warm-up per chain (compare's default, each sampler's own, when absent; nuts-warm sets its own). */
  warmup?: number;
  /** Training steps (compare's default in full runs). */
  trainSteps: number;
}

/** One `compare` target: a flow trained once, shared by the flow samplers, as compare does. */
class TargetRun {
  private flow: Promise<TrainedFlow> | null = null;
  constructor(
    readonly target: Target,
    private readonly seed: number,
    private readonly budget: Budget,
    private readonly log: (l: string) => void,
  ) {}

  trainedFlow = (): Promise<TrainedFlow> => {
    this.flow ??= trainFlowFor(this.target, { seed: this.seed, steps: this.budget.trainSteps }).then((tf) => {
      this.log(`${this.target.name} seed ${this.seed}: flow trained in ${(tf.trainTimeMs / 1000).toFixed(1)} s (${tf.steps} steps, ${tf.stoppedBy})`);
      return tf;
    });
    return this.flow;
  };

  async run(sampler: string): Promise<Draws> {
    const entry = samplerRegistry.find((s) => s.name === sampler)!;
    const ctx: RunContext = {
      target: this.target,
      seed: this.seed,
      chains: CHAINS,
      draws: this.budget.draws,
      ...(this.budget.warmup !== undefined ? { warmup: this.budget.warmup } : {}),
      signal: new AbortController().signal,
      onProgress: () => undefined,
      trainedFlow: this.trainedFlow,
    };
    const t0 = performance.now();
    const d = await entry.run(ctx);
    this.log(`${this.target.name}/${sampler} seed ${this.seed}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return d;
  }

  async dispose(): Promise<void> {
    if (this.flow) (await this.flow).flow.dispose();
  }
}

function row(d: Draws) {
  const { row: r } = summaryRowFor(d);
  return { essBulkMin: r.essBulk, rhatMax: r.rhat, essPerSecond: r.essPerSecond, wallTimeS: r.wallTimeS, trainTimeS: r.trainTimeS, gradEvals: r.gradEvals, divergences: r.divergences };
}

/** Each parameter's mean against the exact one, in units of its MCSE. */
function meansVsTruth(d: Draws, t: Target) {
  return Array.from({ length: d.dim }, (_, p) => {
    const ch = parameterChains(d, p);
    const n = d.chains * d.draws;
    const m = ch.reduce((s, c) => s + c.reduce((a, v) => a + v, 0), 0) / n;
    const se = mcseMean(ch);
    return { param: d.paramNames[p], mean: m, truth: t.mean![p], mcse: se, z: (m - t.mean![p]) / se };
  });
}

async function funnelNeutra(run: TargetRun, seed: number): Promise<BarResult> {
  const neu = await run.run('neutra');
  const iaf = await run.run('iaf');
  const v = parameterChains(neu, 0);
  const all = v.flatMap((c) => Array.from(c));
  const mu = all.reduce((s, x) => s + x, 0) / all.length;
  const sdV = Math.sqrt(all.reduce((s, x) => s + (x - mu) ** 2, 0) / (all.length - 1));
  const se = mcseSd(v);
  const n = row(neu);
  const i = row(iaf);
  const met = n.divergences === 0 && Math.abs(sdV - 3) < 3 * se && (n.essPerSecond ?? 0) > (i.essPerSecond ?? Infinity);
  return {
    bar: 'funnel10 neutra: 0 divergences, sd(v) within 3 MCSE of 3, min bulk ESS/s (training included) above iaf',
    seed,
    met,
    numbers: { divergences: n.divergences, sdV, sdVMcse: se, sdVz: (sdV - 3) / se, neutra: n, iaf: i },
  };
}

async function warmVsCold(run: TargetRun, seed: number): Promise<BarResult> {
  const t = run.target;
  const cold = await run.run('nuts');
  const warm = await run.run('nuts-warm');
  const side = (d: Draws) => {
    const means = meansVsTruth(d, t);
    return {
      ...row(d),
      warmupGradEvals: Number(d.info?.warmupGradEvals),
      warmup: d.info?.warmup,
      maxAbsMeanZ: Math.max(...means.map((m) => Math.abs(m.z))),
      meansWithin3Mcse: means.every((m) => Math.abs(m.z) < 3),
      means,
    };
  };
  const c = side(cold);
  const w = side(warm);
  const saving = 1 - w.warmupGradEvals / c.warmupGradEvals;
  return {
    bar: `${t.name} nuts-warm: R-hat < 1.01, >= 50 % fewer warm-up gradients than cold nuts, means within 3 MCSE of the truth`,
    seed,
    met: (w.rhatMax ?? Infinity) < 1.01 && saving >= 0.5 && w.meansWithin3Mcse,
    numbers: { warmupSaving: saving, warm: w, cold: c },
  };
}

async function flowMcModes(run: TargetRun, seed: number): Promise<BarResult> {
  const t = run.target;
  const d = await run.run('flowmc');
  const modes = t.modes!;
  const mv = modeVisits(d.values, d.dim, modes);
  // Each mode's weight is the mean of its indicator; its MCSE comes from the indicator's chains.
  const labels = new Int32Array(d.chains * d.draws);
  for (let r = 0; r < labels.length; r++) labels[r] = modes.assign(d.values.subarray(r * d.dim, (r + 1) * d.dim));
  let worstZ = 0;
  let within = 0;
  const weights = Array.from({ length: modes.count }, (_, k) => {
    const ch = Array.from({ length: d.chains }, (_, c) => Float64Array.from(labels.subarray(c * d.draws, (c + 1) * d.draws), (l) => (l === k ? 1 : 0)));
    const w = mv.counts[k] / mv.n;
    const se = mcseMean(ch);
    // A mode never (or always) visited has a degenerate indicator: no MCSE, not within (z null in the JSON).
    const z = se > 0 && Number.isFinite(se) ? (w - modes.weights[k]) / se : Infinity;
    worstZ = Math.max(worstZ, Math.abs(z));
    if (Math.abs(z) < 3) within++;
    return { weight: w, truth: modes.weights[k], mcse: se, z };
  });
  const r = row(d);
  const globalAcceptance = Number(d.info?.globalAcceptance);
  return {
    bar: `${t.name} flowmc: all modes visited, weights within 3 MCSE, R-hat < 1.01, global acceptance >= 0.3`,
    seed,
    met: mv.visited === mv.modes && within === modes.count && (r.rhatMax ?? Infinity) < 1.01 && globalAcceptance >= 0.3,
    numbers: {
      modesVisited: mv.visited,
      modes: mv.modes,
      weightsWithin3Mcse: within,
      worstWeightZ: worstZ,
      totalVariation: mv.totalVariation,
      globalAcceptance,
      localAcceptance: Number(d.info?.localAcceptance),
      ...r,
      weights,
    },
  };
}

async function denseVsDiag(seed: number, draws: number, warmup: number | undefined, log: (l: string) => void): Promise<BarResult> {
  const t = benchTarget('gauss50').target;
  const side = async (metric: 'diag' | 'dense') => {
    const t0 = performance.now();
    const d = await nuts(t, { seed, chains: CHAINS, draws, ...(warmup !== undefined ? { warmup } : {}), metric });
    log(`gauss50/nuts-${metric} seed ${seed}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const r = row(d);
    return { ...r, essPer1000Grads: (1000 * (r.essBulkMin ?? 0)) / d.gradEvals };
  };
  const diag = await side('diag');
  const dense = await side('dense');
  const ratio = dense.essPer1000Grads / diag.essPer1000Grads;
  return {
    bar: 'gauss50 dense NUTS: min bulk ESS per gradient (warm-up included) >= 2x the diagonal metric',
    seed,
    met: ratio >= 2,
    numbers: { ratio, dense, diag },
  };
}

export async function benchFlowMcmc(opts: FlowMcmcOptions = {}) {
  const quick = opts.quick ?? false;
  const seeds = opts.seeds ?? [1];
  const log = opts.log ?? ((l: string) => console.log(l));
  // Quick: a smoke test of every path (short training, fewer draws); its bars mean little.
  const budget: Budget = quick ? { draws: 300, warmup: 300, trainSteps: 200 } : { draws: 1000, trainSteps: 3000 };
  await initBackend();
  const results: BarResult[] = [];
  for (const seed of seeds) {
    const funnel = new TargetRun(parseTargetSpec('funnel'), seed, budget, log);
    const banana = new TargetRun(parseTargetSpec('banana'), seed, budget, log);
    const ring = new TargetRun(parseTargetSpec('ring'), seed, budget, log);
    const gmm40 = new TargetRun(parseTargetSpec('gmm40'), seed, budget, log);
    try {
      results.push(await funnelNeutra(funnel, seed));
      results.push(await warmVsCold(banana, seed));
      results.push(await warmVsCold(funnel, seed));
      results.push(await flowMcModes(ring, seed));
      results.push(await flowMcModes(gmm40, seed));
      results.push(await denseVsDiag(seed, budget.draws, budget.warmup, log));
    } finally {
      for (const r of [funnel, banana, ring, gmm40]) await r.dispose();
    }
    for (const r of results.filter((x) => x.seed === seed)) log(`${r.met ? 'met    ' : 'NOT met'}  ${r.bar}`);
  }
  return {
    quick,
    seeds,
    chains: CHAINS,
    draws: budget.draws,
    trainSteps: budget.trainSteps,
    warmup: budget.warmup ?? 'default',
    elsewhere: 'NUTS ESS/s against rstan on gauss50: bench/stanNuts.ts (bench/results/stanNuts.json)',
    results,
  };
}

if (isMain(import.meta.url)) {
  const seeds = optionValue('--seeds')?.split(',').map(Number);
  const quick = process.argv.includes('--quick');
  const t0 = performance.now();
  const res = await benchFlowMcmc({ seeds, quick });
  const { writeResults } = await import('./run.js');
  console.log(`-> ${await writeResults('flowMcmc', res, (performance.now() - t0) / 1000)}`);
}
