/**
 * The samplers `compare` knows, by name. Adding a sampler is one entry here: a name, a one-line
 * description and a runner from the common run context to Draws. Flow-based samplers ask the
 * context for the trained flow; it is trained once per target and shared, and every sampler that
 * uses it is charged its full training time and density evaluations.
 */
import type { Draws } from '../core/draws.js';
import type { Target } from '../targets/target.js';
import type { SamplerOptions, SamplerProgress } from '../samplers/sampler.js';
import type { TrainingCurve } from '../report/trainingFigure.js';
import { UsageError } from './usageError.js';
import { rwm, rwmChainSpec } from '../samplers/rwm.js';
import { mala, malaChainSpec } from '../samplers/mala.js';
import { hmc, hmcChainSpec } from '../samplers/hmc.js';
import { nuts, nutsChainSpec } from '../samplers/nuts.js';
import type { ChainSpec } from '../samplers/chains.js';
import { flowImportanceSample } from '../samplers/flowImportance.js';
import { flowImh } from '../samplers/flowImh.js';
import { smc } from '../samplers/smc.js';
import { makeDraws } from '../core/draws.js';
import { FlowsamplerError } from '../core/errors.js';
import { neutra, type DifferentiableBijection } from '../samplers/neutra.js';
import { flowMc } from '../samplers/flowMc.js';
import { warmStart } from '../samplers/warmStart.js';
import { runRejection } from './rejectionSetup.js';
import { drawsWarnings } from '../diagnostics/drawsWarnings.js';
import type { Warning } from '../core/warnings.js';

/** A trained flow as the flow samplers need it. `flow` is the src/flows Flow. */
export interface TrainedFlow {
  flow: import('../flows/flow.js').Flow;
  trainTimeMs: number;
  /** Target density evaluations spent in training (batch size x steps). */
  trainEvals: number;
  curve: TrainingCurve;
  /** How the flow in `flow` was trained (src/cli/flowTraining.ts). */
  method: 'reverse-kl' | 'mode-covering';
  /**
   * What reverse-KL training reported (steps run, why it stopped, the proposal checks, the
   * checkpoint); null when only mode-covering training ran.
   */
  result: import('../flows/train/reverseKL.js').TrainResult | null;
  /** Mode-covering training's report, when it trained `flow`. */
  modeCovering: {
    result: import('../flows/train/modeCovering.js').ModeCoveringResult;
    smcLogZ: number;
    smcLogZSe: number;
    smcSeconds: number;
    populationEss: number;
  } | null;
  /** The trainer's warnings (skipped steps, plateau far from convergence). */
  warnings: Warning[];
  /** Steps actually run (of the training that made `flow`), of those requested, and why it stopped. */
  steps: number;
  requestedSteps: number;
  stoppedBy: 'steps' | 'plateau' | 'time' | 'abort' | 'usable';
  /** What the 'auto' method decided and why (lines for the CLI and the report). */
  notes: string[];
  /**
   * The SMC run that 'auto' and 'mode-covering' trained with (pilot and population): the
   * coverage check after training reuses it as its log Z reference instead of a second SMC run.
   */
  pilotSmc?: Draws;
  /** Seconds 'auto' spent on its SMC pilot and missed-mass check (included in trainTimeMs). */
  pilotSeconds?: number;
  /** The missed-mass check 'auto' ran on the reverse-KL flow, when that flow was kept. */
  coverage?: import('./coverageProbe.js').CoverageReport;
}

export interface RunContext {
  target: Target;
  seed: number | string;
  chains: number;
  draws: number;
  /** Warm-up per chain for MCMC (default: each sampler's own). */
  warmup?: number;
  signal: AbortSignal;
  onProgress: (p: SamplerProgress) => void;
  /** Trains (once) and returns the flow for this target. */
  trainedFlow: () => Promise<TrainedFlow>;
  /** The sampler's own options (e.g. { numSteps: 32 } for hmc), checked against SamplerEntry.options. */
  options?: Record<string, number | boolean>;
}

/** The type of each sampler-specific option a study or API caller may set. */
export type OptionKinds = Record<string, 'number' | 'integer' | 'boolean'>;

