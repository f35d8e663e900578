/**
 * Residual flows (docs/residual-flows.md): `npm run bench -- residual`, or alone
 * `npx tsx bench/residual.ts [--quick] [--parts memory,engines,secondorder,estimators,fixedpoint,banana]`.
 *
 * - memory: one NLL gradient of a chain of K i-RevNet additive-coupling blocks (D = 16, hidden
 *   [256, 256], batch 1024), taped (one tape for the chain) against reconstruction
 *   (src/flows/train/reversibleGradient.ts): peak floats in the heap engine's buffer pool
 *   (activations, tape and scratch; the weights are not pool buffers), the tfjs engine's peak
 *   bytes (tf.profile), time per gradient, and how far the two gradients differ;
 * - engines: i-ResNet MLE steps/s on the heap and the tfjs engine, same flow and batch, for the
 *   exact, series and roulette log-dets (the tfjs engine is the reference that could also
 *   differentiate vector–Jacobian products; the heap engine needs only first-order products
 *   because the layer writes its Jacobian–vector products as forward ops);
 * - secondorder: the road not taken, measured: the same series log-det built the way i-ResNet's
 *   PyTorch code does it, vᵀJ^k by nested vector–Jacobian products (tf.grad inside
 *   tf.variableGrads, i.e. double back-propagation through tfjs), against our formulation
 *   (Jacobian–vector products as forward ops, differentiated once) on both engines;
 * - estimators: cost per call and spread per row of the three log-det estimators of one block
 *   (hidden [64, 64], batch 256) at D = 2, 10, 64;
 * - fixedpoint: iterations and time of the fixed-point inverse (1024 rows, D = 10) against the
 *   Lipschitz bound, for random clipped weights and the aligned worst case;
 * - banana: the residual-flow bar — an i-ResNet flow fitted by maximum likelihood on 10 000 exact
 *   banana draws, held-out NLL − entropy on 10 000 more (entropy log(2πσ₁) + 1), trained with the
 *   exact log-det and with the Russian roulette, evaluated with the exact log-det.
 * Times are wall-clock on whatever machine runs it (record the load: two cores are shared).
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { initBackend } from '../src/core/backend.js';
import { RandomStream } from '../src/core/random.js';
import { Flow } from '../src/flows/flow.js';
import { AdditiveCoupling } from '../src/flows/bijectors/additiveCoupling.js';
import { ActNorm } from '../src/flows/bijectors/affineDiagonal.js';
import { IResNetBlock } from '../src/flows/bijectors/iresnet.js';
import type { ResidualLogDetConfig } from '../src/flows/bijectors/residualLogDet.js';
import { selectEngine } from '../src/flows/engine/select.js';
import { HeapEngine } from '../src/flows/engine/heap/heapEngine.js';
import type { Program } from '../src/flows/engine/engine.js';
import type { Ops } from '../src/flows/engine/ops.js';
import { densityGradientReversible } from '../src/flows/train/reversibleGradient.js';
import { spectralNormKernel } from '../src/flows/kernels/spectralNorm.js';
import { banana } from '../src/targets/banana.js';
import { heldOutNll, trainMle } from '../test/helpers/mle.js';
import { isMain, optionValue } from './standalone.js';

export interface ResidualBenchOptions {
  quick?: boolean;
  parts?: string[];
  log?: (line: string) => void;
}

function points(n: number, d: number, seed: string, sd = 1): Float64Array {
  const a = new RandomStream(seed).fillNormal(new Float64Array(n * d));
  for (let i = 0; i < a.length; i++) a[i] *= sd;
  return a;
}

function randomize(flow: Flow, seed: string, sd: number): void {
  const rng = new RandomStream(seed);
  for (const p of flow.trainableParams()) flow.store.set(p, Float32Array.from({ length: p.size }, () => sd * rng.normal()));
}

function best(times: number[]): number {
  return Math.min(...times);
}

async function benchMemory(quick: boolean, log: (l: string) => void) {
  const D = 16;
  const n = 1024;
  const hidden = [256, 256];
  const rows = [];
  const heap = selectEngine('auto');
  for (const K of quick ? [2, 8] : [2, 4, 8, 16, 32]) {
    const bij = [new ActNorm({ dim: D }), ...Array.from({ length: K }, (_, k) => new AdditiveCoupling({ dim: D, hidden, seed: k }))];
    const flow = new Flow(bij);
    randomize(flow, `mem${K}`, 0.05);
    const x = points(n, D, 'mem-x', 2);
    const cot = new Float64Array(n).fill(-1 / n);
    const program = flow.densityProgram();
    const taped = () => flow.activeEngine().differentiate(flow.store, program, [{ values: x, rows: n, cols: D }], () => [null, cot]);
    const rev = () => densityGradientReversible(flow, x, n, () => cot);
    taped();
    rev();
    const row: Record<string, number> = { blocks: K, params: flow.parameterCount() };
    if (heap instanceof HeapEngine) {
      heap.pool.resetPeak();
      taped();
      row.tapedPeakMB = (heap.pool.peakFloats - heap.pool.floatsOut) * 4 / 2 ** 20;
      heap.pool.resetPeak();
      rev();
      row.reversiblePeakMB = (heap.pool.peakFloats - heap.pool.floatsOut) * 4 / 2 ** 20;
    }
    const tt: number[] = [];
    const tr: number[] = [];
    for (let rep = 0; rep < (quick ? 2 : 5); rep++) {
      let t0 = performance.now();
      const a = taped();
      tt.push(performance.now() - t0);
      t0 = performance.now();
      const b = rev();
      tr.push(performance.now() - t0);
      if (rep === 0) {
        let worst = 0;
        let scale = 0;
        for (const p of flow.trainableParams()) {
          const ga = a.paramGrads.get(p)!;
          const gb = b.paramGrads.get(p)!;
          for (let k = 0; k < ga.length; k++) {
            worst = Math.max(worst, Math.abs(ga[k] - gb[k]));
            scale = Math.max(scale, Math.abs(ga[k]));
          }
        }
        row.gradientRelDiff = worst / scale;
        row.reconstructionError = b.reconstructionError;
      }
    }
    row.tapedMs = best(tt);
    row.reversibleMs = best(tr);
    // The tfjs engine's own high-water mark, for the same two computations.
    flow.engine = 'tfjs';
    row.tfjsTapedPeakMB = (await tf.profile(() => void taped())).peakBytes / 2 ** 20;
    row.tfjsReversiblePeakMB = (await tf.profile(() => void rev())).peakBytes / 2 ** 20;
    flow.dispose();
    log(`memory: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  return { dim: D, batch: n, hidden, rows };
}

function ironFlow(K: number, hidden: number[], logDet: ResidualLogDetConfig, lipschitz = 0.9): Flow {
  const bij = [];
  for (let k = 0; k < K; k++) {
    bij.push(new IResNetBlock({ dim: 2, hidden, lipschitz, logDet, seed: `b${k}` }));
    bij.push(new ActNorm({ dim: 2 }));
  }
  return new Flow(bij);
}

function benchEngines(quick: boolean, log: (l: string) => void) {
  const data = banana().sampleExact!(4096, new RandomStream(1));
  const rows = [];
  for (const logDet of [{ method: 'exact' }, { method: 'series', terms: 5 }, { method: 'roulette' }] as ResidualLogDetConfig[]) {
    const row: Record<string, number | string> = { logDet: logDet.method };
    for (const engine of ['heap', 'tfjs'] as const) {
      const flow = ironFlow(4, [64, 64], logDet);
      flow.engine = engine;
      if (engine === 'heap' && flow.activeEngine().name !== 'heap') continue;
      flow.initializeFromData(data);
      trainMle(flow, data, { steps: 3, batchSize: 256, learningRate: 1e-3, seed: 1 });
      const r = trainMle(flow, data, { steps: quick ? 10 : 40, batchSize: 256, learningRate: 1e-3, seed: 2 });
      row[`${engine}StepsPerSec`] = r.steps / r.seconds;
      flow.dispose();
    }
    if (typeof row.heapStepsPerSec === 'number') row.heapOverTfjs = (row.heapStepsPerSec as number) / (row.tfjsStepsPerSec as number);
    log(`engines (4 blocks, hidden [64, 64], batch 256): ${JSON.stringify(row)}`);
    rows.push(row);
  }
  return rows;
}

/** ms per training step of one block's series log-det NLL: nested VJPs (tfjs) vs ours. */
function benchSecondOrder(quick: boolean, log: (l: string) => void) {
  const n = 256;
  const D = 2;
  const terms = 5;
  const b = new IResNetBlock({ dim: D, hidden: [64, 64], lipschitz: 0.9, logDet: { method: 'series', terms }, seed: 1 });
  const flow = new Flow([b]);
  const x = points(n, D, 'so-x');
  const net = b.net;
  const vars = flow.trainableParams().map((p) => tf.variable(tf.tensor2d(flow.store.data(p).slice(), [p.rows, p.cols])));
  const ests = net.weights.map((p, l) => net.estimate(l, flow.store.data(p)));
  const xT = tf.tensor2d(Float32Array.from(x), [n, D]);
  const rng = new RandomStream('so-v');
  const v = tf.tensor2d(Float32Array.from({ length: n * D }, () => (rng.uniform() < 0.5 ? -1 : 1)), [n, D]);
  const loss = () => {
    const W = net.weights.map((p, l) => spectralNormKernel.tfjs([vars[2 * l] as tf.Tensor2D, tf.tensor2d(Float32Array.from(ests[l].u), [1, p.rows]), tf.tensor2d(Float32Array.from(ests[l].v), [1, p.cols])], { c: net.layerBound })[0]);
    const g = (z: tf.Tensor2D) => {
      let a = z;
      W.forEach((w, l) => {
        const h = tf.add(tf.matMul(a, w), vars[2 * l + 1]) as tf.Tensor2D;
        a = l < W.length - 1 ? (tf.div(tf.mul(h, tf.sigmoid(h)), 1.1) as tf.Tensor2D) : h;
      });
      return a;
    };
    let w: tf.Tensor2D = v;
    let ld: tf.Tensor = tf.zeros([n]);
    for (let k = 1; k <= terms; k++) {
      const wk = w;
      // wᵀJ by a vector–Jacobian product; its gradient in the weights is second order.
      w = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(g(z as tf.Tensor2D), wk)))(xT) as tf.Tensor2D;
      ld = tf.add(ld, tf.mul(tf.sum(tf.mul(w, v), 1), (k % 2 ? 1 : -1) / k));
    }
    const y = tf.add(xT, g(xT));
    return tf.mean(tf.sub(tf.mul(tf.sum(tf.square(y), 1), 0.5), ld)) as tf.Scalar;
  };
  const reps = quick ? 2 : 5;
  const nested: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(loss);
    tf.dispose([value, ...Object.values(grads)]);
    nested.push(performance.now() - t0);
  }
  tf.dispose([...vars, xT, v]);
  const row: Record<string, number> = { batch: n, dim: D, terms, nestedVjpTfjsMs: best(nested.slice(1)) };
  const cot = new Float64Array(n).fill(-1 / n);
  for (const e of ['heap', 'tfjs'] as const) {
    flow.engine = e;
    const prog = flow.densityProgram();
    const t: number[] = [];
    for (let r = 0; r < reps + 1; r++) {
      const t0 = performance.now();
      flow.activeEngine().differentiate(flow.store, prog, [{ values: x, rows: n, cols: D }], () => [null, cot]);
      t.push(performance.now() - t0);
    }
    row[`jvpForward${e === 'heap' ? 'Heap' : 'Tfjs'}Ms`] = best(t.slice(1));
  }
  row.nestedOverOursTfjs = row.nestedVjpTfjsMs / row.jvpForwardTfjsMs;
  flow.dispose();
  log(`second order (one block, hidden [64, 64], series ${terms} terms): ${JSON.stringify(row)}`);
  return row;
}

