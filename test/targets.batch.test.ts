/**
 * The batch paths of src/targets/batch.ts compute the same log p̃ and gradient: the tfjs path of
 * a built-in target, its float64 rows, a target's own `valueAndGradBatch`, and the float64 path
 * wrapped as a tfjs op (value and tf.grad).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { banana } from '../src/targets/banana.js';
import { customTarget } from '../src/targets/custom.js';
import { batchPathOf, targetLogProbOp, targetValueAndGrad } from '../src/targets/batch.js';
import { RandomStream } from '../src/core/random.js';

beforeAll(async () => {
  await initBackend();
});

const b = banana();
const n = 64;
const x = new Float64Array(n * 2);
new RandomStream(3).fillNormal(x);
for (let i = 0; i < x.length; i += 2) x[i] *= 10;
const x32 = Float64Array.from(Float32Array.from(x));

function close(a: ArrayLike<number>, b: ArrayLike<number>, rel: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(rel * (1 + Math.abs(b[i])));
}

describe('target batch paths', () => {
  const rows = customTarget({ name: 'rows', dim: 2, logDensity: (p) => b.logDensity(p), gradLogDensity: (p, g) => b.gradLogDensity(p, g) });
  const batched = customTarget({ name: 'batched', dim: 2, logDensity: (p) => b.logDensity(p), gradLogDensity: (p, g) => b.gradLogDensity(p, g) });
  let batchCalls = 0;
  (batched as { valueAndGradBatch?: unknown }).valueAndGradBatch = (xs: Float64Array, m: number, lp: Float64Array, g: Float64Array) => {
    batchCalls++;
    const p = new Float64Array(2);
    const gr = new Float64Array(2);
    for (let r = 0; r < m; r++) {
      p.set(xs.subarray(2 * r, 2 * r + 2));
      lp[r] = b.gradLogDensity(p, gr);
      g.set(gr, 2 * r);
    }
  };

  it('picks the path a target offers', () => {
    expect(batchPathOf(b)).toBe('tfjs');
    expect(batchPathOf(rows)).toBe('float64');
    expect(batchPathOf(batched)).toBe('batch-float64');
  });

  it('tfjs, float64 rows and valueAndGradBatch agree (float32 tolerance for tfjs)', () => {
    const ref = targetValueAndGrad(rows, x32, n, 2);
    const viaTf = targetValueAndGrad(b, x32, n, 2);
    const viaBatch = targetValueAndGrad(batched, x32, n, 2);
    expect(batchCalls).toBe(1);
    close(viaBatch.logp, ref.logp, 0);
    close(viaBatch.grad, ref.grad, 0);
    close(viaTf.logp, ref.logp, 1e-5);
    close(viaTf.grad, ref.grad, 1e-5);
  });

  it('the float64 path as a tfjs op has the float64 value and gradient', () => {
    const op = targetLogProbOp(rows);
    const xt = tf.tensor2d(Float32Array.from(x32), [n, 2]);
    const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => tf.mul(op(z as tf.Tensor2D), 2))(xt);
    const ref = targetValueAndGrad(rows, x32, n, 2);
    close(value.dataSync(), ref.logp.map((v) => 2 * v), 1e-6);
    close(grad.dataSync(), ref.grad.map((v) => 2 * v), 1e-6);
    tf.dispose([xt, value, grad]);
  });

  it('a logProb of the wrong shape is an error naming the target', () => {
    const bad = customTarget({ name: 'scalar', dim: 2, logDensity: () => 0, gradLogDensity: () => 0, logProb: (t) => tf.sum(t) as unknown as tf.Tensor1D });
    expect(() => targetValueAndGrad(bad, x32, n, 2)).toThrow(/target scalar: logProb of an \[64, 2\] batch must have shape \[64\]/);
  });
});
