/**
 * A small maximum-likelihood loop for tests and benches of the residual and multi-scale layers:
 * minibatch NLL through `flow.densityProgram()`, gradients from the flow's engine (or, with
 * `reversible`, from src/flows/train/reversibleGradient.ts), Adam (src/flows/train/adam.ts) with
 * linear warm-up and cosine decay, global-norm clipping, non-finite steps skipped. It is test and
 * bench code on purpose: the library's trainer is `fitMaximumLikelihood` (issue 15, another
 * branch); this loop only exists so these layers can be trained before that lands.
 */
import { Adam, gradientNorm } from '../../src/flows/train/adam.js';
import { learningRateAt } from '../../src/flows/train/reverseKL.js';
import { densityGradientReversible } from '../../src/flows/train/reversibleGradient.js';
import type { Flow } from '../../src/flows/flow.js';
import type { Param } from '../../src/flows/params.js';
import { RandomStream } from '../../src/core/random.js';

export interface MleLoopOptions {
  steps: number;
  batchSize: number;
  learningRate?: number;
  seed?: number | string;
  clipNorm?: number;
  /** Gradients by reconstruction (one layer's tape at a time) instead of one tape. */
  reversible?: boolean;
  /** Stop after this many seconds (the schedule still assumes `steps`). */
  maxSeconds?: number;
  onStep?: (step: number, nll: number) => void;
}

export interface MleLoopResult {
  steps: number;
  skipped: number;
  seconds: number;
  /** Mean batch NLL of each step. */
  nll: number[];
}

/** Trains `flow` on the rows of `data` (row-major, n x dim) by minibatch maximum likelihood. */
export function trainMle(flow: Flow, data: ArrayLike<number>, options: MleLoopOptions): MleLoopResult {
  const D = flow.dim;
  const n = data.length / D;
  const B = Math.min(options.batchSize, n);
  const rng = new RandomStream(options.seed ?? 0).derive('mle-batches');
  const adam = new Adam(flow.store);
  const engine = flow.activeEngine();
  const program = flow.densityProgram();
  const peak = options.learningRate ?? 1e-3;
  const warmup = Math.min(100, Math.floor(options.steps / 10));
  const clip = options.clipNorm ?? 100;
  const batch = new Float64Array(B * D);
  const cot = new Float64Array(B).fill(-1 / B);
  const nll: number[] = [];
  let skipped = 0;
  const t0 = performance.now();
  let step = 0;
  for (; step < options.steps; step++) {
    if (options.maxSeconds !== undefined && (performance.now() - t0) / 1000 > options.maxSeconds) break;
    for (let r = 0; r < B; r++) {
      const i = rng.int(n);
      for (let j = 0; j < D; j++) batch[r * D + j] = data[i * D + j];
    }
    let grads: Map<Param, Float64Array>;
    let logq: ArrayLike<number>;
    if (options.reversible) {
      const g = densityGradientReversible(flow, batch, B, () => cot);
      grads = g.paramGrads;
      logq = g.logq;
    } else {
      const g = engine.differentiate(flow.store, program, [{ values: batch, rows: B, cols: D }], () => [null, cot]);
      grads = g.paramGrads;
      logq = g.outputs[1];
    }
    let loss = 0;
    for (let r = 0; r < B; r++) loss -= logq[r] / B;
    const norm = gradientNorm(grads);
    if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
      skipped++;
      continue;
    }
    const lr = learningRateAt(step, options.steps, peak, 'cosine', warmup, 0.05);
    adam.step(grads, lr, norm > clip ? clip / norm : 1);
    nll.push(loss);
    options.onStep?.(step, loss);
  }
  return { steps: step, skipped, seconds: (performance.now() - t0) / 1000, nll };
}

/** Mean −log q over the rows of `data`, with its standard error. */
export function heldOutNll(flow: Flow, data: ArrayLike<number>): { nll: number; se: number } {
  const lq = flow.logProbArrays(data);
  let s = 0;
  let s2 = 0;
  for (const v of lq) {
    s -= v;
    s2 += v * v;
  }
  const m = s / lq.length;
  return { nll: m, se: Math.sqrt(Math.max(0, s2 / lq.length - m * m) / lq.length) };
}