function benchEstimators(quick: boolean, log: (l: string) => void) {
  const rows = [];
  const n = 256;
  for (const D of [2, 10, 64]) {
    const x = points(n, D, `est${D}`);
    for (const logDet of [{ method: 'exact' }, { method: 'series', terms: 10 }, { method: 'roulette' }] as ResidualLogDetConfig[]) {
      const b = new IResNetBlock({ dim: D, hidden: [64, 64], lipschitz: 0.9, logDet, seed: 'est' });
      const flow = new Flow([b]);
      randomize(flow, `est${D}`, 1 / Math.sqrt(D));
      const program: Program = <V>(ops: Ops<V>, [v]: V[]) => [b.inverse(ops, v).logDet];
      const engine = flow.activeEngine();
      const cot = new Float64Array(n).fill(1 / n);
      const reps = quick ? 3 : 20;
      const fwd: number[] = [];
      const grad: number[] = [];
      const per: number[] = [];
      for (let r = 0; r < reps; r++) {
        let t0 = performance.now();
        const [ld] = engine.evaluate(flow.store, program, [{ values: x, rows: n, cols: D }]);
        fwd.push(performance.now() - t0);
        if (r === 0) per.push(...ld);
        t0 = performance.now();
        engine.differentiate(flow.store, program, [{ values: x, rows: n, cols: D }], () => [cot]);
        grad.push(performance.now() - t0);
      }
      // Spread of the estimate at one point: the same row repeated.
      const x0 = new Float64Array(n * D);
      for (let r = 0; r < n; r++) x0.set(x.subarray(0, D), r * D);
      const [l0] = engine.evaluate(flow.store, program, [{ values: x0, rows: n, cols: D }]);
      const m = l0.reduce((s, v) => s + v, 0) / n;
      const sd = Math.sqrt(l0.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1));
      const row = { dim: D, logDet: logDet.method, evaluateMs: best(fwd), gradientMs: best(grad), sdPerRow: sd, meanAtRow0: m };
      log(`estimators (batch ${n}): ${JSON.stringify(row)}`);
      rows.push(row);
      flow.dispose();
    }
  }
  return rows;
}

