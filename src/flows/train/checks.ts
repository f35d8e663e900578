/**
 * What reverse-KL training checks before it starts and judges after it ends, kept apart from
 * the loop in train.ts (which calls each once):
 *
 * - `checkTrainingStart`: the batch fits in memory (a `--batch 1e8` fails at once, saying how
 *   much it would need) and the target computes what it claims at a few draws of the initial flow
 *   (src/targets/checkTarget.ts on the batch path training will use: a logProb of the wrong
 *   shape, one that leaves the tfjs graph, or a wrong gradient is an error naming the target).
 * - `trainWarnings`: training where more than half the steps were skipped, or where the loss was
 *   never finite, is a TrainingError naming the target and the first bad batch; a smaller share
 *   of skipped steps is a 'skipped-steps' warning; a plateau stop while the log weights are still
 *   widely spread is 'plateau-unconverged'.
 *
 * "Far from convergence" is measured, not guessed: when training stops on a plateau, Kish's ESS/N
 * of the importance weights p̃/q on 2048 fresh draws (1 for an exact fit) must be at least 0.1.
 * A mode-seeking fit that misses whole modes can pass this; no weight-based check sees those.
 */
import type { Target } from '../../targets/target.js';
import type { Flow } from '../flow.js';
import type { TrainResult } from './reverseKL.js';
import { FlowsamplerError } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';
import { checkMemory, FLOAT32_BYTES, FLOAT64_BYTES, formatBytes } from '../../core/memory.js';
import { fmt, makeWarning, pct, type Warning } from '../../core/warnings.js';
import { assertTarget, type TargetPath } from '../../targets/checkTarget.js';
import { batchPathOf, targetValueAndGrad } from '../../targets/batch.js';
import { kishEss } from '../../diagnostics/importance.js';

/** Training that produced nothing usable (most steps skipped, or no finite loss at all). */
export class TrainingError extends FlowsamplerError {}

export const TRAIN_WARNING_THRESHOLDS = {
  /** Skipped steps above this share: a warning. */
  skippedShare: 0.01,
  /** Skipped steps above this share: an error. */
  skippedErrorShare: 0.5,
  /** Kish ESS/N on fresh draws at a plateau below which the fit is far from converged. */
  plateauEssFraction: 0.1,
} as const;

/** Tensors live on the wasm heap, which tfjs-backend-wasm caps well below 4 GB. */
const WASM_HEAP_BYTES = 2 ** 31;

/** What the loop records about skipped steps; train.ts calls `skip` for each. */
export class TrainCounters {
  firstBad: { step: number; loss: number; elbo: number; norm: number } | null = null;
  skip(step: number, loss: number, elbo: number, norm: number): void {
    this.firstBad ??= { step: step + 1, loss, elbo, norm };
  }
}

/**
 * Bytes of activations and gradients one training step needs per draw (a generous estimate):
 * per layer its hidden units (forward, gradient, mask) and its outputs, plus the float64 points
 * and target gradients.
 */
function bytesPerDraw(dim: number, hiddenPerLayer: number[]): number {
  let floats = 4 * dim;
  for (const h of hiddenPerLayer) floats += 3 * h + 6 * dim;
  return floats * FLOAT32_BYTES + 4 * dim * FLOAT64_BYTES;
}

/**
 * Throws before the flow is even built when its weights (with their gradients and Adam's two
 * moments) and a batch of `batchSize` cannot fit: first in tfjs's wasm heap, then in the memory
 * budget. A MADE of widths dim → hidden… → 2·dim per layer.
 */
export function checkTrainingBatchMemory(dim: number, batchSize: number, hidden: number[], layers: number, hint = 'a smaller batch'): void {
  const perLayer = hidden.reduce((a, h) => a + h, 0);
  const widths = [dim, ...hidden, 2 * dim];
  let params = 0;
  for (let k = 0; k + 1 < widths.length; k++) params += widths[k] * widths[k + 1];
  checkBatchBytes(dim, batchSize, batchSize * bytesPerDraw(dim, Array.from({ length: layers }, () => perLayer)), 4 * FLOAT32_BYTES * layers * params, hint);
}

function checkBatchBytes(dim: number, batchSize: number, batchBytes: number, weightBytes: number, hint = 'a smaller batch'): void {
  const what = `flow training with batch ${batchSize} in dim ${dim}`;
  const bytes = batchBytes + weightBytes;
  if (bytes > WASM_HEAP_BYTES) {
    const parts = weightBytes > batchBytes ? `${formatBytes(weightBytes)} for the weights, their gradients and Adam's moments` : `${formatBytes(batchBytes)} for a batch`;
    throw new TrainingError(`${what} would need ${formatBytes(bytes)} of tensor memory (${parts}); tfjs holds at most ${formatBytes(WASM_HEAP_BYTES)}: use ${weightBytes > batchBytes ? 'a smaller dimension' : hint}`);
  }
  checkMemory(what, bytes, hint);
}

