import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { ParameterError } from '../src/core/errors.js';
import { energy, type EnergyName } from '../src/targets/energy.js';
import { checkGradient, checkTfAgrees, logZGrid2d, testPoints } from './targets.helpers.js';

beforeAll(async () => {
  await initBackend();
});

const names: EnergyName[] = ['u1', 'u2', 'u3', 'u4'];

/** Table 1 of Rezende & Mohamed (2015), written out independently (naive, inside the box). */
function paperU(name: EnergyName, z1: number, z2: number): number {
  const w1 = Math.sin((2 * Math.PI * z1) / 4);
  const w2 = 3 * Math.exp(-0.5 * ((z1 - 1) / 0.6) ** 2);
  const w3 = 3 / (1 + Math.exp(-(z1 - 1) / 0.3));
  switch (name) {
    case 'u1':
      return 0.5 * ((Math.sqrt(z1 * z1 + z2 * z2) - 2) / 0.4) ** 2 - Math.log(Math.exp(-0.5 * ((z1 - 2) / 0.6) ** 2) + Math.exp(-0.5 * ((z1 + 2) / 0.6) ** 2));
    case 'u2':
      return 0.5 * ((z2 - w1) / 0.4) ** 2;
    case 'u3':
      return -Math.log(Math.exp(-0.5 * ((z2 - w1) / 0.35) ** 2) + Math.exp(-0.5 * ((z2 - w1 + w2) / 0.35) ** 2));
    case 'u4':
      return -Math.log(Math.exp(-0.5 * ((z2 - w1) / 0.4) ** 2) + Math.exp(-0.5 * ((z2 - w1 + w3) / 0.35) ** 2));
  }
}

describe('Rezende & Mohamed energies', () => {
  it('equal -U of the paper inside [-4, 4]²', () => {
    for (const n of names) {
      const t = energy(n);
      for (const [a, b] of [[0.3, -1.2], [-2.5, 0.7], [1.1, 2.9], [3.9, -3.5]]) {
        expect(t.logDensity(Float64Array.from([a, b]))).toBeCloseTo(-paperU(n, a, b), 10);
      }
    }
  });

  it('analytic gradients match central differences, inside and outside the box', () => {
    for (const n of names) {
      const t = energy(n);
      const pts = testPoints(t, 12).concat([Float64Array.from([5.3, 0.4]), Float64Array.from([-6, -1]), Float64Array.from([0.02, -0.01])]);
      for (const p of pts) checkGradient(t, p);
    }
  });

  it('tfjs logProb and gradient agree with float64', () => {
    for (const n of names) {
      const t = energy(n);
      checkTfAgrees(t, testPoints(t, 32, 5).concat([Float64Array.from([5.3, 0.4]), Float64Array.from([-4.6, 1])]));
    }
  });

  it('log Z by grid quadrature is finite and stable under box growth and grid refinement', () => {
    for (const n of names) {
      const t = energy(n);
      const a = logZGrid2d(t, [[-7, 7], [-7, 7]], 700);
      const b = logZGrid2d(t, [[-9, 9], [-9, 9]], 1400);
      expect(Number.isFinite(a)).toBe(true);
      // p̃ ≤ 2 everywhere and the mass sits in ~[-5, 5]²: 0 < Z < 200.
      expect(Math.exp(a)).toBeGreaterThan(0.1);
      expect(Math.exp(a)).toBeLessThan(200);
      expect(Math.abs(a - b)).toBeLessThan(1e-6);
      // U2 alone has an exact log Z (each z1-slice integrates to 0.4√(2π)).
      if (n === 'u2') expect(Math.abs(b - t.logZ!)).toBeLessThan(1e-6);
      else expect(t.logZ).toBeUndefined();
    }
  });

  it('unknown names give ParameterError', () => {
    expect(() => energy('u5' as EnergyName)).toThrow(ParameterError);
    expect(() => energy('toString' as EnergyName)).toThrow(/u1, u2, u3 or u4/);
  });
});