function benchFixedPoint(quick: boolean, log: (l: string) => void) {
  const D = 10;
  const n = 1024;
  const rows = [];
  for (const L of quick ? [0.5, 0.9] : [0.5, 0.7, 0.9, 0.95, 0.99]) {
    for (const kind of ['random', 'aligned'] as const) {
      const b = new IResNetBlock({ dim: D, hidden: kind === 'aligned' ? [D] : [64, 64], lipschitz: L, activation: kind === 'aligned' ? 'elu' : 'lipswish', seed: 'fp' });
      const flow = new Flow([b]);
      if (kind === 'random') randomize(flow, 'fp', 1);
      else {
        const w = points(1, D * D, 'fp-w');
        const [W1, W2] = b.net.weights;
        flow.store.set(W1, w);
        flow.store.set(W2, Float64Array.from({ length: D * D }, (_, k) => w[(k % D) * D + Math.floor(k / D)]));
        flow.store.set(b.net.biases[0], new Float64Array(D).fill(20));
      }
      const t0 = performance.now();
      flow.sampleArrays(n, 1);
      const ms = performance.now() - t0;
      const fp = b.lastFixedPoint!;
      const row = { lipschitz: L, weights: kind, iterations: fp.iterations, cap: fp.cap, errorBound: fp.errorBound, roundOff: fp.roundOff, converged: fp.converged, msPer1024: ms };
      log(`fixed point (D ${D}): ${JSON.stringify(row)}`);
      rows.push(row);
      flow.dispose();
    }
  }
  return rows;
}

