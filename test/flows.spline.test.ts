/**
 * Bijector contract for the autoregressive RQ-spline layer (src/flows/splineAutoregressive.ts)
 * and the fused affine IAF (src/flows/fastIaf.ts): round trip, cancelling log-dets, log|det J|
 * against a brute-force Jacobian (rows by tf.grad, determinant in float64), triangular Jacobian
 * in the MADE ordering with some strictly-lower entry non-zero, no tensor leaks; and the spline
 * flow's sample/logProb consistency. Deterministic (fixed seeds): tolerances are float32
 * round-off, so there is no false-failure budget to state.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { RandomStream } from '../src/core/random.js';
import type { Bijector } from '../src/flows/bijector.js';
import { SplineAutoregressive, createSplineFlow } from '../src/flows/splineAutoregressive.js';
import { FastIafAffine } from '../src/flows/fastIaf.js';
import { DimensionError, ParameterError } from '../src/core/errors.js';
import { flowFromJSON, flowToJSON } from '../src/flows/serialize.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Random values for every variable (masked entries stay zero: the layers store masked weights). */
function randomize(vars: tf.Variable[], seed: string, sd = 0.4): void {
  const rng = new RandomStream(seed);
  for (const v of vars) {
    const a = new Float64Array(v.size);
    rng.fillNormal(a);
    const old = v.dataSync();
    // Keep exact zeros where the weight is masked (an all-zero column would be masked anyway).
    v.assign(tf.tensor(Float32Array.from(a, (t, k) => (v.shape.length === 2 && old[k] === 0 ? 0 : sd * t)), v.shape));
  }
}

function points(n: number, dim: number, seed: string, sd = 1.5): tf.Tensor2D {
  const a = new Float64Array(n * dim);
  new RandomStream(seed).fillNormal(a);
  return tf.tensor2d(Float32Array.from(a, (t) => sd * t), [n, dim]);
}

function jacobian(f: (z: tf.Tensor2D) => tf.Tensor2D, z0: Float32Array, dim: number): Float64Array {
  const J = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    const g = tf.tidy(() => tf.grad((z: tf.Tensor) => tf.sum(tf.slice(f(z as tf.Tensor2D), [0, i], [1, 1])))(tf.tensor2d(z0, [1, dim])).dataSync());
    for (let j = 0; j < dim; j++) J[i * dim + j] = g[j];
  }
  return J;
}