export interface SamplerEntry {
  name: string;
  description: string;
  /** 'importance': weighted draws, k-hat applies; 'flow': needs the trained flow. */
  kind: 'mcmc' | 'importance' | 'exact' | 'flow-mcmc';
  run(ctx: RunContext): Promise<Draws>;
  /** For samplers whose chains are independent: their ChainSpec, so chains can run on other threads. */
  chainSpec?: (target: Target, options: SamplerOptions & Record<string, unknown>) => ChainSpec;
  /** The sampler-specific options it accepts (RunContext.options). */
  options?: OptionKinds;
}

/** The options every classical sampler takes, from the run context. */
export function samplerOptions(ctx: RunContext): SamplerOptions & Record<string, unknown> {
  return {
    seed: ctx.seed,
    chains: ctx.chains,
    draws: ctx.draws,
    ...(ctx.warmup !== undefined ? { warmup: ctx.warmup } : {}),
    ...ctx.options,
    signal: ctx.signal,
    onProgress: ctx.onProgress,
  };
}

/**
 * 'iaf': importance sampling with the trained flow, chains x draws proposals resampled
 * (systematic, from PSIS-smoothed weights) into equally weighted draws, laid out as `chains`
 * chains so R-hat is comparable. k-hat and Kish's ESS of the raw weights travel in `info`.
 */
async function runIaf(ctx: RunContext): Promise<Draws> {
  const tf = await ctx.trainedFlow();
  const n = ctx.chains * ctx.draws;
  const r = flowImportanceSample(tf.flow, ctx.target, { n, seed: ctx.seed, resample: true, trainTimeMs: tf.trainTimeMs, name: 'iaf' });
  const d = r.draws;
  const laidOut = makeDraws({ ...d, chains: ctx.chains, draws: ctx.draws, info: { ...d.info }, warnings: [] });
  // Judge R-hat and ESS on the chains as laid out, k-hat on the n raw weights.
  laidOut.warnings = drawsWarnings(laidOut, { khat: { value: r.paretoK, n } });
  return laidOut;
}

async function runImh(ctx: RunContext): Promise<Draws> {
  const tf = await ctx.trainedFlow();
  const d = await flowImh(tf.flow, ctx.target, { ...samplerOptions(ctx), trainTimeMs: tf.trainTimeMs });
  return { ...d, sampler: 'imh' };
}

/** NeuTra: NUTS on the flow's base space; needs the flow's input gradient (`forwardTape`). */
async function runNeutra(ctx: RunContext): Promise<Draws> {
  const tf = await ctx.trainedFlow();
  const f = tf.flow as unknown as Partial<DifferentiableBijection>;
  if (typeof f.forwardTape !== 'function') {
    throw new FlowsamplerError("neutra needs a flow with an input gradient (forwardTape)");
  }
  return neutra(ctx.target, f as DifferentiableBijection, { ...samplerOptions(ctx), trainTimeMs: tf.trainTimeMs });
}

async function runFlowMc(ctx: RunContext): Promise<Draws> {
  const tf = await ctx.trainedFlow();
  return flowMc(ctx.target, tf.flow, { ...samplerOptions(ctx), trainTimeMs: tf.trainTimeMs });
}

/** NUTS warm-started from the flow; the warm start's rule sets the warm-up (not --warmup). */
async function runNutsWarm(ctx: RunContext): Promise<Draws> {
  const tf = await ctx.trainedFlow();
  const ws = warmStart(tf.flow, ctx.target, { seed: ctx.seed, chains: ctx.chains, trainTimeMs: tf.trainTimeMs, trainEvals: tf.trainEvals });
  const { warmup: _ignored, ...opts } = samplerOptions(ctx);
  const d = await nuts(ctx.target, { ...opts, warmStart: ws });
  return { ...d, sampler: 'nuts-warm' };
}
const hamiltonian: OptionKinds = { stepSize: 'number', targetAccept: 'number', adaptStepSize: 'boolean', adaptMetric: 'boolean', maxEnergyError: 'number', initBuffer: 'integer', termBuffer: 'integer', baseWindow: 'integer' };

