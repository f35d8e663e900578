import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { DimensionError, ParameterError } from '../src/core/errors.js';
import { customTarget } from '../src/targets/custom.js';
import { banana } from '../src/targets/banana.js';
import { checkGradient, checkTfAgrees, testPoints } from './targets.helpers.js';

beforeAll(async () => {
  await initBackend();
});

const b = banana();

describe('customTarget', () => {
  it('passes a full user target through (gradient, logProb, exact facts)', () => {
    const t = customTarget({
      name: 'mybanana',
      dim: 2,
      logDensity: (x) => b.logDensity(x),
      gradLogDensity: (x, out) => b.gradLogDensity(x, out),
      logProb: (x) => b.logProb!(x),
      logZ: b.logZ,
      sampleExact: b.sampleExact,
      mean: b.mean,
      variance: b.variance,
    });
    expect(t.logZ).toBe(b.logZ);
    for (const p of testPoints(t, 5)) checkGradient(t, p);
    checkTfAgrees(t, testPoints(t, 16));
  });

  it('finite-difference gradient only on request, accurate to ~1e-7 relative', () => {
    const fdT = customTarget({ name: 'fd', dim: 2, logDensity: (x) => b.logDensity(x), gradient: 'finite-difference' });
    const g = new Float64Array(2);
    const h = new Float64Array(2);
    for (const p of testPoints(b, 10)) {
      expect(fdT.gradLogDensity(p, g)).toBe(b.logDensity(p));
      b.gradLogDensity(p, h);
      for (let i = 0; i < 2; i++) expect(Math.abs(g[i] - h[i])).toBeLessThan(1e-6 * (1 + Math.abs(h[i])));
    }
    const none = customTarget({ name: 'nograd', dim: 2, logDensity: (x) => b.logDensity(x) });
    expect(() => none.gradLogDensity(new Float64Array(2), g)).toThrow(/target nograd has no gradient.*finite-difference/);
    // Without a tfjs logProb, flows train on the float64 path instead.
    expect(none.logProb).toBeUndefined();
  });

  it('bad specs give ParameterError; wrong point length gives DimensionError', () => {
    const ld = () => 0;
    expect(() => customTarget({ name: '', dim: 2, logDensity: ld })).toThrow(/name/);
    expect(() => customTarget({ name: 'a', dim: 0, logDensity: ld })).toThrow(/dim/);
    expect(() => customTarget({ name: 'a', dim: 2, logDensity: 3 as unknown as () => number })).toThrow(/logDensity/);
    expect(() => customTarget({ name: 'a', dim: 2, logDensity: ld, gradient: 'autodiff' as 'finite-difference' })).toThrow(ParameterError);
    expect(() => customTarget({ name: 'a', dim: 2, logDensity: ld, gradient: 'finite-difference', gradLogDensity: () => 0 })).toThrow(/not both/);
    expect(() => customTarget({ name: 'a', dim: 2, logDensity: ld, mean: new Float64Array(3) })).toThrow(/mean/);
    expect(() => customTarget({ name: 'a', dim: 2, logDensity: ld }).logDensity(new Float64Array(1))).toThrow(DimensionError);
  });
});
