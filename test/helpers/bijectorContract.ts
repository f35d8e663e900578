/**
 * The bijector contract test, shared by every bijector's suite: round trip, forward and inverse
 * log-dets cancel, log|det J| against a brute-force Jacobian (rows by tf.grad, determinant in
 * float64), the autoregressive property (triangular Jacobian in the ordering, with some
 * strictly-lower entry non-zero so the conditioning is really there), no tensor leaks.
 * Deterministic (fixed seeds): the tolerances are float32 round-off, no false-failure budget.
 */
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { RandomStream } from '../../src/core/random.js';
import type { Bijector } from '../../src/flows/bijector.js';
import { Chain } from '../../src/flows/chain.js';
import { FastIafAffine } from '../../src/flows/fastIaf.js';

/**
 * Gives every variable random N(0, sd²) values so the bijector is far from the identity. Layers
 * that store their weights pre-masked need the masks kept: fused IAF layers get theirs
 * re-applied; for others (the spline layer) pass `keepZeros` so matrix entries that are exactly
 * zero (masked) stay zero.
 */
export function randomizeVariables(vars: tf.Variable[], seed: string, sd = 0.4, bijectors: Bijector[] = [], keepZeros = false): void {
  const rng = new RandomStream(seed);
  for (const v of vars) {
    const a = new Float64Array(v.size);
    rng.fillNormal(a);
    const old = keepZeros && v.shape.length === 2 ? v.dataSync() : null;
    const t = tf.tensor(Float32Array.from(a, (x, k) => (old && old[k] === 0 ? 0 : sd * x)), v.shape);
    v.assign(t);
    t.dispose();
  }
  const all = bijectors.flatMap((b) => (b instanceof Chain ? b.bijectors : [b]));
  for (const b of all) if (b instanceof FastIafAffine) b.applyMasks();
}

/** n seeded N(0, sd² I) points as a float32 [n, dim] tensor. */
export function points(n: number, dim: number, seed: string, sd = 1): tf.Tensor2D {
  const a = new Float64Array(n * dim);
  new RandomStream(seed).fillNormal(a);
  return tf.tensor2d(Float32Array.from(a, (x) => sd * x), [n, dim]);
}

/** Full Jacobian of y = f(z) at one point, row-major dim x dim float64. */
export function jacobian(f: (z: tf.Tensor2D) => tf.Tensor2D, z0: Float32Array, dim: number): Float64Array {
  const J = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    const g = tf.tidy(() => tf.grad((z: tf.Tensor) => tf.sum(tf.slice(f(z as tf.Tensor2D), [0, i], [1, 1])))(tf.tensor2d(z0, [1, dim])).dataSync());
    for (let j = 0; j < dim; j++) J[i * dim + j] = g[j];
  }
  return J;
}

/** log|det A| by Gaussian elimination with partial pivoting, float64. */
export function logAbsDet(a: Float64Array, n: number): number {
  const m = Float64Array.from(a);
  let s = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[p * n + c])) p = r;
    if (p !== c) for (let k = 0; k < n; k++) [m[c * n + k], m[p * n + k]] = [m[p * n + k], m[c * n + k]];
    const piv = m[c * n + c];
    s += Math.log(Math.abs(piv));
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / piv;
      for (let k = c; k < n; k++) m[r * n + k] -= f * m[c * n + k];
    }
  }
  return s;
}

export interface ContractOptions {
  /** For autoregressive bijectors: y_i may depend on z_j only if order[j] <= order[i]. */
  order?: number[];
  /** Test points and their spread (a spline's identity tails need sd > its bound sometimes). */
  n?: number;
  pointSd?: number;
  /** Relative tolerance of the round trip and of the cancelling log-dets. */
  roundTripTol?: number;
}

/** Runs the whole contract on a fresh bijector (already randomised by the caller) and disposes it. */
export function checkBijectorContract(b: Bijector, opts: ContractOptions = {}): void {
  const { order, n = 7, pointSd = 1, roundTripTol = 1e-4 } = opts;
  const dim = b.dim;
  const z = points(n, dim, 'z', pointSd);
  const before = tf.memory().numTensors;

  const fwd = b.forward(z);
  const inv = b.inverse(fwd.y);
  expect(fwd.y.shape).toEqual([n, dim]);
  expect(fwd.logDet.shape).toEqual([n]);
  const zz = z.dataSync();
  const back = inv.y.dataSync();
  for (let k = 0; k < zz.length; k++) expect(Math.abs(back[k] - zz[k])).toBeLessThan(roundTripTol * (1 + Math.abs(zz[k])));
  const lf = fwd.logDet.dataSync();
  const li = inv.logDet.dataSync();
  for (let r = 0; r < n; r++) expect(Math.abs(lf[r] + li[r])).toBeLessThan(roundTripTol * (1 + Math.abs(lf[r])));
  tf.dispose([fwd.y, fwd.logDet, inv.y, inv.logDet]);
  expect(tf.memory().numTensors).toBe(before);

  for (let r = 0; r < Math.min(3, n); r++) {
    const z0 = zz.slice(r * dim, (r + 1) * dim) as Float32Array;
    const J = jacobian((t) => {
      const o = b.forward(t);
      o.logDet.dispose();
      return o.y;
    }, z0, dim);
    expect(Math.abs(logAbsDet(J, dim) - lf[r])).toBeLessThan(2e-4 * (1 + Math.abs(lf[r])));
    if (!order) continue;
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) if (order[j] > order[i]) expect(J[i * dim + j]).toBe(0);
    if (dim > 1) {
      let any = false;
      for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) if (order[j] < order[i] && Math.abs(J[i * dim + j]) > 1e-6) any = true;
      expect(any).toBe(true);
    }
  }
  expect(tf.memory().numTensors).toBe(before);
  z.dispose();
  b.dispose();
}
