/**
 * Multi-scale against single-scale at the same parameter count, on a 64-D density with known
 * entropy (docs/residual-flows.md): `npm run bench -- multiscale`, or alone
 * `npx tsx bench/multiScale.ts [--quick] [--steps N] [--input-bound C|none]`.
 *
 * Data: "rotated bananas", x = Q u with u 32 independent 2-D bananas (x₁ ~ N(0, 1),
 * x₂ | x₁ ~ N(1 − x₁², 1)) and Q a fixed random rotation of R^64: non-Gaussian in every
 * direction, exact draws, and entropy exactly 32·(log 2π + 1) (a rotation has |det| = 1), so
 * held-out NLL − entropy is the distance to the best possible density estimator. 10 000 draws to
 * train, 10 000 to test; a full-covariance Gaussian fitted to the training draws is the baseline.
 *
 * Flows: `createMultiScaleFlow(64)` (4 levels on 64, 32, 16, 8 variables, 4 steps of [ActNorm,
 * LU, affine coupling] each) and the single-scale coupling flow with the same 16 steps, all on
 * 64 variables, its hidden width chosen to match the parameter count. Both trained by the same
 * minibatch maximum-likelihood loop (test/helpers/mle.ts: Adam, batch 256, cosine schedule),
 * for the same number of steps. Every conditioner sees its inputs through the density flow's soft
 * bound (4; `--input-bound none` for the unbounded layers). Reported: held-out NLL − entropy, training steps/s, log q
 * evaluations/s and draws/s.
 */
import { loadavg } from 'node:os';
import { initBackend } from '../src/core/backend.js';
import { RandomStream } from '../src/core/random.js';
import { randomRotation } from '../src/targets/gaussian.js';
import { createFamilyFlow, createMultiScaleFlow } from '../src/flows/builder.js';
import type { Flow } from '../src/flows/flow.js';
import { heldOutNll, trainMle } from '../test/helpers/mle.js';
import { isMain, optionValue } from './standalone.js';

export const DIM = 64;
/** Entropy of the rotated bananas: 32 pairs of log(2π σ₁) + 1 with σ₁ = 1. */
export const ROTATED_BANANAS_ENTROPY = (DIM / 2) * (Math.log(2 * Math.PI) + 1);

/** n exact draws of the 64-D rotated bananas (the rotation fixed by its own seed). */
export function rotatedBananas(n: number, seed: string): Float64Array {
  const Q = randomRotation(DIM, new RandomStream('rotated-bananas/Q'));
  const rng = new RandomStream(seed);
  const u = new Float64Array(DIM);
  const x = new Float64Array(n * DIM);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < DIM / 2; k++) {
      const a = rng.normal();
      u[2 * k] = a;
      u[2 * k + 1] = 1 - a * a + rng.normal();
    }
    for (let i = 0; i < DIM; i++) {
      let s = 0;
      for (let j = 0; j < DIM; j++) s += Q[i * DIM + j] * u[j];
      x[r * DIM + i] = s;
    }
  }
  return x;
}

/** Held-out NLL of a full-covariance Gaussian fitted to `train` (Cholesky, float64). */
export function gaussianBaseline(train: Float64Array, test: Float64Array, D: number): number {
  const n = train.length / D;
  const mean = new Float64Array(D);
  for (let r = 0; r < n; r++) for (let j = 0; j < D; j++) mean[j] += train[r * D + j] / n;
  const cov = new Float64Array(D * D);
  for (let r = 0; r < n; r++) for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) cov[i * D + j] += ((train[r * D + i] - mean[i]) * (train[r * D + j] - mean[j])) / (n - 1);
  const L = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = cov[i * D + j];
      for (let k = 0; k < j; k++) s -= L[i * D + k] * L[j * D + k];
      L[i * D + j] = i === j ? Math.sqrt(s) : s / L[j * D + j];
    }
  }
  let logDet = 0;
  for (let i = 0; i < D; i++) logDet += Math.log(L[i * D + i]);
  const m = test.length / D;
  const y = new Float64Array(D);
  let nll = 0;
  for (let r = 0; r < m; r++) {
    let q = 0;
    for (let i = 0; i < D; i++) {
      let s = test[r * D + i] - mean[i];
      for (let k = 0; k < i; k++) s -= L[i * D + k] * y[k];
      y[i] = s / L[i * D + i];
      q += y[i] * y[i];
    }
    nll += (0.5 * q + logDet + 0.5 * D * Math.log(2 * Math.PI)) / m;
  }
  return nll;
}

