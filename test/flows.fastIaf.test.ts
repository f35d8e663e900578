/**
 * The fused fast path (src/flows/fastIaf.ts, fusedMaskedMlp.ts, fusedAdam.ts) against the
 * reference implementation it replaces (src/flows/iaf.ts, tf.grad autodiff) and against a
 * float64 scalar Adam. Deterministic; no stochastic assertions.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { IafAffine } from '../src/flows/iaf.js';
import { FastIafAffine } from '../src/flows/fastIaf.js';
import { FusedAdam } from '../src/flows/fusedAdam.js';
import { madeMasks } from '../src/flows/made.js';
import { Flow } from '../src/flows/flow.js';
import { trainReverseKL } from '../src/flows/train.js';
import { flowFromJSON, flowToJSON } from '../src/flows/serialize.js';
import { banana } from '../src/targets/banana.js';

beforeAll(async () => {
  await initBackend();
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync(), y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** A fresh layer whose output weights are not tiny, so every gradient path is exercised. */
function layers(dim: number, order?: number[]) {
  const cfg = { dim, hidden: [16, 12], seed: 'fast-test', order, sBias: 0.5 };
  const ref = new IafAffine(cfg);
  const fast = new FastIafAffine(cfg);
  // Same random perturbation of both layers' variables (fast masks its own copy).
  tf.tidy(() => {
    ref.trainableVariables().forEach((v, i) => {
      const p = tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 100 + i));
      v.assign(p);
      fast.trainableVariables()[i].assign(p);
    });
  });
  fast.applyMasks();
  return { ref, fast };
}

