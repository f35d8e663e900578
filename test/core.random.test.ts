import { describe, expect, it } from 'vitest';
import { RandomStream } from '../src/core/random.js';

describe('RandomStream', () => {
  it('same seed gives the same numbers; different seeds differ', () => {
    const a = new RandomStream(42);
    const b = new RandomStream(42);
    const c = new RandomStream(43);
    const xa = Array.from({ length: 10 }, () => a.normal());
    const xb = Array.from({ length: 10 }, () => b.normal());
    const xc = Array.from({ length: 10 }, () => c.normal());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
  });

  it('a saved state replays exactly, including the cached Box–Muller variate', () => {
    const a = new RandomStream('s');
    a.normal(); // leaves a spare in the cache
    const saved = a.state();
    const next = [a.normal(), a.normal(), a.uniform()];
    const b = new RandomStream('s', JSON.parse(JSON.stringify(saved)));
    expect([b.normal(), b.normal(), b.uniform()]).toEqual(next);
  });

  it('derived streams are deterministic and independent of siblings', () => {
    const root = new RandomStream(7);
    const c0 = root.derive('chain', 0).uniform();
    const c1 = root.derive('chain', 1).uniform();
    expect(new RandomStream(7).derive('chain', 0).uniform()).toBe(c0);
    expect(c0).not.toBe(c1);
  });

  it('normals have mean 0 and variance 1 within 5 standard errors', () => {
    const n = 200_000;
    const x = new RandomStream(1).fillNormal(new Float64Array(n));
    let m = 0;
    for (const v of x) m += v;
    m /= n;
    let v2 = 0;
    for (const v of x) v2 += (v - m) ** 2;
    v2 /= n - 1;
    expect(Math.abs(m)).toBeLessThan(5 / Math.sqrt(n));
    // Var of the sample variance of N(0,1) is 2/(n-1).
    expect(Math.abs(v2 - 1)).toBeLessThan(5 * Math.sqrt(2 / (n - 1)));
  });

  it('uniforms stay in the open interval (0, 1)', () => {
    const u = new RandomStream(3).fillUniform(new Float64Array(100_000));
    expect(Math.min(...u)).toBeGreaterThan(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });
});