/** The banana bar's configuration (test/quality/residual.quality.test.ts runs the same). */
export const BANANA_CONFIG = { blocks: 8, hidden: [64, 64], lipschitz: 0.9, steps: 3000, batchSize: 256, learningRate: 3e-3 } as const;

/** Trains the i-ResNet banana flow of BANANA_CONFIG; returns held-out NLL − entropy and more. */
export function fitIResNetBanana(logDet: ResidualLogDetConfig, seed: number, steps: number = BANANA_CONFIG.steps) {
  const t = banana();
  const train = t.sampleExact!(10_000, new RandomStream(`banana-train/${seed}`));
  const test = t.sampleExact!(10_000, new RandomStream(`banana-test/${seed}`));
  const entropy = t.logZ! + 1;
  const flow = ironFlow(BANANA_CONFIG.blocks, [...BANANA_CONFIG.hidden], logDet, BANANA_CONFIG.lipschitz);
  flow.initializeFromData(train);
  const r = trainMle(flow, train, { steps, batchSize: BANANA_CONFIG.batchSize, learningRate: BANANA_CONFIG.learningRate, seed });
  for (const b of flow.bijectors) if (b instanceof IResNetBlock) b.setLogDet({ method: 'exact' });
  const h = heldOutNll(flow, test);
  // Sampling goes through the fixed point of every block.
  const t0 = performance.now();
  flow.sampleArrays(10_000, seed);
  const sampleSeconds = (performance.now() - t0) / 1000;
  const iterations = flow.bijectors.filter((b): b is IResNetBlock => b instanceof IResNetBlock).map((b) => b.lastFixedPoint!.iterations);
  flow.dispose();
  return { logDet: logDet.method, seed, steps: r.steps, skipped: r.skipped, trainSeconds: r.seconds, stepsPerSec: r.steps / r.seconds, heldOutNll: h.nll, se: h.se, entropy, gap: h.nll - entropy, sampleSeconds, fixedPointIterations: iterations };
}

