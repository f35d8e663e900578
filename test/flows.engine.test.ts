/**
 * The engines as a whole (layer-level agreement is the bijector contract's job): training on the
 * heap engine follows the tfjs engine step by step for every family; block-sparse sampling
 * agrees with the dense pass and really skips work; weights written by training are the ones
 * the next pass uses (no stale packed operands); correct when the wasm heap grows mid-step;
 * buffers all given back, also on abort and on errors; the tfjs engine where the heap cannot run;
 * Adam against a float64 scalar Adam; the flow's input gradients (forwardTape, logProbGrad)
 * against finite differences.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { RandomStream } from '../src/core/random.js';
import { createDefaultFlow, createFamilyFlow, type FlowFamily } from '../src/flows/builder.js';
import { Flow } from '../src/flows/flow.js';
import { Autoregressive } from '../src/flows/bijectors/autoregressive.js';
import { trainReverseKL } from '../src/flows/train/reverseKL.js';
import { Adam } from '../src/flows/train/adam.js';
import { HeapKernels } from '../src/flows/engine/heap/kernels.js';
import { selectEngine } from '../src/flows/engine/select.js';
import { HeapEngine } from '../src/flows/engine/heap/heapEngine.js';
import { blockedMlpForward } from '../src/flows/engine/heap/blockedMlp.js';
import { hiddenDegrees } from '../src/flows/nn/made.js';
import { banana } from '../src/targets/banana.js';
import { funnel } from '../src/targets/funnel.js';
import { gaussian } from '../src/targets/gaussian.js';
import type { Target } from '../src/targets/target.js';
import { expectClose, randomizeParams } from './helpers/bijectorContract.js';

beforeAll(async () => {
  await initBackend('wasm');
});

afterAll(async () => {
  await initBackend('wasm');
});

function heap(): HeapEngine {
  const e = selectEngine('auto');
  expect(e).toBeInstanceOf(HeapEngine);
  return e as HeapEngine;
}

describe('heap kernels', () => {
  it('are available on the wasm backend, and matMul agrees with tfjs', () => {
    const k = HeapKernels.get()!;
    expect(k).not.toBeNull();
    const rng = new RandomStream(1);
    const [M, K, N] = [37, 19, 23];
    const a = new Float64Array(M * K);
    const b = new Float64Array(K * N);
    const bias = new Float64Array(N);
    rng.fillNormal(a);
    rng.fillNormal(b);
    rng.fillNormal(bias);
    const [ab, bb, biasb, out] = [k.alloc(M * K), k.alloc(K * N), k.alloc(N), k.alloc(M * N)];
    k.f32(ab).set(a);
    k.f32(bb).set(b);
    k.f32(biasb).set(bias);
    k.matMul(ab, bb, out, M, K, N, biasb, true);
    const want = tf.tidy(() => tf.relu(tf.add(tf.matMul(tf.tensor2d(Float32Array.from(a), [M, K]), tf.tensor2d(Float32Array.from(b), [K, N])), tf.tensor1d(Float32Array.from(bias)))).dataSync());
    expectClose(k.f32(out), want, 1e-6, 'matMul + bias + relu');
    // A changed b under a bumped version is re-packed: the product follows the new values.
    k.f32(bb).fill(0);
    bb.version++;
    k.matMul(ab, bb, out, M, K, N, biasb, false);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) expect(k.f32(out)[i * N + j]).toBeCloseTo(Math.fround(bias[j]), 6);
    for (const x of [ab, bb, biasb, out]) k.free(x);
  });
});

// Steps compared: a spline's parameter gradient jumps where a draw crosses the box edge ±B or a
// knot, so float32-level differences between engines grow into different trajectories after
// ~12 steps (measured); the per-step gradients agree to 1e-5 (the bijector contract).
const FAMILIES: { family: FlowFamily; target: () => Target; dim: number; steps: number }[] = [
  { family: 'iaf', target: () => banana(), dim: 2, steps: 25 },
  { family: 'maf', target: () => funnel({ dim: 4 }), dim: 4, steps: 25 },
  { family: 'coupling', target: () => funnel({ dim: 4 }), dim: 4, steps: 25 },
  { family: 'spline', target: () => banana(), dim: 2, steps: 10 },
];

describe('training on the heap engine', () => {
  it.each(FAMILIES)('$family: follows the tfjs engine step by step (loss and every weight)', async ({ family, target, dim, steps }) => {
    const make = () => createFamilyFlow(family, dim, { layers: 2, hidden: [16, 16], seed: 3 });
    const a = make();
    const b = make();
    b.engine = 'tfjs';
    const opts = { steps, batchSize: 64, seed: 2, earlyStopping: false as const, historyEvery: 1, learningRate: 3e-3 };
    const ra = await trainReverseKL(a, target(), opts);
    const rb = await trainReverseKL(b, target(), opts);
    expect(ra.path).toBe('heap');
    expect(rb.path).toBe('tfjs');
    expect(ra.history.length).toBe(rb.history.length);
    ra.history.forEach((h, i) => expect(Math.abs(h.loss - rb.history[i].loss), `step ${h.step}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(h.loss))));
    // Adam moves a weight by at most ~lr per step whatever the gradient's size, and it normalises
    // each entry, so tiny gradient entries that differ in their last digits can move differently:
    // the weights must agree to 0.1 % of the largest possible movement.
    const bound = 1e-3 * opts.learningRate * steps;
    a.trainableParams().forEach((p, i) => {
      const va = p.values();
      const vb = b.trainableParams()[i].values();
      let d = 0;
      for (let k = 0; k < va.length; k++) d = Math.max(d, Math.abs(va[k] - vb[k]));
      expect(d, `${family} ${p.name} after training`).toBeLessThan(bound);
    });
    // Masked MADE weights are still exactly zero.
    for (const p of a.trainableParams()) {
      if (!p.gradMask) continue;
      const m = p.gradMask.init;
      const v = p.values();
      for (let k = 0; k < v.length; k++) if (m[k] === 0) expect(v[k]).toBe(0);
    }
    a.dispose();
    b.dispose();
  });

  it('the next pass uses the trained weights (no stale packed operands): heap and tfjs sample alike after training', async () => {
    const flow = createDefaultFlow(3, { layers: 2, hidden: [16, 16], seed: 4 });
    const before = flow.sampleArrays(64, 9);
    await trainReverseKL(flow, gaussian({ dim: 3, mean: [1, -1, 2] }), { steps: 30, batchSize: 64, earlyStopping: false });
    const afterHeap = flow.sampleArrays(64, 9);
    flow.engine = 'tfjs';
    const afterTf = flow.sampleArrays(64, 9);
    flow.engine = 'auto';
    expectClose(afterHeap.x, afterTf.x, 1e-5, 'draws');
    expectClose(afterHeap.logq, afterTf.logq, 1e-5, 'log q');
    expect(Math.abs(afterHeap.x[0] - before.x[0])).toBeGreaterThan(1e-3);
    flow.dispose();
  });

  it('gives every buffer back, also when training is aborted or the target throws, and keeps what was trained', async () => {
    const e = heap();
    const flow = createDefaultFlow(2, { layers: 2, hidden: [16], seed: 5 });
    const out0 = e.pool.outstanding;
    const ctl = new AbortController();
    const init = flow.trainableParams()[2].values().slice();
    const r = await trainReverseKL(flow, banana(), { steps: 1000, batchSize: 32, signal: ctl.signal, onProgress: (s) => s >= 50 && ctl.abort(), progressEvery: 10 });
    expect(r.stoppedBy).toBe('abort');
    expect(e.pool.outstanding).toBe(out0);
    expect(Math.abs(flow.trainableParams()[2].values()[0] - init[0]) + Math.abs(flow.trainableParams()[2].values()[1] - init[1])).toBeGreaterThan(0);
    let calls = 0;
    const bad: Target = {
      ...banana(),
      logProb: (x) => {
        if (++calls === 5) throw new Error('target exploded');
        return banana().logProb!(x);
      },
    };
    await expect(trainReverseKL(flow, bad, { steps: 20, batchSize: 16 })).rejects.toThrow('target exploded');
    expect(e.pool.outstanding).toBe(out0);
    flow.dispose();
  });

  it('stays correct when the wasm heap grows during a step', async () => {
    const base = funnel({ dim: 4 });
    const k = HeapKernels.get()!;
    let calls = 0;
    let bytesBefore = 0;
    // Allocating more than the heap inside the target forces it to grow (detaching old views).
    const growing: Target = {
      ...base,
      logProb: (x) => {
        if (calls++ === 1) {
          bytesBefore = k.heap().buffer.byteLength;
          tf.dispose(tf.fill([bytesBefore / 2], 1));
        }
        return base.logProb!(x);
      },
    };
    const make = () => createDefaultFlow(4, { layers: 2, hidden: [16, 16], seed: 8 });
    const a = make();
    const b = make();
    b.engine = 'tfjs';
    const opts = { steps: 6, batchSize: 32, seed: 2, earlyStopping: false as const, historyEvery: 1 };
    const ra = await trainReverseKL(a, growing, opts);
    const rb = await trainReverseKL(b, base, opts);
    expect(k.heap().buffer.byteLength).toBeGreaterThan(bytesBefore);
    ra.history.forEach((h, i) => expect(Math.abs(h.loss - rb.history[i].loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(h.loss))));
    a.dispose();
    b.dispose();
  });

  it('runs on the tfjs engine on the cpu backend', async () => {
    const flow = createDefaultFlow(2, { layers: 1, hidden: [8], seed: 2 });
    try {
      await initBackend('cpu');
      expect(HeapKernels.get()).toBeNull();
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

describe('block-sparse sampling', () => {
  it('skips the zero blocks of a 20-D MADE and agrees with the dense pass, also for reversed orders', () => {
    for (const order of ['natural', 'reversed'] as const) {
      const D = 20;
      const ord = Array.from({ length: D }, (_, i) => (order === 'natural' ? i + 1 : D - i));
      const flow = new Flow([new Autoregressive({ dim: D, hidden: [128, 128], order: ord, seed: 1 })]);
      randomizeParams(flow, 'blocks', 0.2);
      const e = heap();
      // Dense: a recording session never blocks; blocked: evaluate does.
      const eps = new Float64Array(256 * D);
      new RandomStream(2).fillNormal(eps);
      const program = flow.samplingProgram();
      const [xb, lb] = e.evaluate(flow.store, program, [{ values: eps, rows: 256, cols: D }]);
      const r = e.differentiate(flow.store, program, [{ values: eps, rows: 256, cols: D }], () => [null, null], { paramGrads: false });
      expectClose(xb, r.outputs[0], 1e-5, `${order}: blocked x vs dense`);
      expectClose(lb, r.outputs[1], 1e-5, `${order}: blocked log q vs dense`);
      // The MADE alone: the blocked forward is taken and equals the dense one.
      const made = (flow.bijectors[0] as Autoregressive).made;
      const degrees = { input: made.order, hidden: made.hidden.map((h) => hiddenDegrees(D, h)), outputBlocks: 2 };
      const s = e.open(flow.store, false);
      const x = s.input(eps, 256, D);
      const out = s.rawValue(256, 2 * D);
      const layers = made.weights.map((w, l) => ({ weight: s.param(w), bias: s.param(made.biases[l]) }));
      expect(blockedMlpForward(e.kernels, e.pool, x, layers, out, degrees)).toBe(true);
      const blocked = s.read(out);
      s.end();
      const s2 = e.open(flow.store, true, false);
      const dense = s2.read(s2.mlp(s2.input(eps, 256, D), made.weights.map((w, l) => ({ weight: s2.param(w), bias: s2.param(made.biases[l]) }))));
      s2.end();
      expectClose(blocked, dense, 1e-5, `${order}: blocked MADE vs dense`);
      flow.dispose();
    }
  });
});

describe('Adam', () => {
  it('matches a float64 scalar Adam (PyTorch form) step by step, skips unreached parameters', () => {
    const flow = createDefaultFlow(2, { layers: 1, hidden: [4], seed: 1 });
    const [p, q] = flow.trainableParams();
    const adam = new Adam(flow.store);
    const theta = Array.from(p.values());
    const qBefore = q.values().slice();
    const m = new Float64Array(theta.length);
    const v = new Float64Array(theta.length);
    const rng = new RandomStream(3);
    for (let t = 1; t <= 5; t++) {
      const g = new Float64Array(theta.length);
      rng.fillNormal(g);
      const lr = 0.01 * t;
      adam.step(new Map([[p, g]]), lr, 0.5);
      for (let k = 0; k < theta.length; k++) {
        const gk = 0.5 * g[k];
        m[k] = 0.9 * m[k] + 0.1 * gk;
        v[k] = 0.999 * v[k] + 0.001 * gk * gk;
        theta[k] -= (lr * (m[k] / (1 - 0.9 ** t))) / (Math.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8);
      }
      expectClose(p.values(), theta, 1e-6, `step ${t}`);
    }
    expect(Array.from(q.values())).toEqual(Array.from(qBefore));
    flow.dispose();
  });

  it('with weightDecay is AdamW: decays the weight matrices only, before the Adam step, and refuses a bad λ', () => {
    const flow = createDefaultFlow(2, { layers: 1, hidden: [4], seed: 1 });
    const params = flow.trainableParams();
    const w = params.find((p) => p.decay)!;
    const b = params.find((p) => !p.decay)!;
    expect(w.name).toMatch(/\.W\d+$/);
    const adam = new Adam(flow.store, { weightDecay: 2 });
    // Biases start at 0, which decay would keep at 0: give this one values decay would move.
    flow.store.data(b).fill(0.5);
    const theta = Array.from(w.values());
    const bBefore = Array.from(b.values());
    const m = new Float64Array(theta.length);
    const v = new Float64Array(theta.length);
    const rng = new RandomStream(4);
    const gb = new Float64Array(b.size);
    for (let t = 1; t <= 4; t++) {
      const g = new Float64Array(theta.length);
      rng.fillNormal(g);
      const lr = 0.01 * t;
      adam.step(new Map([[w, g], [b, gb]]), lr);
      for (let k = 0; k < theta.length; k++) {
        theta[k] *= 1 - lr * 2;
        m[k] = 0.9 * m[k] + 0.1 * g[k];
        v[k] = 0.999 * v[k] + 0.001 * g[k] * g[k];
        theta[k] -= (lr * (m[k] / (1 - 0.9 ** t))) / (Math.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8);
      }
      expectClose(w.values(), theta, 1e-6, `step ${t}`);
    }
    // A zero gradient gives a zero Adam step, and a bias is not decayed: it keeps its 0.5s.
    expect(Array.from(b.values())).toEqual(bBefore);
    expect(bBefore.every((v) => v === 0.5)).toBe(true);
    expect(() => new Adam(flow.store, { weightDecay: -1 })).toThrow(/weightDecay/);
    expect(() => new Adam(flow.store, { weightDecay: NaN })).toThrow(/weightDecay/);
    flow.dispose();
  });
});

describe("the flow's input gradients", () => {
  it('forwardTape and logProbGrad agree with central differences and between engines', () => {
    const D = 3;
    const flow = createFamilyFlow('coupling', D, { layers: 2, hidden: [8], seed: 6 });
    randomizeParams(flow, 'tape', 0.3);
    const z = Float64Array.from(Float32Array.from([0.3, -0.7, 1.1, -0.2, 0.5, 0.9]));
    const n = 2;
    const dX = Float64Array.from([1, -2, 0.5, 0.3, 0.2, -1]);
    const dL = Float64Array.from([0.7, -0.4]);
    const grads: Float64Array[] = [];
    for (const engine of ['heap', 'tfjs'] as const) {
      flow.engine = engine;
      const tape = flow.forwardTape(z, n);
      const dz = tape.backward(dX, dL);
      // A second cotangent on the same tape.
      const dz2 = tape.backward(dX, dL);
      expectClose(dz2, dz, 1e-6, `${engine}: repeated backward`);
      tape.dispose();
      grads.push(dz);
      // Central differences of L(z) = Σ dX·x + Σ dL·logDet, in float64 around float32 values.
      const L = (zz: Float64Array) => {
        const t = flow.forwardTape(zz, n);
        let s = 0;
        for (let i = 0; i < t.x.length; i++) s += dX[i] * t.x[i];
        for (let r = 0; r < n; r++) s += dL[r] * t.logDet[r];
        t.dispose();
        return s;
      };
      for (let i = 0; i < z.length; i++) {
        const h = 1e-2;
        const zp = Float64Array.from(z);
        const zm = Float64Array.from(z);
        zp[i] += h;
        zm[i] -= h;
        expect(Math.abs((L(zp) - L(zm)) / (2 * h) - dz[i]), `${engine} dz[${i}]`).toBeLessThan(2e-2 * (1 + Math.abs(dz[i])));
      }
      const { logq, grad } = flow.logProbGrad(z);
      expectClose(logq, flow.logProbArrays(z), 1e-6, `${engine}: logProbGrad log q`);
      for (let i = 0; i < z.length; i++) {
        const h = 1e-2;
        const zp = Float64Array.from(z);
        const zm = Float64Array.from(z);
        zp[i] += h;
        zm[i] -= h;
        const r = Math.floor(i / D);
        const fd = (flow.logProbArrays(zp)[r] - flow.logProbArrays(zm)[r]) / (2 * h);
        expect(Math.abs(fd - grad[i]), `${engine} d log q/dx[${i}]`).toBeLessThan(2e-2 * (1 + Math.abs(grad[i])));
      }
    }
    expectClose(grads[0], grads[1], 1e-5, 'heap vs tfjs dz');
    flow.dispose();
  });
});
