/**
 * The work a pool worker does, as plain-data tasks: one chain of an MCMC sampler, one whole
 * sampler, or one flow (trained once, then every flow sampler that uses it). Each task carries
 * the target's source, not the target, and builds the target itself; the numbers are the same
 * as on the main thread because every chain and the flow draw from streams derived from the
 * seed alone.
 *
 * These functions also run in-process (tests, `--workers 1`); poolWorker.ts only dispatches.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Draws } from '../core/draws.js';
import { FlowsamplerError, ParameterError } from '../core/errors.js';
import type { SamplerProgress } from '../samplers/sampler.js';
import { runChainSubset, type ChainOutput } from '../samplers/chains.js';
import { samplerRegistry, samplerOptions, type RunContext, type SamplerEntry, type TrainedFlow } from '../cli/samplerRegistry.js';
import type { TrainOptions } from '../cli/flowTraining.js';
import type { TrainingCurve } from '../report/trainingFigure.js';
import { loadTarget, targetFingerprint, type TargetSource } from './targetSource.js';
import type { Target } from '../targets/target.js';

/** Seed and budget of one sampler run. */
export interface Budget {
  seed: number | string;
  chains: number;
  draws: number;
  /** Warm-up per chain (default: each sampler's own). */
  warmup?: number;
}

interface TaskBase {
  source: TargetSource;
  /** Folder that relative paths in the source are taken from. */
  baseDir: string;
  budget: Budget;
  /** Where progress messages ({done, total, phase}) go, if anyone listens. */
  port?: MessagePort;
}

export interface ChainTask extends TaskBase {
  kind: 'chain';
  sampler: string;
  options?: Record<string, number | boolean>;
  chain: number;
}

export interface SamplerTask extends TaskBase {
  kind: 'sampler';
  sampler: string;
  options?: Record<string, number | boolean>;
}

export interface FlowTask extends TaskBase {
  kind: 'flow';
  /** The flow samplers to run on the one trained flow, in order. */
  samplers: string[];
  train: TrainOptions;
}

/** A task that does nothing (or sleeps): warms a pool up, and measures its overhead. */
export interface NoopTask {
  kind: 'noop';
  sleepMs?: number;
}

export type SamplerOutcome = { draws: Draws } | { error: string };

export interface FlowOutcome {
  /** Set when training failed with a user-facing error; then `results` is empty. */
  trainingError?: string;
  trainTimeMs: number;
  trainEvals: number;
  curve: TrainingCurve | null;
  results: SamplerOutcome[];
}

export function registryEntry(name: string): SamplerEntry {
  const e = samplerRegistry.find((s) => s.name === name);
  if (!e) throw new ParameterError(`unknown sampler '${name}' (known: ${samplerRegistry.map((s) => s.name).join(', ')})`);
  return e;
}

function progressTo(port?: MessagePort): ((p: SamplerProgress) => void) | undefined {
  return port ? (p) => port.postMessage({ done: p.done, total: p.total, phase: p.phase }) : undefined;
}

const noFlow = (): Promise<TrainedFlow> => Promise.reject(new ParameterError('this task has no flow'));

function context(target: Target, t: TaskBase, options: Record<string, number | boolean> | undefined, trainedFlow = noFlow): RunContext {
  return {
    target,
    seed: t.budget.seed,
    chains: t.budget.chains,
    draws: t.budget.draws,
    warmup: t.budget.warmup,
    signal: new AbortController().signal,
    onProgress: progressTo(t.port) ?? (() => undefined),
    trainedFlow,
    ...(options ? { options } : {}),
  };
}

/**
 * The targets this thread built, by fingerprint: the chains of one sampler arrive as separate
 * tasks with the same source, and building the target again for each is time the chain waits.
 * The fingerprint covers a model or module file's contents, so an edited file is built afresh.
 */
const built = new Map<string, Promise<Target>>();
const BUILT_MAX = 8;

async function taskTarget(t: TaskBase): Promise<Target> {
  const ctx = { baseDir: t.baseDir };
  const key = `${t.baseDir}\0${await targetFingerprint(t.source, ctx)}`;
  let p = built.get(key);
  if (!p) {
    p = loadTarget(t.source, ctx);
    // A failed build is not kept: the next task tries again and reports its own error.
    p.catch(() => built.delete(key));
    if (built.size >= BUILT_MAX) built.delete(built.keys().next().value!);
    built.set(key, p);
  }
  return p;
}

export async function runChainTask(t: ChainTask): Promise<ChainOutput> {
  const entry = registryEntry(t.sampler);
  if (!entry.chainSpec) throw new ParameterError(`sampler ${t.sampler} does not run chain by chain`);
  const target = await taskTarget(t);
  const opts = samplerOptions(context(target, t, t.options));
  const [out] = await runChainSubset(target, opts, entry.chainSpec(target, opts), [t.chain]);
  return out;
}

export async function runSamplerTask(t: SamplerTask): Promise<Draws> {
  const target = await taskTarget(t);
  const d = await registryEntry(t.sampler).run(context(target, t, t.options));
  d.target = target.name;
  return d;
}

/**
 * Trains the flow once and runs each flow sampler on it; user-facing failures become
 * `{ error }` outcomes (as `compare` shows them), anything else propagates.
 */
export async function runFlowTask(t: FlowTask): Promise<FlowOutcome> {
  const target = await taskTarget(t);
  const onProgress = progressTo(t.port);
  // Loaded on first use, so threads that only run chains never load the flows and their backend.
  const { trainFlowFor } = await import('../cli/flowTraining.js');
  let trained: TrainedFlow;
  try {
    trained = await trainFlowFor(target, { ...t.train, seed: t.budget.seed, onProgress: onProgress ? (p) => onProgress({ sampler: 'flow', done: p.done, total: p.total, phase: 'training' }) : undefined });
  } catch (e) {
    if (e instanceof FlowsamplerError) return { trainingError: e.message, trainTimeMs: 0, trainEvals: 0, curve: null, results: [] };
    throw e;
  }
  const results: SamplerOutcome[] = [];
  try {
    for (const name of t.samplers) {
      try {
        const d = await registryEntry(name).run(context(target, t, undefined, () => Promise.resolve(trained)));
        d.target = target.name;
        results.push({ draws: d });
      } catch (e) {
        if (!(e instanceof FlowsamplerError)) throw e;
        results.push({ error: e.message });
      }
    }
  } finally {
    trained.flow.dispose();
  }
  return { trainTimeMs: trained.trainTimeMs, trainEvals: trained.trainEvals, curve: trained.curve, results };
}

export async function runNoopTask(t: NoopTask): Promise<number> {
  if (t.sleepMs) await new Promise((r) => setTimeout(r, t.sleepMs));
  return process.pid;
}
