import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { ParameterError, ParseError } from '../src/core/errors.js';
import { RandomStream } from '../src/core/random.js';
import { expressionTarget } from '../src/targets/expression.js';
import { banana } from '../src/targets/banana.js';
import { checkGradient, checkTfAgrees } from './targets.helpers.js';

beforeAll(async () => {
  await initBackend();
});

function points(dim: number, n: number, seed: string, lo = -2, hi = 2): Float64Array[] {
  const rng = new RandomStream(seed);
  return Array.from({ length: n }, () => Float64Array.from({ length: dim }, () => lo + (hi - lo) * rng.uniform()));
}

describe('expressionTarget', () => {
  it('evaluates the README example and matches a hand-written banana', () => {
    const t = expressionTarget('-(x1^2)/8 - (x2 - x1^2/4)^2/2');
    expect(t.dim).toBe(2);
    const x = Float64Array.from([1.3, -0.4]);
    expect(t.logDensity(x)).toBeCloseTo(-(1.3 ** 2) / 8 - (-0.4 - 1.3 ** 2 / 4) ** 2 / 2, 14);
    // The anchors banana2d written as an expression agrees with the built-in banana.
    const e = expressionTarget('-x1^2/200 - (x2 + 0.1*x1^2 - 10)^2/2');
    const b = banana();
    for (const p of points(2, 10, 'ban', -20, 20)) expect(e.logDensity(p)).toBeCloseTo(b.logDensity(p), 9);
  });

  const good = [
    '-(x1^2)/8 - (x2 - x1^2/4)^2/2',
    '-0.5*(x1^2 + x2^2 + x3^2) + log(1 + x1^2) - abs(x2)',
    '-square(x1) - cube(x2)/10 + sin(pi*x1) * cos(e*x2)',
    '-exp(x1)/3 + tanh(x2) + atan(x1*x2) - sqrt(1 + x1^2)',
    '-log1p(x1^2) + expm1(-x2^2) - sinh(x1)/5 + cosh(x2)/7 + tan(x1/3)',
    '-2x1^2 - x2^-2 - x2^(-1)',
    '-x1^x2',
  ];

  it('analytic (mathjs derivative) gradients match central differences', () => {
    for (const s of good) {
      const t = expressionTarget(s);
      const pts = s.includes('x1^x2') ? points(t.dim, 8, s, 0.2, 2) : points(t.dim, 8, s, -1.5, 1.5).map((p) => p.map((v) => (Math.abs(v) < 0.2 ? v + 0.4 : v)));
      for (const p of pts) checkGradient(t, p, 1e-5);
    }
  });

  it('tfjs path agrees with the float64 path (values and gradients)', () => {
    for (const s of good) {
      const t = expressionTarget(s);
      const pts = s.includes('x1^x2') ? points(t.dim, 16, s, 0.2, 2) : points(t.dim, 16, s, -1.5, 1.5).map((p) => p.map((v) => (Math.abs(v) < 0.2 ? v + 0.4 : v)));
      checkTfAgrees(t, pts);
    }
  });

  it('abs has gradient 0 (not NaN) at its kink; NaN values are -Infinity', () => {
    const t = expressionTarget('-abs(x1) - x2^2');
    const g = new Float64Array(2);
    t.gradLogDensity(Float64Array.from([0, 1]), g);
    expect(g[0] === 0 && g[1] === -2).toBe(true);
    const l = expressionTarget('log(x1) - x2^2');
    expect(l.logDensity(Float64Array.from([-1, 0]))).toBe(-Infinity);
    expect(l.gradLogDensity(Float64Array.from([-1, 0]), g)).toBe(-Infinity);
  });

  it('builds a 50-D expression quickly (no mathjs simplify) with the right gradient', () => {
    const s = '-(' + Array.from({ length: 50 }, (_, i) => `x${i + 1}^2`).join(' + ') + ')/2';
    const t0 = performance.now();
    const t = expressionTarget(s);
    expect(performance.now() - t0).toBeLessThan(5000);
    const x = Float64Array.from({ length: 50 }, (_, i) => i / 10 - 2);
    const g = new Float64Array(50);
    expect(t.gradLogDensity(x, g)).toBeCloseTo(-0.5 * x.reduce((a, v) => a + v * v, 0), 10);
    for (let i = 0; i < 50; i++) expect(g[i]).toBeCloseTo(-x[i], 12);
  });

  it('an expression that does not depend on a coordinate is improper: a ParseError naming it', () => {
    // 0*x1 folds away: log p̃ = 3 is flat in x1 (it used to run, with a healthy-looking row).
    expect(() => expressionTarget('0*x1 + 3')).toThrow(/does not depend on x1 .*improper/);
    expect(() => expressionTarget('-x1^2/2 + 0*x2')).toThrow(/does not depend on x2/);
    expect(() => expressionTarget('-x1^2/2 + x2 - x2')).toThrow(/does not depend on x2/);
    expect(() => expressionTarget('-x1^2/2 - x2^2')).not.toThrow();
  });

  const forbidden: [string, RegExp][] = [
    ['a = 2', /assignment/],
    ['f(x) = x^2', /function definition/],
    ['x1.y', /property or index access/],
    ['x1[1]', /property or index access/],
    ['{a: 1}', /object/],
    ['[x1, x2]', /array/],
    ['x1; x2', /block/],
    ['x1 > 0 ? x1 : -x1', /conditional/],
    ['1:3', /range/],
    ['x1 > 2', /operator '>'/],
    ['x1 mod 2', /operator 'mod'/],
    ['x1!', /operator '!'/],
    ['import(x1)', /function 'import'/],
    ['evaluate("x1")', /function 'evaluate'|not a number/],
    ['parse(x1)', /function 'parse'/],
    ['createUnit(x1)', /function 'createUnit'/],
    ['x1 + y', /unknown symbol 'y'/],
    ['x0 + x1', /unknown symbol 'x0'/],
    ['5 cm + x1', /unknown symbol 'cm'/],
    ['"abc" + x1', /not a number/],
    ['log(x1, 2)', /exactly one argument/],
    ['sec(x1)', /function 'sec'/],
    ['-x1^2 - x3^2', /x2 does not/],
    ['3 + 4', /no variables/],
    ['x1 +', /^expression: /],
    ['', /non-empty/],
  ];

  it('rejects every forbidden construct with a ParseError naming it', () => {
    for (const [s, re] of forbidden) {
      let err: unknown;
      try {
        expressionTarget(s);
      } catch (e) {
        err = e;
      }
      expect(err, s).toBeInstanceOf(ParseError);
      expect((err as Error).message, s).toMatch(re);
    }
  });

  it('checks an explicit dim and the input shape', () => {
    expect(expressionTarget('-x1^2-x2^2', { dim: 2 }).dim).toBe(2);
    expect(() => expressionTarget('-x1^2-x2^2', { dim: 3 })).toThrow(ParameterError);
    expect(() => expressionTarget('-x1^2').logDensity(new Float64Array(2))).toThrow(/dim 1/);
  });
});