export const samplerRegistry: SamplerEntry[] = [
  { name: 'iaf', description: 'importance sampling from the trained IAF flow, resampled (PSIS weights)', kind: 'importance', run: runIaf },
  { name: 'imh', description: 'independence Metropolis–Hastings with the trained IAF flow as proposal', kind: 'flow-mcmc', run: runImh },
  {
    name: 'rwm',
    description: 'random-walk Metropolis, adapted Gaussian proposal',
    kind: 'mcmc',
    run: (ctx) => rwm(ctx.target, samplerOptions(ctx)),
    chainSpec: rwmChainSpec,
    options: { proposalScale: 'number', adaptCovariance: 'boolean', adaptScale: 'boolean', targetAccept: 'number', epsilon: 'number', adaptStart: 'integer' },
  },
  {
    name: 'mala',
    description: 'Metropolis-adjusted Langevin algorithm, adapted step size',
    kind: 'mcmc',
    run: (ctx) => mala(ctx.target, samplerOptions(ctx)),
    chainSpec: malaChainSpec,
    options: Object.fromEntries(Object.entries(hamiltonian).filter(([k]) => k !== 'maxEnergyError')) as OptionKinds,
  },
  {
    name: 'hmc',
    description: 'Hamiltonian Monte Carlo, adapted step size and diagonal metric',
    kind: 'mcmc',
    run: (ctx) => hmc(ctx.target, samplerOptions(ctx)),
    chainSpec: hmcChainSpec,
    options: { ...hamiltonian, numSteps: 'integer', integrationLength: 'number', jitter: 'number' },
  },
  {
    name: 'nuts',
    description: 'No-U-Turn sampler (Hoffman & Gelman 2014), multinomial, diagonal metric',
    kind: 'mcmc',
    run: (ctx) => nuts(ctx.target, samplerOptions(ctx)),
    chainSpec: nutsChainSpec,
    options: { ...hamiltonian, maxTreeDepth: 'integer' },
  },
  { name: 'nuts-warm', description: 'NUTS warm-started from the flow: PSIS-resampled starts, dense metric, shortened warm-up', kind: 'flow-mcmc', run: runNutsWarm },
  { name: 'neutra', description: "NeuTra: NUTS on the flow's base space, draws mapped back (needs the flow's input gradient)", kind: 'flow-mcmc', run: runNeutra },
  { name: 'flowmc', description: 'local–global sampler: HMC steps plus independence-MH jumps proposed by the flow', kind: 'flow-mcmc', run: runFlowMc },
  {
    name: 'smc',
    description: 'tempered SMC from a wide Gaussian reference, HMC moves, temperatures fixed by a pilot run; chains = independent runs, draws = particles; estimates log Z',
    kind: 'mcmc',
    options: { moves: 'integer', leapfrogSteps: 'integer', targetEss: 'number', resampleThreshold: 'number', localStep: 'boolean', stepSizeSpread: 'number' },
    run: (ctx) => {
      // SMC has no warm-up: the tempering is its adaptation.
      const { warmup: _unused, ...o } = samplerOptions(ctx);
      void _unused;
      return smc(ctx.target, o);
    },
  },
  { name: 'rejection', description: 'rejection sampling, Gaussian envelope with pilot-estimated M (violations reported)', kind: 'exact', run: runRejection },
];

export function samplerNames(): string[] {
  return samplerRegistry.map((s) => s.name);
}

/** Parses `iaf,imh,rwm` into registry entries; unknown or repeated names are UsageErrors. */
export function parseSamplerList(spec: string): SamplerEntry[] {
  const names = spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new UsageError(`--samplers needs at least one name (known: ${samplerNames().join(', ')})`);
  const seen = new Set<string>();
  return names.map((n) => {
    const e = samplerRegistry.find((s) => s.name === n.toLowerCase());
    if (!e) throw new UsageError(`unknown sampler '${n}' (known: ${samplerNames().join(', ')})`);
    if (seen.has(e.name)) throw new UsageError(`sampler '${n}' is listed twice in --samplers`);
    seen.add(e.name);
    return e;
  });
}