/** Memory and target checks before the first step (see the file header). */
export function checkTrainingStart(flow: Flow, target: Target, batchSize: number, seed: string): void {
  const hidden = flow.bijectors.map((b) => {
    const c = b.getConfig() as { hidden?: unknown };
    return Array.isArray(c.hidden) ? c.hidden.reduce((a: number, h) => a + (Number(h) || 0), 0) : 0;
  });
  checkBatchBytes(flow.dim, batchSize, batchSize * bytesPerDraw(flow.dim, hidden), 4 * FLOAT32_BYTES * flow.parameterCount());
  // The batch path training will take, against logDensity (and gradLogDensity where it has one).
  const path = batchPathOf(target);
  const paths: TargetPath[] = ['float64', 'gradient', path === 'batch-float64' ? 'batch' : path === 'tfjs' ? 'tfjs' : 'gradient'];
  const { x } = flow.sampleArrays(4, new RandomStream(seed).derive('check-target'));
  const points = Array.from({ length: 4 }, (_, r) => x.subarray(r * flow.dim, (r + 1) * flow.dim));
  assertTarget(target, { points, paths, require: path === 'float64' ? ['gradient'] : [], shapes: false });
}

/**
 * A fresh batch from the flow at the target: how many rows have a non-finite log p̃ or gradient,
 * and the first such row, for the error message.
 */
function probeBatch(flow: Flow, target: Target, n: number): string {
  try {
    const { x, logq } = flow.sampleArrays(n, new RandomStream('train-probe'));
    const { logp, grad } = targetValueAndGrad(target, x, n, flow.dim);
    let badP = 0;
    let badG = 0;
    let badQ = 0;
    let first = -1;
    for (let r = 0; r < n; r++) {
      const p = Number.isFinite(logp[r]);
      let g = true;
      for (let j = 0; j < flow.dim; j++) if (!Number.isFinite(grad[r * flow.dim + j])) g = false;
      const q = Number.isFinite(logq[r]);
      if (!p) badP++;
      else if (!g) badG++;
      if (!q) badQ++;
      if ((!p || !g || !q) && first < 0) first = r;
    }
    if (first < 0) return `a fresh batch of ${n} draws from the flow now gives finite values everywhere`;
    const row = Array.from(x.subarray(first * flow.dim, Math.min((first + 1) * flow.dim, first * flow.dim + 6)), (v) => fmt(v));
    const parts = [
      badP ? `log p̃ is not finite at ${badP} (${pct(badP / n)})` : '',
      badG ? `its gradient is not finite at ${badG}` : '',
      badQ ? `log q is not finite at ${badQ}` : '',
    ].filter(Boolean);
    return (
      `of a fresh batch of ${n} flow draws, ${parts.join(', ')}; e.g. at [${row.join(', ')}${flow.dim > 6 ? ', ...' : ''}] log p̃ = ${fmt(logp[first])}` +
      (badP ? ' (reverse KL needs log p̃ finite wherever the flow puts mass: a target with bounded support must be reparameterised to an unconstrained space, e.g. x = exp(u))' : '')
    );
  } catch (e) {
    return `probing a fresh batch failed: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`;
  }
}

/** Kish ESS / n of the log weights log p̃ − log q on n fresh draws from the flow. */
function freshEssFraction(flow: Flow, target: Target, n: number): number {
  const { x, logq } = flow.sampleArrays(n, new RandomStream('train-plateau-check'));
  const lw = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const v = target.logDensity(x.subarray(r * flow.dim, (r + 1) * flow.dim)) - logq[r];
    lw[r] = Number.isNaN(v) ? -Infinity : v;
  }
  try {
    return kishEss(lw) / n;
  } catch {
    return 0;
  }
}

/** Warnings of a finished training, or a TrainingError when it produced nothing usable. */
export function trainWarnings(result: TrainResult, counters: TrainCounters, flow: Flow, target: Target): Warning[] {
  const out: Warning[] = [];
  const { steps, skippedNonFinite: skipped } = result;
  const share = steps > 0 ? skipped / steps : 0;
  const finiteSteps = steps - skipped;
  if (steps > 0 && result.stoppedBy !== 'abort' && (finiteSteps === 0 || share > TRAIN_WARNING_THRESHOLDS.skippedErrorShare)) {
    const b = counters.firstBad;
    const firstText = b ? `the first bad batch was step ${b.step} (loss ${fmt(b.loss)}, ELBO ${fmt(b.elbo)}, gradient norm ${fmt(b.norm)})` : '';
    throw new TrainingError(
      `training on target ${target.name} ${finiteSteps === 0 ? 'never reached a finite loss' : `skipped ${skipped} of ${steps} steps (${pct(share)})`}: ${firstText}; ${probeBatch(flow, target, Math.min(result.options.batchSize, 1024))}`,
    );
  }
  if (share > TRAIN_WARNING_THRESHOLDS.skippedShare) {
    const b = counters.firstBad;
    out.push(
      makeWarning(
        'skipped-steps',
        `training on ${target.name} skipped ${skipped} of ${steps} steps (${pct(share)}) whose loss or gradient was not finite${b ? ` (first at step ${b.step})` : ''}; the flow learnt from the rest`,
        { skipped, steps, share, ...(b ? { firstBadStep: b.step } : {}) },
      ),
    );
  }
  if (result.stoppedBy === 'plateau') {
    const n = 2048;
    const essFraction = freshEssFraction(flow, target, n);
    if (!(essFraction >= TRAIN_WARNING_THRESHOLDS.plateauEssFraction)) {
      out.push(
        makeWarning(
          'plateau-unconverged',
          `training on ${target.name} stopped on a plateau after ${steps} steps, but on ${n} fresh draws the importance ESS/N is only ${fmt(essFraction)} (below ${TRAIN_WARNING_THRESHOLDS.plateauEssFraction}): the flow is far from the target; try more layers, annealing, or a longer schedule`,
          { essFraction, threshold: TRAIN_WARNING_THRESHOLDS.plateauEssFraction, draws: n, steps },
        ),
      );
    }
  }
  return out;
}