function benchBanana(quick: boolean, log: (l: string) => void) {
  const rows = [];
  for (const logDet of [{ method: 'exact' }, { method: 'roulette' }] as ResidualLogDetConfig[]) {
    const row = fitIResNetBanana(logDet, 1, quick ? 100 : BANANA_CONFIG.steps);
    log(`banana (${JSON.stringify(BANANA_CONFIG)}): ${JSON.stringify(row)}`);
    rows.push(row);
  }
  return { config: BANANA_CONFIG, rows };
}

export async function benchResidual(options: ResidualBenchOptions = {}) {
  const quick = options.quick ?? false;
  const log = options.log ?? ((l: string) => console.log(l));
  const parts = options.parts ?? ['memory', 'engines', 'secondorder', 'estimators', 'fixedpoint', 'banana'];
  const out: Record<string, unknown> = { loadAverageStart: loadavg()[0] };
  if (parts.includes('memory')) out.memory = await benchMemory(quick, log);
  if (parts.includes('engines')) out.engines = benchEngines(quick, log);
  if (parts.includes('secondorder')) out.secondOrder = benchSecondOrder(quick, log);
  if (parts.includes('estimators')) out.estimators = benchEstimators(quick, log);
  if (parts.includes('fixedpoint')) out.fixedPoint = benchFixedPoint(quick, log);
  if (parts.includes('banana')) out.banana = benchBanana(quick, log);
  out.loadAverageEnd = loadavg()[0];
  return out;
}

if (isMain(import.meta.url)) {
  await initBackend();
  const parts = optionValue('--parts')?.split(',');
  const res = await benchResidual({ quick: process.argv.includes('--quick'), parts });
  const { writeResults } = await import('./run.js');
  if (!parts) console.log(`-> ${await writeResults('residual', res)}`);
}
