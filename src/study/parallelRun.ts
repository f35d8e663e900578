/**
 * A comparison's samplers on the worker pool: every chain of an MCMC sampler is its own task,
 * the flow is trained once in one task that then runs every flow sampler on it, and any other
 * sampler (rejection) is one task. All tasks of all targets are queued at once, longest first
 * (flows), and each sampler's Draws are put together in chain order with assembleChains, so
 * they equal a one-thread run at the same seed number for number.
 *
 * Costs: a sampler's wallTimeMs is the sum of its chains' times, the CPU time a one-thread run
 * would spend, so ESS/s does not depend on how many workers shared the machine.
 */
import type { Draws } from '../core/draws.js';
import { AbortedError, FlowsamplerError } from '../core/errors.js';
import type { Target } from '../targets/target.js';
import { assembleChains, type ChainOutput } from '../samplers/chains.js';
import { samplerOptions, type RunContext, type SamplerEntry } from '../cli/samplerRegistry.js';
import type { TrainOptions } from '../cli/flowTraining.js';
import type { WorkerPool, TaskProgress } from './pool.js';
import type { Budget, FlowOutcome } from './tasks.js';
import type { TargetSource } from './targetSource.js';

export interface ProgressSink {
  update(done: number, total: number, phase?: string): void;
  stop(note?: string): void;
}

export interface TargetRunsConfig {
  target: Target;
  source: TargetSource;
  baseDir: string;
  samplers: SamplerEntry[];
  budget: Budget;
  train: TrainOptions;
  signal: AbortSignal;
  /** A progress display per sampler (or 'train' for the flow). */
  progress: (label: string) => ProgressSink;
}

export interface TargetRuns {
  /** The Draws of a sampler; rejects with a FlowsamplerError for a failed sampler. */
  draws(sampler: string): Promise<Draws>;
  /** The flow's training outcome, when a flow sampler was asked for. */
  flow: Promise<FlowOutcome> | null;
}

const isFlowSampler = (s: SamplerEntry) => s.kind === 'importance' || s.kind === 'flow-mcmc';

/** Keeps a promise from counting as unhandled while nobody awaits it yet; ends its progress display when it settles. */
function quiet<T>(p: Promise<T>, bar?: ProgressSink): Promise<T> {
  p.then(
    () => bar?.stop(),
    () => bar?.stop('stopped'),
  );
  return p;
}

/** Queues every task of one target on the pool; await `draws(name)` in any order. */
export function startTargetRuns(pool: WorkerPool, cfg: TargetRunsConfig): TargetRuns {
  const { target, source, baseDir, budget } = cfg;
  const base = { source, baseDir, budget };
  const out = new Map<string, Promise<Draws>>();
  const flowSamplers = cfg.samplers.filter(isFlowSampler);
  let flow: Promise<FlowOutcome> | null = null;
  if (flowSamplers.length > 0) {
    const bar = cfg.progress('train');
    flow = quiet(pool.run<FlowOutcome>({ kind: 'flow', ...base, samplers: flowSamplers.map((s) => s.name), train: cfg.train }, { signal: cfg.signal, onProgress: (p) => bar.update(p.done, p.total, p.phase) }), bar);
    flowSamplers.forEach((s, i) => {
      out.set(
        s.name,
        quiet(
          flow!.then((f) => {
            if (f.trainingError !== undefined) throw new FlowsamplerError(f.trainingError);
            const r = f.results[i];
            if ('error' in r) throw new FlowsamplerError(r.error);
            return r.draws;
          }),
        ),
      );
    });
  }
  for (const s of cfg.samplers) {
    if (isFlowSampler(s)) continue;
    const bar = cfg.progress(s.name);
    // A sampler whose set-up fails (bad options, a size that cannot fit) is a failed row, not a
    // failed run: its rejection waits for the loop that reads it.
    const setupError = (e: unknown) => {
      const failed = Promise.reject(e);
      failed.catch(() => undefined);
      out.set(s.name, failed);
      bar.stop('failed');
    };
    if (s.chainSpec) {
      let spec: ReturnType<NonNullable<typeof s.chainSpec>>;
      const ctx: RunContext = { target, seed: budget.seed, chains: budget.chains, draws: budget.draws, warmup: budget.warmup, signal: cfg.signal, onProgress: () => undefined, trainedFlow: () => Promise.reject(new Error('no flow')) };
      const opts = samplerOptions(ctx);
      try {
        spec = s.chainSpec(target, opts);
      } catch (e) {
        setupError(e);
        continue;
      }
      const seen = new Map<number, TaskProgress>();
      const report = () => {
        let done = 0;
        let total = 0;
        for (const p of seen.values()) {
          done += p.done;
          total = Math.max(total, p.total);
        }
        bar.update(done, total * budget.chains, [...seen.values()].some((p) => p.phase === 'warmup') ? 'warmup' : 'sampling');
      };
      const chains = Array.from({ length: budget.chains }, (_, c) =>
        pool.run<ChainOutput>({ kind: 'chain', ...base, sampler: s.name, chain: c }, {
          signal: cfg.signal,
          onProgress: (p) => {
            seen.set(c, p);
            report();
          },
        }),
      );
      out.set(
        s.name,
        quiet(
          Promise.all(chains).then((outputs) => {
            const wall = outputs.reduce((a, o) => a + o.wallTimeMs, 0);
            const d = assembleChains(target, opts, spec, outputs, wall);
            d.target = target.name;
            return d;
          }),
          bar,
        ),
      );
    } else {
      out.set(s.name, quiet(pool.run<Draws>({ kind: 'sampler', ...base, sampler: s.name }, { signal: cfg.signal, onProgress: (p) => bar.update(p.done, p.total, p.phase) }), bar));
    }
  }
  return {
    draws: (name) => out.get(name) ?? Promise.reject(new AbortedError(`sampler ${name} was not started`)),
    flow,
  };
}
