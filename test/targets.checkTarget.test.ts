/**
 * checkTarget: no false alarms on the built-in targets (their gradients are right), and each
 * kind of wrong target is an error naming the target, the path and the parameter.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { assertTarget, checkTarget, TargetCheckError } from '../src/targets/checkTarget.js';
import { listTargets, parseTargetSpec } from '../src/targets/registry.js';
import { customTarget } from '../src/targets/custom.js';
import { expressionTarget } from '../src/targets/expression.js';
import { gaussian } from '../src/targets/gaussian.js';
import type { Target } from '../src/targets/target.js';

beforeAll(async () => {
  await initBackend();
});

const quad = (x: Float64Array) => -0.5 * (x[0] ** 2 + 4 * x[1] ** 2);
const quadGrad = (x: Float64Array, g: Float64Array) => {
  g[0] = -x[0];
  g[1] = -4 * x[1];
  return quad(x);
};

describe('checkTarget', () => {
  it('passes every built-in target at seeded points, on every path, without leaking tensors', () => {
    const specs = [...listTargets().map((t) => t.name), 'banana:dim=5,b=0.3', 'illgauss:dim=20,condition=1e4', 'funnel:dim=4'];
    for (const spec of specs) {
      const t = parseTargetSpec(spec);
      t.logProb?.(tf.zeros([1, t.dim]) as tf.Tensor2D).dispose(); // the target's own constants, made once
      const before = tf.memory().numTensors;
      for (const seed of [0, 1]) {
        const r = checkTarget(t, { seed });
        expect(r.errors, `${spec} seed ${seed}`).toEqual([]);
        expect(r.checked.paths).toEqual(expect.arrayContaining(['float64', 'gradient', 'tfjs']));
        expect(r.checked.gradientComponents).toBeGreaterThan(0);
      }
      expect(tf.memory().numTensors, spec).toBe(before);
    }
  });

  it('a wrong gradient component is an error naming the parameter', () => {
    const t = customTarget({
      name: 'typo',
      dim: 2,
      paramNames: ['alpha', 'beta'],
      logDensity: quad,
      gradLogDensity: (x, g) => {
        g[0] = -x[0];
        g[1] = -2 * x[1]; // should be -4 x2
        return quad(x);
      },
    });
    const r = checkTarget(t);
    expect(r.ok).toBe(false);
    expect(r.errors[0]).toMatchObject({ code: 'gradient', param: 'beta' });
    expect(r.errors[0].message).toMatch(/^target typo: gradLogDensity disagrees with finite differences in beta at \[/);
    expect(() => assertTarget(t)).toThrow(TargetCheckError);
  });

  it('value paths that disagree: gradLogDensity value, tfjs NaN outside the support, tfjs values', () => {
    const offset = customTarget({ name: 'offset', dim: 2, logDensity: quad, gradLogDensity: (x, g) => quadGrad(x, g) + 1 });
    expect(checkTarget(offset).errors[0]).toMatchObject({ code: 'value-path' });
    const half: Target = {
      ...expressionTarget('log(x1) - x1 - x2^2/2'),
      name: 'nanpath',
      logProb: (x) => tf.tidy(() => tf.sub(tf.sub(tf.log(tf.slice(x, [0, 0], [-1, 1]).reshape([-1])), tf.slice(x, [0, 0], [-1, 1]).reshape([-1])), tf.div(tf.square(tf.slice(x, [0, 1], [-1, 1]).reshape([-1])), 2))) as tf.Tensor1D,
    };
    const r = checkTarget(half, { points: [[1, 0], [-1, 0]] });
    expect(r.errors[0].code).toBe('value-path');
    expect(r.errors[0].message).toMatch(/logProb \(tfjs\) is NaN at \[-1, 0\] where logDensity is -Infinity/);
    const g = gaussian({ dim: 2 });
    const scaled: Target = { ...g, name: 'scaled', logProb: (x) => tf.tidy(() => tf.mul(g.logProb!(x), 1.01)) as tf.Tensor1D };
    expect(checkTarget(scaled).errors[0].message).toMatch(/^target scaled: logProb \(tfjs\) gives .* but logDensity gives/);
  });

  it('a batch path whose gradient disagrees, and a missing gradient where one is required', () => {
    const batch: Target = {
      ...customTarget({ name: 'batchy', dim: 2, logDensity: quad, gradLogDensity: quadGrad }),
      valueAndGradBatch(x, n, logp, grad) {
        for (let r = 0; r < n; r++) {
          const row = x.subarray(2 * r, 2 * r + 2);
          logp[r] = quad(row);
          grad[2 * r] = -row[0];
          grad[2 * r + 1] = -row[1]; // wrong
        }
      },
    };
    expect(checkTarget(batch).errors[0]).toMatchObject({ code: 'gradient-path', param: 'x2' });
    const noGrad = customTarget({ name: 'nograd', dim: 2, logDensity: quad });
    expect(checkTarget(noGrad).ok).toBe(true); // nothing claims a gradient
    const r = checkTarget(noGrad, { require: ['gradient'] });
    expect(r.errors[0].code).toBe('no-gradient');
    expect(r.errors[0].message).toMatch(/^target nograd: has no gradient/);
  });

  it('shapes: initialPoint, sampleExact and logProb of the wrong length are errors', () => {
    const t = customTarget({ name: 'shapes', dim: 2, logDensity: quad, gradLogDensity: quadGrad, initialPoint: () => new Float64Array(3), sampleExact: () => new Float64Array(3) });
    const msgs = checkTarget(t).errors.map((e) => e.message);
    expect(msgs).toEqual(expect.arrayContaining([
      'target shapes: initialPoint() has length 3, expected 2',
      'target shapes: sampleExact(2) returned 3 values, expected 2 x 2 = 4',
    ]));
    const column = customTarget({ name: 'column', dim: 2, logDensity: quad, gradLogDensity: quadGrad, logProb: (x) => tf.tidy(() => tf.sum(x, 1, true)) as unknown as tf.Tensor1D });
    expect(checkTarget(column).errors[0].message).toMatch(/logProb of an \[3, 2\] batch must have shape \[3\], got \[3, 1\]/);
  });

  it('kinks and support edges do not raise false alarms', () => {
    const t = expressionTarget('-abs(x1) - abs(x2 - 1)^3 - sqrt(1 + x1^2)');
    expect(checkTarget(t, { points: [[0, 1], [1e-9, 1], [2, -3]] }).errors).toEqual([]);
    const bounded = expressionTarget('log(x1) + log(1 - x1) - x2^2');
    expect(checkTarget(bounded, { points: [[1e-7, 0], [0.5, 1], [1 - 1e-7, 0], [2, 0]] }).errors).toEqual([]);
  });
});
