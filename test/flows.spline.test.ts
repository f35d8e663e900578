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
import type { Bijector } from '../src/flows/bijector.js';
import { SplineAutoregressive, createSplineFlow } from '../src/flows/splineAutoregressive.js';
import { FastIafAffine } from '../src/flows/fastIaf.js';
import { DimensionError, ParameterError } from '../src/core/errors.js';
import { flowFromJSON, flowToJSON } from '../src/flows/serialize.js';
import { checkBijectorContract, randomizeVariables, points } from './helpers/bijectorContract.js';

beforeAll(async () => {
  await initBackend('wasm');
});

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
    randomizeVariables(b.trainableVariables(), 'w', 0.4, [b], true);
    // sd 1.5: some coordinates fall in the spline's identity tails.
    checkBijectorContract(b, { order, n: 9, pointSd: 1.5, roundTripTol: 2e-4 });
  });
});

describe('SplineAutoregressive', () => {
  it('starts close to the identity', () => {
    const b = new SplineAutoregressive({ dim: 3, hidden: [16, 16], seed: 5 });
    const z = points(50, 3, 'id', 1.5);
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
    randomizeVariables(b.trainableVariables(), 'g', 0.3, [], true);
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
    randomizeVariables(flow.trainableVariables(), 'flow', 0.3, [], true);
    const s = flow.sample(40, 11);
    const lp = flow.logProb(s.x);
    const a = s.logq.dataSync(), c = lp.dataSync();
    for (let i = 0; i < 40; i++) expect(Math.abs(a[i] - c[i])).toBeLessThan(1e-3 * (1 + Math.abs(a[i])));
    tf.dispose([s.x, s.logq, lp]);
    flow.dispose();
  });

  it('a saved spline flow loads back with the same log q', () => {
    const flow = createSplineFlow(2, { layers: 2, hidden: [8, 8], bins: 4, seed: 8 });
    randomizeVariables(flow.trainableVariables(), 'save', 0.3, [], true);
    const back = flowFromJSON(JSON.parse(JSON.stringify(flowToJSON(flow))));
    const x = points(20, 2, 'sx', 1);
    const a = flow.logProb(x).dataSync(), b = back.logProb(x).dataSync();
    for (let i = 0; i < 20; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5 * (1 + Math.abs(a[i])));
    x.dispose();
    flow.dispose();
    back.dispose();
  });
});
