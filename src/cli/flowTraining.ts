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
import { createDefaultFlow, type Flow } from '../flows/index.js';
import { trainReverseKL, TRAIN_DEFAULTS, defaultBatchSize } from '../flows/train.js';
import { kishEss } from '../diagnostics/index.js';
import type { TrainedFlow } from './samplerRegistry.js';
import type { TrainingPoint } from '../report/trainingFigure.js';

export interface TrainOptions {
  /** Optimiser steps (default: the trainer's, TRAIN_DEFAULTS.steps). */
  steps?: number;
  /** Base draws per step (default: the trainer's, defaultBatchSize(dim)). */
  batchSize?: number;
  /** IAF layers (default: DEFAULT_FLOW_LAYERS). */
  layers?: number;
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
}

/** Kish ESS / n of n fresh flow draws against the target. */
export function flowEssFraction(flow: Flow, target: Target, n: number, seed: RandomStream): number {
  const { x, logq } = flow.sampleArrays(n, seed);
  const w = new Float64Array(n);
  const row = new Float64Array(target.dim);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < target.dim; j++) row[j] = x[r * target.dim + j];
    w[r] = target.logDensity(row) - logq[r];
  }
  return kishEss(w) / n;
}

export async function trainFlowFor(target: Target, opts: TrainRunOptions): Promise<TrainedFlow> {
  await initBackend();
  const steps = opts.steps ?? TRAIN_DEFAULTS.steps;
  const batchSize = opts.batchSize ?? defaultBatchSize(target.dim);
  const root = new RandomStream(opts.seed).derive('flow');
  const flow = createDefaultFlow(target.dim, { layers: opts.layers, seed: root.derive('init').seed });
  const essPoints: { step: number; essFraction: number }[] = [];
  const essEvery = Math.max(1, Math.floor(steps / 40));
  const essRng = root.derive('ess-checkpoints');
  let nextEss = 0;
  const t0 = performance.now();
  let result;
  try {
    result = await trainReverseKL(flow, target, {
      steps,
      batchSize,
      ...(opts.learningRate !== undefined ? { learningRate: opts.learningRate } : {}),
      ...(opts.maxSeconds !== undefined ? { maxSeconds: opts.maxSeconds } : {}),
      ...(opts.annealFrom !== undefined ? { anneal: { from: opts.annealFrom, steps: Math.floor(steps / 2) } } : {}),
      seed: root.derive('train').seed,
      signal: opts.signal,
      progressEvery: Math.max(1, Math.min(25, essEvery)),
      onProgress: (step) => {
        opts.onProgress?.({ done: step, total: steps });
        if (step >= nextEss) {
          essPoints.push({ step, essFraction: flowEssFraction(flow, target, 256, essRng) });
          nextEss = step + essEvery;
        }
      },
    });
  } catch (e) {
    flow.dispose();
    throw e;
  }
  const trainTimeMs = performance.now() - t0;
  if (result.stoppedBy === 'abort') {
    flow.dispose();
    throw new AbortedError('stopped by the user during flow training');
  }
  const points: TrainingPoint[] = result.history.map((h) => ({ step: h.step, loss: -h.elbo }));
  // Merge the ESS checkpoints as their own points (the figure draws each metric separately).
  for (const p of essPoints) points.push({ step: p.step, loss: NaN, essFraction: p.essFraction });
  points.sort((a, b) => a.step - b.step);
  return {
    flow,
    trainTimeMs,
    trainEvals: result.steps * batchSize,
    curve: { name: 'iaf (reverse KL)', points },
    warnings: result.warnings,
    steps: result.steps,
    requestedSteps: steps,
    stoppedBy: result.stoppedBy,
  };
}
