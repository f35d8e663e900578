/**
 * Trains the default IAF flow against a target for `compare`, `demo` and `train`, and records
 * the training curve: the loss (negative ELBO at β = 1) from the trainer's history, and the
 * importance efficiency ESS/n of a fresh batch at about 40 checkpoints (Kish's ESS of
 * log p̃ − log q; cheap: one parallel sample and one batched target evaluation each).
 */
import { AbortedError } from '../core/errors.js';
import { initBackend } from '../core/backend.js';
import { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import { createFamilyFlow, type Flow, type FlowFamily } from '../flows/index.js';
import { trainReverseKL, TRAIN_DEFAULTS, defaultBatchSize, type TrainCheckpoint, type TrainResult } from '../flows/index.js';
import { kishEss } from '../diagnostics/index.js';
import { WorkerShards } from '../flows/train/parallel/workerShards.js';
import type { TargetSource } from '../study/targetSource.js';
import type { TrainedFlow } from './samplerRegistry.js';
import type { TrainingPoint } from '../report/trainingFigure.js';

export interface TrainOptions {
  /** Optimiser steps (default: the trainer's, TRAIN_DEFAULTS.steps). */
  steps?: number;
  /** Base draws per step (default: the trainer's, defaultBatchSize(dim)). */
  batchSize?: number;
  /** Flow family (default 'iaf'): see FLOW_FAMILIES in src/flows/builder.ts. */
  family?: FlowFamily;
  /** Flow layers (default: the family's). */
  layers?: number;
  /** An LU linear layer before each flow layer. */
  lu?: boolean;
  /** An ActNorm layer before each flow layer. */
  actnorm?: boolean;
  /** Peak learning rate (trainer's default when absent). */
  learningRate?: number;
  /** Wall-time budget in seconds. */
  maxSeconds?: number;
  /**
   * Temperature annealing: β rises from this value to 1 over the first half of training
   * (helps a mode-seeking reverse-KL fit spread over separated modes; hurts on unimodal ones).
   */
  annealFrom?: number;
}

export interface TrainRunOptions extends TrainOptions {
  seed: number | string;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number }) => void;
  /**
   * Stop once the flow is a usable proposal (default true: `trainReverseKL`'s `untilUsable`
   * checks); false trains every step (the checks still run, for the curve).
   */
  untilUsable?: boolean;
  /** Return the partly trained flow on Ctrl-C (stoppedBy 'abort') instead of throwing. */
  keepOnAbort?: boolean;
  /** Continue this flow from its checkpoint instead of a fresh flow. */
  resume?: { flow: Flow; checkpoint: TrainCheckpoint };
  /**
   * Gradient threads (default 1): with more, the batch is split over worker threads that each
   * hold a replica of the flow and rebuild the target from `source` (src/flows/train/parallel/).
   */
  threads?: number;
  source?: TargetSource;
  /** Called with the flow and its checkpoint about every `checkpointSeconds` (default 30). */
  onCheckpoint?: (flow: Flow, checkpoint: TrainCheckpoint) => void;
  checkpointSeconds?: number;
}

/** The proposal checks of CLI training: every 100 steps, 2048 draws. */
export const CLI_PROPOSAL_CHECK = { every: 100, draws: 2048 } as const;

export async function trainFlowFor(target: Target, opts: TrainRunOptions): Promise<TrainedFlow> {
  await initBackend();
  const steps = opts.steps ?? TRAIN_DEFAULTS.steps;
  const batchSize = opts.batchSize ?? defaultBatchSize(target.dim);
  const root = new RandomStream(opts.seed).derive('flow');
  const flow = opts.resume?.flow ?? createFamilyFlow(opts.family ?? 'iaf', target.dim, { layers: opts.layers, lu: opts.lu, actnorm: opts.actnorm, seed: root.derive('init').seed });
  const t0 = performance.now();
  let result: TrainResult;
  let shards: WorkerShards | null = null;
  try {
    if ((opts.threads ?? 1) > 1 && opts.source) {
      shards = await WorkerShards.create({ flow, source: opts.source, baseDir: process.cwd(), batchSize, workers: opts.threads! - 1 });
    }
    result = await trainReverseKL(flow, target, {
      ...(shards ? { shards } : {}),
      steps,
      batchSize,
      ...(opts.learningRate !== undefined ? { learningRate: opts.learningRate } : {}),
      ...(opts.maxSeconds !== undefined ? { maxSeconds: opts.maxSeconds } : {}),
      ...(opts.annealFrom !== undefined ? { anneal: { from: opts.annealFrom, steps: Math.floor(steps / 2) } } : {}),
      seed: root.derive('train').seed,
      signal: opts.signal,
      untilUsable: { ...CLI_PROPOSAL_CHECK, stop: opts.untilUsable ?? true },
      ...(opts.resume ? { resume: opts.resume.checkpoint } : {}),
      progressEvery: 25,
      onProgress: (step) => opts.onProgress?.({ done: step, total: steps }),
      ...(opts.onCheckpoint ? { onCheckpoint: (cp: TrainCheckpoint) => opts.onCheckpoint!(flow, cp), checkpointSeconds: opts.checkpointSeconds } : {}),
    });
  } catch (e) {
    if (!opts.resume) flow.dispose();
    throw e;
  } finally {
    shards?.dispose();
  }
  const trainTimeMs = performance.now() - t0;
  if (result.stoppedBy === 'abort' && !opts.keepOnAbort) {
    if (!opts.resume) flow.dispose();
    throw new AbortedError('stopped by the user during flow training');
  }
  const points: TrainingPoint[] = result.history.map((h) => ({ step: h.step, loss: -h.elbo }));
  // The proposal checks as their own points (the figure draws each metric separately).
  for (const c of result.checks) points.push({ step: c.step, loss: NaN, essFraction: c.essFraction });
  points.sort((a, b) => a.step - b.step);
  return {
    flow,
    trainTimeMs,
    trainEvals: (result.steps - (opts.resume?.checkpoint.step ?? 0)) * batchSize + result.checks.length * CLI_PROPOSAL_CHECK.draws,
    curve: { name: `${opts.family ?? 'iaf'} (reverse KL)`, points },
    result,
    warnings: result.warnings,
    steps: result.steps,
    requestedSteps: steps,
    stoppedBy: result.stoppedBy,
  };
}
