/**
 * The wasm-kernel path of flows (src/flows/wasmKernels.ts, wasmFlow.ts, wasmTrainer.ts,
 * trainSteps.ts) against the tfjs path it replaces: the same draws and log q, the same gradient
 * for every variable (tf.variableGrads of `forwardFromNoise`), the same training, masked weights
 * kept at zero, block-sparse sampling layers that agree with the dense ones, no heap buffers left behind, no stale packed weights after training, correct
 * after the heap grows, and the tfjs path where the kernels do not apply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { RandomStream } from '../src/core/random.js';
import { createDefaultFlow } from '../src/flows/defaults.js';
import { Flow, baseNoise } from '../src/flows/flow.js';
import { FastIafAffine } from '../src/flows/fastIaf.js';
import { Permute } from '../src/flows/permute.js';
import { madeMasks } from '../src/flows/made.js';
import { trainReverseKL } from '../src/flows/train.js';
import { objectiveGradient } from '../src/flows/trainSteps.js';
import { WasmKernels } from '../src/flows/wasmKernels.js';
import { planFlow, sampleWithKernels } from '../src/flows/wasmFlow.js';
import { BlockedIaf } from '../src/flows/wasmBlocks.js';
import { WasmFlowTrainer } from '../src/flows/wasmTrainer.js';
import { targetValueAndGrad } from '../src/targets/batch.js';
import { banana } from '../src/targets/banana.js';
import { funnel } from '../src/targets/funnel.js';
import { gaussian } from '../src/targets/gaussian.js';
import type { Target } from '../src/targets/target.js';

beforeAll(async () => {
  await initBackend('wasm');
});

afterAll(async () => {
  await initBackend('wasm');
});

/** Moves every weight off its initial value (masked entries stay 0), so gradients are generic. */
function perturb(flow: Flow, seed: number): void {
  tf.tidy(() => flow.trainableVariables().forEach((v, i) => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', seed * 100 + i)))));
  for (const b of flow.bijectors) if (b instanceof FastIafAffine) b.applyMasks();
}

const CASES: { name: string; target: () => Target; flow: () => Flow }[] = [
  { name: 'default flow, banana', target: () => banana(), flow: () => createDefaultFlow(2, { layers: 3, seed: 3 }) },
  { name: 'anchor-style IAF (no affine), funnel 5-D', target: () => funnel({ dim: 5 }), flow: () => createDefaultFlow(5, { layers: 2, affine: 'none', hidden: [24, 16], seed: 4 }) },
  { name: 'default flow, 1-D Gaussian', target: () => gaussian({ dim: 1, mean: [2], scale: [3] }), flow: () => createDefaultFlow(1, { layers: 2, seed: 5 }) },
  { name: 'three hidden layers, 4-D Gaussian', target: () => gaussian({ dim: 4 }), flow: () => createDefaultFlow(4, { layers: 1, hidden: [12, 8, 12], seed: 6 }) },
];

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('wasm kernels', () => {
  it('are available on the wasm backend, and matMul/sigmoid agree with tfjs', () => {
    const k = WasmKernels.get()!;
    expect(k).not.toBeNull();
    const live = k.liveBuffers;
    const [M, K, N] = [7, 5, 3];
    const a = k.alloc(M * K);
    const b = k.alloc(K * N);
    const bias = k.alloc(N);
    const out = k.alloc(M * N);
    const rng = new RandomStream(1);
    const av = Float32Array.from({ length: M * K }, () => rng.normal());
    const bv = Float32Array.from({ length: K * N }, () => rng.normal());
    const cv = Float32Array.from({ length: N }, () => rng.normal());
    k.f32(a).set(av);
    k.f32(b).set(bv);
    k.f32(bias).set(cv);
    k.matMul(a, b, out, M, K, N, bias, true);
    const ref = tf.tidy(() => tf.relu(tf.add(tf.matMul(tf.tensor2d(av, [M, K]), tf.tensor2d(bv, [K, N])), tf.tensor1d(cv))).dataSync());
    expect(maxDiff(k.f32(out), ref)).toBeLessThan(1e-5);
    // Changing b in place is seen by the next call (b goes in under a fresh id: no stale packing).
    k.f32(b).set(bv.map((v) => 2 * v));
    k.matMul(a, b, out, M, K, N);
    const ref2 = tf.tidy(() => tf.matMul(tf.tensor2d(av, [M, K]), tf.tensor2d(bv.map((v) => 2 * v), [K, N])).dataSync());
    expect(maxDiff(k.f32(out), ref2)).toBeLessThan(1e-5);
    k.sigmoid(out, out);
    expect(maxDiff(k.f32(out), Array.from(ref2, (v) => 1 / (1 + Math.exp(-v))))).toBeLessThan(1e-6);
    expect(() => k.matMul(a, b, out, M + 1, K, N)).toThrow(/too small/);
    for (const x of [a, b, bias, out]) k.free(x);
    expect(k.liveBuffers).toBe(live);
  });

  it('only take flows of affine and fused IAF layers', () => {
    const ok = createDefaultFlow(3, { layers: 2 });
    const unfused = createDefaultFlow(3, { layers: 2, fused: false });
    const permuted = new Flow([new FastIafAffine({ dim: 3, hidden: [8] }), Permute.reverse(3)]);
    expect(planFlow(ok)).not.toBeNull();
    expect(planFlow(unfused)).toBeNull();
    expect(planFlow(permuted)).toBeNull();
    // Where they do not apply, sampling and training take the tfjs path and still work.
    const { x, logq } = permuted.sampleArrays(50, 1);
    expect(x.length).toBe(150);
    expect(logq.every(Number.isFinite)).toBe(true);
    for (const f of [ok, unfused, permuted]) f.dispose();
  });
});

describe('wasm flow against the tfjs path', () => {
  for (const c of CASES) {
    it(`${c.name}: same draws, log q and gradient of every variable`, () => {
      const target = c.target();
      const flow = c.flow();
      perturb(flow, 1);
      const D = flow.dim;
      const n = 96;
      const k = WasmKernels.get()!;
      const live = k.liveBuffers;
      // Draws with log q: kernels (sampleArrays) against tfjs (forwardFromNoise on the same noise).
      const fast = sampleWithKernels(flow, n, new RandomStream(9), 1, { chunk: 40 })!; // 40-row passes
      const eps = baseNoise(n, D, new RandomStream(9));
      const ref = flow.forwardFromNoise(eps);
      const rx = ref.x.dataSync();
      const rl = ref.logq.dataSync();
      expect(maxDiff(fast.x, rx)).toBeLessThan(1e-5 * Math.max(1, maxAbs(rx)));
      expect(maxDiff(fast.logq, rl)).toBeLessThan(1e-5 * Math.max(1, maxAbs(rl)));
      // The block-sparse layers agree too (2 and 3 degree groups; a MADE in 1-D or 2-D has one
      // hidden degree, so nothing to block there).
      for (const groups of D >= 3 ? [2, 3] : []) {
        const iaf = flow.bijectors.find((b): b is FastIafAffine => b instanceof FastIafAffine)!;
        const probe = BlockedIaf.fromLayer(WasmKernels.get()!, iaf, groups)!;
        expect(probe.groups).toBe(groups);
        probe.dispose();
        const blocked = sampleWithKernels(flow, n, new RandomStream(9), 1, { chunk: 40, blockedFrom: 0, groups })!;
        expect(maxDiff(blocked.x, rx)).toBeLessThan(1e-5 * Math.max(1, maxAbs(rx)));
        expect(maxDiff(blocked.logq, rl)).toBeLessThan(1e-5 * Math.max(1, maxAbs(rl)));
      }
      tf.dispose([ref.x, ref.logq]);

      // Gradients of the tempered Rényi objective (β = 0.7, α = 0.5) and of the ELBO.
      for (const [beta, alpha] of [
        [1, 1],
        [0.7, 0.5],
      ]) {
        const vars = flow.trainableVariables();
        const { value, grads } = tf.variableGrads(() => {
          const { x, logq } = flow.forwardFromNoise(eps);
          const lw = tf.sub(tf.mul(target.logProb!(x), beta), logq);
          if (alpha === 1) return tf.neg(tf.mean(lw)) as tf.Scalar;
          return tf.div(tf.sub(tf.logSumExp(tf.mul(lw, 1 - alpha)), Math.log(n)), alpha - 1) as tf.Scalar;
        }, vars);
        const trainer = WasmFlowTrainer.create(flow, n, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 })!;
        const obj = trainer.computeGradients(new RandomStream(9), (x, logq) => {
          const { logp, grad } = targetValueAndGrad(target, x, n, D);
          return objectiveGradient(logp, grad, logq, D, beta, alpha);
        });
        expect(obj.loss).toBeCloseTo(value.dataSync()[0], 4);
        const got = trainer.gradientArrays();
        expect(got.length).toBe(vars.length);
        vars.forEach((v, i) => {
          const r = grads[v.name].dataSync();
          // float32 rounding of sums over the batch: relative to the largest entry.
          expect(maxDiff(got[i], r)).toBeLessThanOrEqual(2e-5 * Math.max(1e-3, maxAbs(r)));
        });
        tf.dispose([value, ...Object.values(grads)]);
        trainer.dispose();
      }
      eps.dispose();
      expect(k.liveBuffers).toBe(live);
      flow.dispose();
    });
  }

  it('block-sparse layers skip about a third of the multiply-adds of a 50-D MADE and agree with the dense pass, also with empty groups and reversed orders', () => {
    const k = WasmKernels.get()!;
    const live = k.liveBuffers;
    // The anchors' 50-D layer: hidden 256, 4 groups skip 6 of 16 blocks of W2 and W3.
    const big = new FastIafAffine({ dim: 50, hidden: [256, 256], seed: 1 });
    const b4 = BlockedIaf.fromLayer(k, big, 4)!;
    const dense = 50 * 256 + 256 * 256 + 256 * 100;
    expect(b4.groups).toBe(4);
    expect(b4.multiplyAddsPerRow() / dense).toBeGreaterThan(0.62);
    expect(b4.multiplyAddsPerRow() / dense).toBeLessThan(0.72);
    b4.dispose();
    big.dispose();
    expect(BlockedIaf.fromLayer(k, new FastIafAffine({ dim: 2, hidden: [64, 64] }), 4)).toBeNull(); // one degree only
    for (const [dim, hidden, groups, reversed] of [
      [3, [1], 2, false], // a hidden group with no units
      [6, [9, 5, 7], 3, true],
      [9, [40, 40], 5, false],
    ] as [number, number[], number, boolean][]) {
      const order = Array.from({ length: dim }, (_, i) => (reversed ? dim - i : i + 1));
      const flow = new Flow([new FastIafAffine({ dim, hidden, order, seed: 2 }), new FastIafAffine({ dim, hidden, seed: 3 })]);
      perturb(flow, 2);
      const n = 33;
      const eps = baseNoise(n, dim, new RandomStream(4));
      const ref = flow.forwardFromNoise(eps);
      const blocked = sampleWithKernels(flow, n, new RandomStream(4), 1, { chunk: 16, blockedFrom: 0, groups })!;
      expect(maxDiff(blocked.x, ref.x.dataSync())).toBeLessThan(1e-5 * Math.max(1, maxAbs(ref.x.dataSync())));
      expect(maxDiff(blocked.logq, ref.logq.dataSync())).toBeLessThan(1e-5 * Math.max(1, maxAbs(ref.logq.dataSync())));
      tf.dispose([eps, ref.x, ref.logq]);
      flow.dispose();
    }
    expect(k.liveBuffers).toBe(live);
  });

  it('training on the kernels follows the tfjs path step by step, and keeps masked weights at 0', async () => {
    const target = banana();
    const make = () => createDefaultFlow(2, { layers: 2, hidden: [16, 16], seed: 7 });
    const opts = { steps: 40, batchSize: 64, seed: 3, earlyStopping: false as const, historyEvery: 1 };
    const a = make();
    const b = make();
    const ra = await trainReverseKL(a, target, { ...opts, fastPath: true });
    const rb = await trainReverseKL(b, target, { ...opts, fastPath: false });
    expect(ra.path).toBe('wasm-kernels');
    expect(rb.path).toBe('tfjs');
    // Same noise, same objective: the two differ only by float32 rounding (measured: losses 3e-7
    // relative, weights 6e-7 after 40 steps; the bound leaves 15x for other machines).
    expect(ra.history.length).toBe(rb.history.length);
    ra.history.forEach((h, i) => expect(Math.abs(h.loss - rb.history[i].loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(h.loss))));
    const va = a.trainableVariables();
    const vb = b.trainableVariables();
    va.forEach((v, i) => expect(maxDiff(v.dataSync(), vb[i].dataSync())).toBeLessThan(1e-5));
    // The MADE masks hold: every masked weight is exactly 0 after training on the kernels.
    for (const layer of a.bijectors) {
      if (!(layer instanceof FastIafAffine)) continue;
      const masks = madeMasks(layer.made.order, layer.made.hidden, 2);
      layer.made.denseVariables().forEach(({ weight: w }, l) => {
        const data = w.dataSync();
        masks[l].mask.forEach((m, j) => {
          if (m === 0) expect(data[j] === 0).toBe(true); // (0 or −0)
        });
      });
    }
    a.dispose();
    b.dispose();
  });

  it('after kernel training the tfjs path sees the new weights (no stale packed operators)', async () => {
    const target = gaussian({ dim: 3, mean: [1, -1, 2], scale: [2, 1, 0.5] });
    const flow = createDefaultFlow(3, { layers: 2, hidden: [16, 16], seed: 1 });
    const eps = baseNoise(64, 3, 5);
    // A tfjs forward first: the backend caches packed weights under the variables' buffers.
    const before = flow.forwardFromNoise(eps);
    const r = await trainReverseKL(flow, target, { steps: 50, batchSize: 32, earlyStopping: false, seed: 1 });
    expect(r.path).toBe('wasm-kernels');
    const after = flow.forwardFromNoise(eps);
    const fast = sampleWithKernels(flow, 64, new RandomStream(5))!;
    expect(maxDiff(after.x.dataSync(), before.x.dataSync())).toBeGreaterThan(1e-2);
    expect(maxDiff(fast.x, after.x.dataSync())).toBeLessThan(1e-5 * Math.max(1, maxAbs(after.x.dataSync())));
    expect(maxDiff(fast.logq, after.logq.dataSync())).toBeLessThan(1e-5 * Math.max(1, maxAbs(after.logq.dataSync())));
    // log q at the draws by the sequential inverse (tfjs) agrees with the one-pass log q.
    const lp = flow.logProbArrays(fast.x);
    expect(maxDiff(lp, fast.logq)).toBeLessThan(1e-3);
    tf.dispose([before.x, before.logq, after.x, after.logq, eps]);
    flow.dispose();
  });

  it('the flow holds the current parameters at every progress callback', async () => {
    const flow = createDefaultFlow(2, { layers: 2, hidden: [16, 16], seed: 3 });
    const seen: Float32Array[] = [];
    const direct: number[] = [];
    await trainReverseKL(flow, banana(), {
      steps: 100,
      batchSize: 64,
      progressEvery: 20,
      onProgress: () => {
        seen.push(Float32Array.from(flow.trainableVariables()[2].dataSync()));
        // Sampling inside the callback uses those parameters too (the kernels read the variables).
        direct.push(flow.sampleArrays(1, 7).x[0]);
      },
    });
    expect(seen.length).toBe(6); // steps 20..100, and the end
    for (let i = 1; i < 5; i++) expect(maxDiff(seen[i], seen[i - 1])).toBeGreaterThan(0);
    expect(new Set(direct.slice(0, 5)).size).toBe(5);
    expect(maxDiff(seen[5], flow.trainableVariables()[2].dataSync())).toBe(0);
    flow.dispose();
  });

  it('keeps what was trained when training is aborted, and frees its heap buffers', async () => {
    const k = WasmKernels.get()!;
    const live = k.liveBuffers;
    const flow = createDefaultFlow(2, { layers: 1, hidden: [8], seed: 2 });
    const w0 = flow.trainableVariables().map((v) => Float32Array.from(v.dataSync()));
    const ac = new AbortController();
    const r = await trainReverseKL(flow, banana(), {
      steps: 1e6,
      batchSize: 32,
      signal: ac.signal,
      progressEvery: 10,
      onProgress: (step) => {
        if (step >= 30) ac.abort();
      },
    });
    expect(r.stoppedBy).toBe('abort');
    expect(r.path).toBe('wasm-kernels');
    const moved = flow.trainableVariables().some((v, i) => maxDiff(v.dataSync(), w0[i]) > 1e-3);
    expect(moved).toBe(true);
    expect(k.liveBuffers).toBe(live);
    // A target that throws mid-training: the error surfaces, the buffers are freed.
    let calls = 0;
    const bad: Target = {
      ...banana(),
      logProb: (x) => {
        if (++calls === 5) throw new Error('target exploded');
        return banana().logProb!(x);
      },
    };
    await expect(trainReverseKL(flow, bad, { steps: 20, batchSize: 16 })).rejects.toThrow('target exploded');
    expect(k.liveBuffers).toBe(live);
    flow.dispose();
  });

  it('stays correct when the wasm heap grows during a step', async () => {
    const base = funnel({ dim: 4 });
    const k = WasmKernels.get()!;
    let grow = 0;
    let bytesBefore = 0;
    // Allocating 2x the heap inside the target forces it to grow (and detaches old views).
    const growing: Target = {
      ...base,
      logProb: (x) => {
        if (grow++ === 1) {
          bytesBefore = k.heap().buffer.byteLength;
          tf.dispose(tf.fill([bytesBefore / 2], 1));
        }
        return base.logProb!(x);
      },
    };
    const make = () => createDefaultFlow(4, { layers: 2, hidden: [16, 16], seed: 8 });
    const a = make();
    const b = make();
    const opts = { steps: 6, batchSize: 32, seed: 2, earlyStopping: false as const, historyEvery: 1 };
    const ra = await trainReverseKL(a, growing, { ...opts, fastPath: true });
    const rb = await trainReverseKL(b, base, { ...opts, fastPath: false });
    expect(ra.path).toBe('wasm-kernels');
    expect(k.heap().buffer.byteLength).toBeGreaterThan(bytesBefore);
    ra.history.forEach((h, i) => expect(Math.abs(h.loss - rb.history[i].loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(h.loss))));
    a.dispose();
    b.dispose();
  });

  it('falls back to the tfjs path on the cpu backend', async () => {
    const flow = createDefaultFlow(2, { layers: 1, hidden: [8], seed: 2 });
    try {
      await initBackend('cpu');
      expect(WasmKernels.get()).toBeNull();
      const r = await trainReverseKL(flow, banana(), { steps: 5, batchSize: 16 });
      expect(r.path).toBe('tfjs');
      const { x } = flow.sampleArrays(10, 1);
      expect(x.every(Number.isFinite)).toBe(true);
    } finally {
      await initBackend('wasm');
      flow.dispose();
    }
  });
});