describe('FastIafAffine', () => {
  it('has the same forward values and log-det as IafAffine (same config and weights)', () => {
    const { ref, fast } = layers(5, [3, 1, 5, 2, 4]);
    const z = tf.randomNormal([64, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const a = ref.forward(z), b = fast.forward(z);
    expect(maxAbsDiff(a.y, b.y)).toBeLessThan(1e-5);
    expect(maxAbsDiff(a.logDet, b.logDet)).toBeLessThan(1e-5);
    const inv = fast.inverse(b.y);
    expect(maxAbsDiff(inv.y, z)).toBeLessThan(1e-4);
    expect(maxAbsDiff(inv.logDet, tf.neg(b.logDet))).toBeLessThan(1e-4);
    ref.dispose();
    fast.dispose();
  });

  it('its hand-written gradient equals autodiff of IafAffine for every variable and the input', () => {
    const { ref, fast } = layers(4);
    const z = tf.randomNormal([32, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const c = tf.randomNormal([32, 4], 0, 1, 'float32', 3);
    const c2 = tf.randomNormal([32], 0, 1, 'float32', 4);
    const lossOf = (layer: IafAffine | FastIafAffine) => (zz: tf.Tensor) => {
      const r = layer.forward(zz as tf.Tensor2D);
      return tf.add(tf.sum(tf.mul(r.y, c)), tf.sum(tf.mul(r.logDet, c2))) as tf.Scalar;
    };
    const gzRef = tf.grad(lossOf(ref))(z);
    const gzFast = tf.grad(lossOf(fast))(z);
    expect(maxAbsDiff(gzRef, gzFast)).toBeLessThan(1e-4);
    const gr = tf.variableGrads(() => lossOf(ref)(z), ref.trainableVariables());
    const gf = tf.variableGrads(() => lossOf(fast)(z), fast.trainableVariables());
    const rv = ref.trainableVariables(), fv = fast.trainableVariables();
    expect(fv.length).toBe(rv.length);
    for (let i = 0; i < rv.length; i++) {
      const a = gr.grads[rv[i].name], b = gf.grads[fv[i].name];
      const scale = Math.max(1e-3, tf.max(tf.abs(a)).dataSync()[0]);
      expect(maxAbsDiff(a, b) / scale).toBeLessThan(1e-4);
    }
    ref.dispose();
    fast.dispose();
  });

  it('keeps masked weights at exactly zero under FusedAdam, in flat and per-variable mode', () => {
    for (const flatMaxSize of [Infinity, 0]) {
      const { ref, fast } = layers(3);
      ref.dispose();
      const opt = new FusedAdam(fast.trainableVariables(), { learningRate: 0.05, flatMaxSize });
      expect(opt.flat).toBe(flatMaxSize === Infinity);
      const z = tf.randomNormal([16, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
      for (let s = 0; s < 5; s++) opt.minimize(() => tf.sum(tf.square(fast.forward(z).y)) as tf.Scalar);
      const masks = madeMasks(fast.made.order, fast.made.hidden, 2);
      const ws = fast.trainableVariables().filter((_, i) => i % 2 === 0);
      ws.forEach((w, l) => {
        const vals = w.dataSync();
        masks[l].mask.forEach((m, k) => {
          if (m === 0) expect(Math.abs(vals[k])).toBe(0); // ±0
        });
      });
      opt.dispose();
      fast.dispose();
    }
  });

  it('does not leak tensors in forward, inverse or a training step', () => {
    const { ref, fast } = layers(3);
    ref.dispose();
    const opt = new FusedAdam(fast.trainableVariables());
    const z = tf.randomNormal([8, 3]) as tf.Tensor2D;
    opt.minimize(() => tf.sum(fast.forward(z).logDet) as tf.Scalar);
    const before = tf.memory().numTensors;
    const f = fast.forward(z);
    const i = fast.inverse(z);
    tf.dispose([f.y, f.logDet, i.y, i.logDet]);
    opt.minimize(() => tf.sum(fast.forward(z).logDet) as tf.Scalar);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    fast.dispose();
  });
});

describe('FastIafAffine in the rest of the flow code', () => {
  it('trains with trainReverseKL and saves/loads as an ordinary iaf-affine flow', async () => {
    const flow = new Flow([0, 1].map((k) => new FastIafAffine({ dim: 2, hidden: [16, 16], seed: k, order: k ? [2, 1] : [1, 2] })));
    const r = await trainReverseKL(flow, banana(), { steps: 30, batchSize: 64, earlyStopping: false, seed: 1 });
    expect(r.steps).toBe(30);
    expect(r.skippedNonFinite).toBe(0);
    expect(Number.isFinite(r.finalElboMA)).toBe(true);
    const back = flowFromJSON(JSON.parse(JSON.stringify(flowToJSON(flow))));
    const x = tf.randomNormal([10, 2], 0, 1, 'float32', 9) as tf.Tensor2D;
    const a = flow.logProb(x).dataSync(), b = back.logProb(x).dataSync();
    for (let i = 0; i < 10; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-4 * (1 + Math.abs(a[i])));
    tf.dispose(x);
    flow.dispose();
    back.dispose();
  });
});

describe('FusedAdam', () => {
  it('matches a float64 scalar Adam (PyTorch form) step by step, in all three modes', () => {
    // Loss Σ a_k (θ_k − c_k)² over two variables; gradient 2 a (θ − c).
    const a = [0.5, 2, 1, 3, 0.1], c = [1, -1, 0.5, 2, -3], init = [0, 0.3, -0.2, 1, 2];
    const modes = [{ inPlace: true }, { inPlace: false, flatMaxSize: Infinity }, { inPlace: false, flatMaxSize: 0 }];
    for (const mode of modes) {
      const v1 = tf.variable(tf.tensor1d(init.slice(0, 2)));
      const v2 = tf.variable(tf.tensor2d(init.slice(2), [1, 3]));
      const opt = new FusedAdam([v1, v2], { learningRate: 0.1, ...mode });
      expect(opt.inPlace).toBe(mode.inPlace);
      const at = tf.tensor1d(a), ct = tf.tensor1d(c);
      const theta = [...init], m = new Array(5).fill(0), v = new Array(5).fill(0);
      for (let t = 1; t <= 20; t++) {
        opt.minimize(() => tf.sum(tf.mul(at, tf.square(tf.sub(tf.concat([v1, tf.reshape(v2, [-1])]), ct)))) as tf.Scalar);
        for (let k = 0; k < 5; k++) {
          const g = 2 * a[k] * (theta[k] - c[k]);
          m[k] = 0.9 * m[k] + 0.1 * g;
          v[k] = 0.999 * v[k] + 0.001 * g * g;
          const mh = m[k] / (1 - 0.9 ** t), vh = v[k] / (1 - 0.999 ** t);
          theta[k] -= (0.1 * mh) / (Math.sqrt(vh) + 1e-8);
        }
      }
      const got = [...v1.dataSync(), ...v2.dataSync()];
      for (let k = 0; k < 5; k++) expect(Math.abs(got[k] - theta[k])).toBeLessThan(1e-4);
      opt.dispose();
      tf.dispose([v1, v2, at, ct]);
    }
  });

  it('globalNorm and the clip scale of applyGradients agree between the JS and tensor modes', () => {
    const g = [tf.tensor1d([3, -4]), tf.tensor2d([[1, 2], [0, -2]])];
    const res: number[][] = [];
    for (const inPlace of [true, false]) {
      const v1 = tf.variable(tf.tensor1d([1, 1])), v2 = tf.variable(tf.tensor2d([[0, 0], [1, 1]]));
      const opt = new FusedAdam([v1, v2], { learningRate: 0.1, inPlace });
      expect(opt.globalNorm(g)).toBeCloseTo(Math.sqrt(9 + 16 + 1 + 4 + 4), 5);
      opt.applyGradients(g, 0.25);
      opt.applyGradients(g, 0.5);
      res.push([...v1.dataSync(), ...v2.dataSync()]);
      opt.dispose();
      tf.dispose([v1, v2]);
    }
    // Both modes agree (the clip scale enters the moments the same way in both).
    for (let k = 0; k < 6; k++) expect(Math.abs(res[0][k] - res[1][k])).toBeLessThan(1e-6);
    tf.dispose(g);
  });

  it('after a JS-mode step, matMuls see the new weights (the wasm backend caches packed weights per buffer)', () => {
    const w = tf.variable(tf.randomNormal([64, 64], 0, 1, 'float32', 3));
    const x = tf.randomNormal([256, 64], 0, 1, 'float32', 4);
    const opt = new FusedAdam([w], { learningRate: 0.5 });
    tf.matMul(x, w).dispose(); // builds and caches the operator for w's buffer
    opt.applyGradients([tf.onesLike(w)]);
    const got = tf.matMul(x, w).dataSync();
    const ref = tf.matMul(x, tf.tensor2d(w.dataSync(), [64, 64])).dataSync();
    for (let k = 0; k < got.length; k += 97) expect(Math.abs(got[k] - ref[k])).toBeLessThan(1e-3);
    opt.dispose();
    tf.dispose([w, x]);
  });

  it('treats a variable the loss does not reach as having zero gradient', () => {
    const a = tf.variable(tf.tensor1d([1, 2])), b = tf.variable(tf.tensor1d([5]));
    const opt = new FusedAdam([a, b], { learningRate: 0.1 });
    opt.minimize(() => tf.sum(tf.square(a)) as tf.Scalar);
    expect(Array.from(b.dataSync())).toEqual([5]);
    expect(a.dataSync()[0]).toBeLessThan(1);
    expect(() => opt.applyGradients([tf.zeros([2])])).toThrow(/1 gradients for 2 variables/);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('rejects bad settings with named errors', () => {
    const v = tf.variable(tf.zeros([2]));
    expect(() => new FusedAdam([v], { learningRate: 0 })).toThrow(/learning rate/);
    expect(() => new FusedAdam([v], { beta1: 1 })).toThrow(/betas/);
    expect(() => new FusedAdam([])).toThrow(/no variables/);
    v.dispose();
  });
});