/** The single-scale hidden width whose parameter count is closest to `target`. */
export function matchedWidth(target: number, seed: number | string): { hidden: number; params: number } {
  let best = { hidden: 8, params: 0 };
  for (let h = 8; h <= 512; h += 4) {
    const f = singleScale([h, h], seed);
    const params = f.parameterCount();
    f.dispose();
    if (Math.abs(params - target) < Math.abs(best.params - target)) best = { hidden: h, params };
    if (params > target) break;
  }
  return best;
}

function singleScale(hidden: number[], seed: number | string, inputBound?: number): Flow {
  return createFamilyFlow('coupling', DIM, { layers: 16, hidden, lu: true, actnorm: true, affine: 'none', inputBound, seed });
}

function throughput(flow: Flow, test: Float64Array) {
  let t0 = performance.now();
  flow.logProbArrays(test);
  const logProbPerSec = test.length / DIM / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  flow.sampleArrays(10_000, 7);
  const samplesPerSec = 10_000 / ((performance.now() - t0) / 1000);
  return { logProbPerSec, samplesPerSec };
}

export interface MultiScaleBenchOptions {
  quick?: boolean;
  steps?: number;
  hidden?: number;
  /** Soft bound of the conditioners' inputs in both flows (default 4, as the density flow; null for none). */
  inputBound?: number | null;
  log?: (line: string) => void;
}

export async function benchMultiScale(options: MultiScaleBenchOptions = {}) {
  const log = options.log ?? ((l: string) => console.log(l));
  const steps = options.steps ?? (options.quick ? 150 : 4000);
  const h = options.hidden ?? 128;
  const inputBound = options.inputBound === null ? undefined : (options.inputBound ?? 4);
  const train = rotatedBananas(10_000, 'rotated-bananas/train');
  const test = rotatedBananas(10_000, 'rotated-bananas/test');
  const gaussian = gaussianBaseline(train, test, DIM);
  log(`rotated bananas (64-D): entropy ${ROTATED_BANANAS_ENTROPY.toFixed(3)}, Gaussian baseline NLL ${gaussian.toFixed(3)} (gap ${(gaussian - ROTATED_BANANAS_ENTROPY).toFixed(3)})`);
  const ms = createMultiScaleFlow(DIM, { hidden: [h, h], stepsPerLevel: 4, inputBound, seed: 1 });
  const match = matchedWidth(ms.parameterCount(), 1);
  const ss = singleScale([match.hidden, match.hidden], 1, inputBound);
  const rows = [];
  for (const [name, flow, hidden] of [
    ['multi-scale', ms, h],
    ['single-scale', ss, match.hidden],
  ] as const) {
    flow.initializeFromData(train);
    const r = trainMle(flow, train, { steps, batchSize: 256, learningRate: 1e-3, seed: 2 });
    const held = heldOutNll(flow, test);
    // The mean is at the mercy of a few test points outside the training data, where coupling
    // layers extrapolate exponentially; the median and the share of such points say the rest.
    const nll = Array.from(flow.logProbArrays(test), (v) => -v).sort((a, b) => a - b);
    const medianNll = nll[Math.floor(nll.length / 2)];
    const farShare = nll.filter((v) => v > ROTATED_BANANAS_ENTROPY + 100).length / nll.length;
    const row = {
      flow: name,
      hidden,
      params: flow.parameterCount(),
      steps: r.steps,
      skipped: r.skipped,
      trainSeconds: r.seconds,
      stepsPerSec: r.steps / r.seconds,
      heldOutNll: held.nll,
      se: held.se,
      gap: held.nll - ROTATED_BANANAS_ENTROPY,
      medianNll,
      medianGap: medianNll - ROTATED_BANANAS_ENTROPY,
      farShare,
      ...throughput(flow, test),
      loadAverage: loadavg()[0],
    };
    log(`${name}: ${JSON.stringify(row)}`);
    rows.push(row);
    flow.dispose();
  }
  return { dim: DIM, entropy: ROTATED_BANANAS_ENTROPY, gaussianNll: gaussian, steps, batchSize: 256, learningRate: 1e-3, inputBound: inputBound ?? null, rows };
}

if (isMain(import.meta.url)) {
  await initBackend();
  const steps = optionValue('--steps');
  const bound = optionValue('--input-bound');
  const res = await benchMultiScale({ quick: process.argv.includes('--quick'), steps: steps ? Number(steps) : undefined, inputBound: bound === 'none' ? null : bound ? Number(bound) : undefined });
  const { writeResults } = await import('./run.js');
  if (!process.argv.includes('--quick')) console.log(`-> ${await writeResults('multiscale', res)}`);
}
