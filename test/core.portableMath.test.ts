/**
 * portableMath: within about 1 ulp of the engine's Math functions (which are themselves within
 * 1 ulp of the truth), special values right, and a few results pinned bit for bit, so that an
 * engine or a refactor that changed them would be caught here and not as a quietly different
 * chain.
 */
import { describe, expect, it } from 'vitest';
import { exp, log, powPositive, sinCosTurn } from '../src/core/portableMath.js';
import { RandomStream } from '../src/core/random.js';

/** |a − b| in units of b's last place. */
function ulps(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(b) * 2 ** -52, 5e-324);
}

describe('portableMath', () => {
  const rng = new RandomStream('portable-math');

  it('exp agrees with Math.exp to 2 ulp over its whole range, and at the edges', () => {
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      const x = i % 2 ? (rng.uniform() - 0.5) * 1400 : (rng.uniform() - 0.5) * 20;
      worst = Math.max(worst, ulps(exp(x), Math.exp(x)));
    }
    expect(worst).toBeLessThan(2);
    expect(exp(0)).toBe(1);
    expect(exp(710)).toBe(Infinity);
    expect(exp(-746)).toBe(0);
    expect(exp(-Infinity)).toBe(0);
    expect(exp(NaN)).toBeNaN();
    expect(ulps(exp(709.78), Math.exp(709.78))).toBeLessThan(2);
    expect(exp(-745)).toBe(5e-324);
  });

  it('log agrees with Math.log to 2 ulp from subnormals to the largest double, and near 1', () => {
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      const x = i % 3 === 0 ? rng.uniform() : i % 3 === 1 ? Math.exp((rng.uniform() - 0.5) * 1400) : 1 + (rng.uniform() - 0.5) * 1e-6;
      worst = Math.max(worst, ulps(log(x), Math.log(x)));
    }
    expect(worst).toBeLessThan(2);
    for (const x of [5e-324, 1e-310, 2.2250738585072014e-308, Number.MAX_VALUE, 2, 0.5, Math.SQRT2]) expect(ulps(log(x), Math.log(x)), String(x)).toBeLessThan(2);
    expect(log(1)).toBe(0);
    expect(log(0)).toBe(-Infinity);
    expect(log(-1)).toBeNaN();
    expect(log(Infinity)).toBe(Infinity);
    expect(ulps(powPositive(1000, -0.75), Math.pow(1000, -0.75))).toBeLessThan(8);
  });

  it('sinCosTurn(u) is sin and cos of 2πu to 1e-15 and keeps sin² + cos² = 1', () => {
    const out = new Float64Array(2);
    let worst = 0;
    let worstNorm = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = rng.uniform();
      sinCosTurn(u, out);
      worst = Math.max(worst, Math.abs(out[0] - Math.sin(2 * Math.PI * u)), Math.abs(out[1] - Math.cos(2 * Math.PI * u)));
      worstNorm = Math.max(worstNorm, Math.abs(out[0] ** 2 + out[1] ** 2 - 1));
    }
    expect(worst).toBeLessThan(1e-15);
    expect(worstNorm).toBeLessThan(5e-16);
    expect(Array.from(sinCosTurn(0, out))).toEqual([0, 1]);
    expect(Array.from(sinCosTurn(0.25, out))).toEqual([1, -0]);
    expect(Array.from(sinCosTurn(0.5, out))).toEqual([-0, -1]);
  });

  it('pinned bits: these values are the same in every engine', () => {
    // Math.exp(1.7) itself differs in the last bit between Node 20 and Chromium 156.
    expect(exp(1.7)).toBe(5.473947391727199);
    expect(log(0.3)).toBe(-1.2039728043259361);
    expect(Array.from(new RandomStream(13).fillNormal(new Float64Array(4)))).toEqual(PINNED_NORMALS);
  });
});

const PINNED_NORMALS = [0.13691387832942314, 0.22959101084305386, 1.196717269128086, 2.97320269528181];
