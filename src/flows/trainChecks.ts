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
 * The spread of the log weights lw = log p̃ − log q is estimated from the history alone: at a
 * plateau the batch ELBOs of the last entries scatter around a flat mean with standard deviation
 * sd(lw) / √batch. For an exact fit sd(lw) = 0; sd(lw) = 1.5 corresponds to a Kish ESS/N of
 * about exp(−1.5²) ≈ 0.1 for log-normal weights.
 */
import type { Target } from '../targets/target.js';
import type { Flow } from './flow.js';
import type { TrainResult } from './train.js';
import { FlowsamplerError } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import { checkMemory, FLOAT32_BYTES, FLOAT64_BYTES, formatBytes } from '../core/memory.js';
import { fmt, makeWarning, pct, type Warning } from '../core/warnings.js';
import { assertTarget, type TargetPath } from '../targets/checkTarget.js';
import { batchPathOf, targetValueAndGrad } from '../targets/batch.js';

/** Training that produced nothing usable (most steps skipped, or no finite loss at all). */
export class TrainingError extends FlowsamplerError {}

export const TRAIN_WARNING_THRESHOLDS = {
  /** Skipped steps above this share: a warning. */
  skippedShare: 0.01,
  /** Skipped steps above this share: an error. */
  skippedErrorShare: 0.5,
  /** Estimated sd of the log weights at a plateau above which the fit is far from converged. */
  plateauLogWeightSd: 1.5,
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

/** Throws before training when a batch of `batchSize` cannot fit (tfjs's wasm heap, then the memory budget). */
export function checkTrainingBatchMemory(dim: number, batchSize: number, hidden: number[], layers: number): void {
  const perLayer = hidden.reduce((a, h) => a + h, 0);
  checkBatchBytes(dim, batchSize, batchSize * bytesPerDraw(dim, Array.from({ length: layers }, () => perLayer)));
}

function checkBatchBytes(dim: number, batchSize: number, bytes: number): void {
  const what = `flow training with batch ${batchSize} in dim ${dim}`;
  if (bytes > WASM_HEAP_BYTES) {
    throw new TrainingError(`${what} would need ${formatBytes(bytes)} of tensor memory per step; tfjs holds at most ${formatBytes(WASM_HEAP_BYTES)}: use a smaller batch`);
  }
  checkMemory(what, bytes, 'a smaller batch');
}

/** Memory and target checks before the first step (see the file header). */
export function checkTrainingStart(flow: Flow, target: Target, batchSize: number, seed: string): void {
  const hidden = flow.bijectors.map((b) => {
    const c = b.getConfig() as { hidden?: unknown };
    return Array.isArray(c.hidden) ? c.hidden.reduce((a: number, h) => a + (Number(h) || 0), 0) : 0;
  });
  checkBatchBytes(flow.dim, batchSize, batchSize * bytesPerDraw(flow.dim, hidden));
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

function sdOfLastElbos(result: TrainResult): { sd: number; entries: number } | null {
  const h = result.history;
  if (h.length < 12) return null;
  const tail = h.slice(-Math.min(40, Math.floor(h.length / 2)));
  const m = tail.reduce((a, e) => a + e.elbo, 0) / tail.length;
  const v = tail.reduce((a, e) => a + (e.elbo - m) ** 2, 0) / (tail.length - 1);
  return { sd: Math.sqrt(v), entries: tail.length };
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
    const s = sdOfLastElbos(result);
    const lwSd = s ? s.sd * Math.sqrt(result.options.batchSize) : NaN;
    if (s && lwSd > TRAIN_WARNING_THRESHOLDS.plateauLogWeightSd) {
      out.push(
        makeWarning(
          'plateau-unconverged',
          `training on ${target.name} stopped on a plateau after ${steps} steps, but the log weights log p̃ − log q still spread with sd ≈ ${fmt(lwSd)} (an exact fit has 0; above ${TRAIN_WARNING_THRESHOLDS.plateauLogWeightSd} importance ESS/N is typically below 0.1): the flow is far from the target; try more layers, annealing, or a longer schedule`,
          { logWeightSd: lwSd, threshold: TRAIN_WARNING_THRESHOLDS.plateauLogWeightSd, steps },
        ),
      );
    }
  }
  return out;
}
