/**
 * The elementwise rational-quadratic spline (src/flows/rqSpline.ts): round trip, log-derivative
 * against autodiff and central differences, monotonicity, identity tails, gradient reaching all
 * parameters, and clear errors for bad shapes. Deterministic (fixed tfjs seeds); no stochastic
 * assertions, so no false-failure budget is needed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { DimensionError, ParameterError } from '../src/core/errors.js';
import { rqSplineForward, rqSplineInverse, identityDerivativeParam, splitSplineParams } from '../src/flows/kernels/rqSplineTfjs.js';

const K = 6;
const B = 3;

function params(n: number, seed: number, scale = 1.5) {
  return {
    w: tf.randomNormal([n, K], 0, scale, 'float32', seed),
    h: tf.randomNormal([n, K], 0, scale, 'float32', seed + 1),
    d: tf.randomNormal([n, K - 1], 0, scale, 'float32', seed + 2),
  };
}

beforeAll(async () => {
  await initBackend();
});

describe('rqSpline', () => {
  it('inverse(forward(x)) = x and the log-dets cancel, inside and outside [-B, B]', () => {
    const n = 400;
    const x = tf.linspace(-4.5, 4.5, n);
    const { w, h, d } = params(n, 1);
    const f = rqSplineForward(x, w, h, d, { bound: B });
    const b = rqSplineInverse(f.y, w, h, d, { bound: B });
    const xs = x.dataSync(), back = b.y.dataSync();
    const ld = f.logDet.dataSync(), ldInv = b.logDet.dataSync();
    for (let i = 0; i < n; i++) {
      // float32: y carries ~1e-7·B of rounding, which the inverse amplifies by 1/g'(x).
      expect(Math.abs(back[i] - xs[i])).toBeLessThan(2e-5 * (1 + Math.exp(-ld[i])));
      expect(Math.abs(ld[i] + ldInv[i])).toBeLessThan(1e-4 + 1e-5 * Math.exp(-ld[i]));
    }
    tf.dispose([x, w, h, d, f.y, f.logDet, b.y, b.logDet]);
  });

  it('log|dy/dx| agrees with tf.grad and with central differences', () => {
    const n = 200;
    const x = tf.linspace(-2.95, 2.95, n);
    const { w, h, d } = params(n, 11);
    const f = rqSplineForward(x, w, h, d, { bound: B });
    const g = tf.grad((xx: tf.Tensor) => rqSplineForward(xx, w, h, d, { bound: B }).y.sum())(x);
    const eps = 1e-2;
    const yp = rqSplineForward(tf.add(x, eps), w, h, d, { bound: B }).y.dataSync();
    const ym = rqSplineForward(tf.sub(x, eps), w, h, d, { bound: B }).y.dataSync();
    const ld = f.logDet.dataSync(), gd = g.dataSync();
    let checked = 0;
    for (let i = 0; i < n; i++) {
      expect(Math.abs(Math.log(gd[i]) - ld[i])).toBeLessThan(1e-3);
      // Central differences are only valid away from knots (the second derivative jumps there);
      // compare loosely and count how many agree tightly.
      const fd = (yp[i] - ym[i]) / (2 * eps);
      if (Math.abs(Math.log(fd) - ld[i]) < 2e-2) checked++;
    }
    expect(checked).toBeGreaterThan(0.8 * n);
    tf.dispose([x, w, h, d, f.y, f.logDet, g]);
  });

  it('is increasing with positive derivative, maps [-B, B] onto itself, identity outside', () => {
    const n = 1001;
    const x = tf.linspace(-5, 5, n);
    const p = params(1, 21, 2);
    const w = tf.tile(p.w, [n, 1]), h = tf.tile(p.h, [n, 1]), d = tf.tile(p.d, [n, 1]);
    const { y, logDet } = rqSplineForward(x, w, h, d, { bound: B });
    const xs = x.dataSync(), ys = y.dataSync(), ld = logDet.dataSync();
    // Non-decreasing in float32 (flat bins can round to equal values), strictly so in the
    // derivative: log g' is finite everywhere.
    for (let i = 1; i < n; i++) expect(ys[i]).toBeGreaterThanOrEqual(ys[i - 1]);
    for (let i = 0; i < n; i++) expect(Number.isFinite(ld[i])).toBe(true);
    let strict = 0;
    for (let i = 1; i < n; i++) if (ys[i] > ys[i - 1]) strict++;
    expect(strict).toBeGreaterThan(0.95 * (n - 1));
    for (let i = 0; i < n; i++) {
      if (Math.abs(xs[i]) > B + 1e-6) {
        expect(ys[i]).toBe(xs[i]);
        expect(ld[i]).toBe(0);
      } else {
        expect(Math.abs(ys[i])).toBeLessThanOrEqual(B + 1e-5);
      }
    }
    tf.dispose([x, w, h, d, y, logDet, p.w, p.h, p.d]);
  });

  it('with equal bins and identity derivatives it is the identity map', () => {
    const n = 50;
    const x = tf.linspace(-2.9, 2.9, n);
    const w = tf.zeros([n, K]), h = tf.zeros([n, K]);
    const d = tf.fill([n, K - 1], identityDerivativeParam());
    const { y, logDet } = rqSplineForward(x, w, h, d, { bound: B });
    const xs = x.dataSync(), ys = y.dataSync(), ld = logDet.dataSync();
    for (let i = 0; i < n; i++) {
      expect(Math.abs(ys[i] - xs[i])).toBeLessThan(1e-5);
      expect(Math.abs(ld[i])).toBeLessThan(1e-5);
    }
  });

  it('gradients of y and log-det reach every width, height and derivative parameter', () => {
    const n = 300;
    const x = tf.randomUniform([n], -B, B, 'float32', 5);
    const { w, h, d } = params(n, 31);
    const grads = tf.grads((ww: tf.Tensor, hh: tf.Tensor, dd: tf.Tensor) => {
      const r = rqSplineForward(x, ww, hh, dd, { bound: B });
      return tf.add(tf.sum(r.y), tf.sum(r.logDet));
    })([w, h, d]);
    for (const g of grads) {
      const a = g.dataSync();
      expect(a.every(Number.isFinite)).toBe(true);
      // Summed over the batch, every parameter slot moves the loss.
      const col = tf.sum(tf.abs(g), 0).dataSync();
      for (const c of col) expect(c).toBeGreaterThan(0);
    }
    tf.dispose([x, w, h, d, ...grads]);
  });

  it('does not leak tensors', () => {
    const x = tf.linspace(-4, 4, 20);
    const { w, h, d } = params(20, 41);
    const before = tf.memory().numTensors;
    const f = rqSplineForward(x, w, h, d);
    const b = rqSplineInverse(f.y, w, h, d);
    tf.dispose([f.y, f.logDet, b.y, b.logDet]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, h, d]);
  });

  it('rejects bad shapes and options with named errors', () => {
    const x = tf.zeros([4]);
    const w = tf.zeros([4, K]);
    expect(() => rqSplineForward(x, w, tf.zeros([4, K + 1]), tf.zeros([4, K - 1]))).toThrow(DimensionError);
    expect(() => rqSplineForward(x, w, w, tf.zeros([4, K]))).toThrow(/K-1 interior/);
    expect(() => rqSplineForward(x, w, w, tf.zeros([4, K - 1]), { bound: -1 })).toThrow(ParameterError);
    expect(() => rqSplineForward(x, w, w, tf.zeros([4, K - 1]), { minBinWidth: 0.5 })).toThrow(ParameterError);
    expect(() => splitSplineParams(tf.zeros([3, 7]) as tf.Tensor2D, 2, K)).toThrow(DimensionError);
  });

  it('splitSplineParams reads the block-major MADE layout', () => {
    const dim = 2, per = 3 * K - 1;
    // column b*dim + j holds parameter b of coordinate j
    const row = Array.from({ length: dim * per }, (_, c) => 100 * (c % dim) + Math.floor(c / dim));
    const { widths, heights, derivatives } = splitSplineParams(tf.tensor2d([row]), dim, K);
    expect(widths.shape).toEqual([1, dim, K]);
    expect(derivatives.shape).toEqual([1, dim, K - 1]);
    expect(Array.from(widths.dataSync()).slice(K, 2 * K)).toEqual([100, 101, 102, 103, 104, 105]);
    expect(Array.from(heights.dataSync()).slice(0, 2)).toEqual([K, K + 1]);
    expect(Array.from(derivatives.dataSync()).slice(0, 1)).toEqual([2 * K]);
  });
});