function logAbsDet(a: Float64Array, n: number): number {
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

const D = 4;
const cases: { name: string; make: () => Bijector; order: number[] }[] = [
  { name: 'iaf-rq-spline', make: () => new SplineAutoregressive({ dim: D, hidden: [16, 12], bins: 6, bound: 3, seed: 1 }), order: [1, 2, 3, 4] },
  {
    name: 'iaf-rq-spline (shuffled order, one hidden layer)',
    make: () => new SplineAutoregressive({ dim: D, hidden: [10], bins: 4, bound: 2.5, order: [3, 1, 4, 2], seed: 2 }),
    order: [3, 1, 4, 2],
  },
  { name: 'iaf-rq-spline (dim 1)', make: () => new SplineAutoregressive({ dim: 1, hidden: [4], seed: 3 }), order: [1] },
  { name: 'iaf-affine fused', make: () => new FastIafAffine({ dim: D, hidden: [16, 12], order: [2, 4, 1, 3], seed: 4 }), order: [2, 4, 1, 3] },
  { name: 'iaf-affine fused (dim 1)', make: () => new FastIafAffine({ dim: 1, hidden: [4], seed: 5 }), order: [1] },
];

describe.each(cases)('bijector contract: $name', ({ make, order }) => {
  it('round trip, cancelling log-dets, brute-force Jacobian, triangularity, no leaks', () => {
    const b = make();
    randomize(b.trainableVariables(), 'w');
    const dim = b.dim;
    const n = 9;
    const z = points(n, dim, 'z'); // sd 1.5: some coordinates fall in the identity tails
    const before = tf.memory().numTensors;
    const fwd = b.forward(z);
    const inv = b.inverse(fwd.y);
    expect(fwd.y.shape).toEqual([n, dim]);
    expect(fwd.logDet.shape).toEqual([n]);
    const zz = z.dataSync(), back = inv.y.dataSync();
    for (let k = 0; k < zz.length; k++) expect(Math.abs(back[k] - zz[k])).toBeLessThan(2e-4 * (1 + Math.abs(zz[k])));
    const lf = fwd.logDet.dataSync(), li = inv.logDet.dataSync();
    for (let r = 0; r < n; r++) expect(Math.abs(lf[r] + li[r])).toBeLessThan(2e-4 * (1 + Math.abs(lf[r])));
    tf.dispose([fwd.y, fwd.logDet, inv.y, inv.logDet]);
    expect(tf.memory().numTensors).toBe(before);

    for (let r = 0; r < 4; r++) {
      const z0 = zz.slice(r * dim, (r + 1) * dim) as Float32Array;
      const J = jacobian((t) => {
        const o = b.forward(t);
        o.logDet.dispose();
        return o.y;
      }, z0, dim);
      expect(Math.abs(logAbsDet(J, dim) - lf[r])).toBeLessThan(2e-4 * (1 + Math.abs(lf[r])));
      for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) if (order[j] > order[i]) expect(J[i * dim + j]).toBe(0);
      if (dim > 1 && r === 0) {
        let any = false;
        for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) if (order[j] < order[i] && Math.abs(J[i * dim + j]) > 1e-6) any = true;
        expect(any).toBe(true);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    z.dispose();
    b.dispose();
  });
});

describe('SplineAutoregressive', () => {
  it('starts close to the identity', () => {
    const b = new SplineAutoregressive({ dim: 3, hidden: [16, 16], seed: 5 });
    const z = points(50, 3, 'id');
    const { y, logDet } = b.forward(z);
    const zs = z.dataSync(), ys = y.dataSync(), ld = logDet.dataSync();
    // Bins are 2B/K = 1 wide; output weights of scale 0.01 move knots by a few hundredths.
    for (let k = 0; k < zs.length; k++) expect(Math.abs(ys[k] - zs[k])).toBeLessThan(0.15);
    for (const v of ld) expect(Math.abs(v)).toBeLessThan(0.3);
    tf.dispose([z, y, logDet]);
    b.dispose();
  });

  it('gradients reach every variable', () => {
    const b = new SplineAutoregressive({ dim: 3, hidden: [8, 8], bins: 5, seed: 6 });
    randomize(b.trainableVariables(), 'g', 0.3);
    const z = points(64, 3, 'gz', 1);
    const { grads } = tf.variableGrads(() => {
      const r = b.forward(z);
      return tf.add(tf.sum(tf.square(r.y)), tf.sum(r.logDet)) as tf.Scalar;
    }, b.trainableVariables());
    for (const v of b.trainableVariables()) {
      const g = grads[v.name].dataSync();
      expect(g.every(Number.isFinite)).toBe(true);
      expect(g.some((x) => x !== 0)).toBe(true);
    }
    tf.dispose(grads);
    z.dispose();
    b.dispose();
  });

  it('rejects bad configs with named errors', () => {
    expect(() => new SplineAutoregressive({ dim: 2, hidden: [8], bins: 1 })).toThrow(ParameterError);
    expect(() => new SplineAutoregressive({ dim: 2, hidden: [] })).toThrow(/hidden/);
    expect(() => new SplineAutoregressive({ dim: 2, hidden: [8], order: [1, 1] })).toThrow(/permutation/);
    expect(() => new SplineAutoregressive({ dim: 2, hidden: [8], bound: 0 })).toThrow(ParameterError);
    const b = new SplineAutoregressive({ dim: 2, hidden: [4] });
    expect(() => b.forward(tf.zeros([3, 3]) as tf.Tensor2D)).toThrow(DimensionError);
    b.dispose();
  });

  it("a spline flow's sample log q equals logProb at the same points", () => {
    const flow = createSplineFlow(3, { layers: 2, hidden: [12, 12], bins: 5, seed: 7 });
    randomize(flow.trainableVariables(), 'flow', 0.3);
    const s = flow.sample(40, 11);
    const lp = flow.logProb(s.x);
    const a = s.logq.dataSync(), c = lp.dataSync();
    for (let i = 0; i < 40; i++) expect(Math.abs(a[i] - c[i])).toBeLessThan(1e-3 * (1 + Math.abs(a[i])));
    tf.dispose([s.x, s.logq, lp]);
    flow.dispose();
  });

  it('a saved spline flow loads back with the same log q', () => {
    const flow = createSplineFlow(2, { layers: 2, hidden: [8, 8], bins: 4, seed: 8 });
    randomize(flow.trainableVariables(), 'save', 0.3);
    const back = flowFromJSON(JSON.parse(JSON.stringify(flowToJSON(flow))));
    const x = points(20, 2, 'sx', 1);
    const a = flow.logProb(x).dataSync(), b = back.logProb(x).dataSync();
    for (let i = 0; i < 20; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5 * (1 + Math.abs(a[i])));
    x.dispose();
    flow.dispose();
    back.dispose();
  });
});
