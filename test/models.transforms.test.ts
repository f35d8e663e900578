/**
 * Every constraint transform: the value lands in its support, unconstrain inverts it, the
 * gradient of (constrained values + log-Jacobian) matches finite differences (1e-6 relative),
 * and the log-Jacobian equals log|det J| of a brute-force finite-difference Jacobian of the free
 * constrained coordinates.
 */
import { describe, expect, it } from 'vitest';
import { defineModel, param, ops, lupdf, ModelError, type ParamDecl, type ModelTarget } from '../src/models/index.js';
import { expectGradient, fdGradient, weights } from './helpers/modelGrad.js';
import { cholesky } from '../src/core/linalg.js';

/** log|det A| by Gaussian elimination with partial pivoting. */
function logAbsDet(a: Float64Array, n: number): number {
  const m = a.slice();
  let s = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[p * n + c])) p = r;
    if (p !== c) for (let k = 0; k < n; k++) [m[c * n + k], m[p * n + k]] = [m[p * n + k], m[c * n + k]];
    const d = m[c * n + c];
    s += Math.log(Math.abs(d));
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / d;
      for (let k = c; k < n; k++) m[r * n + k] -= f * m[c * n + k];
    }
  }
  return s;
}

/** A model with one parameter and no density terms of its own: log p = log-Jacobian + a weighted sum of the values. */
function transformTarget(decl: ParamDecl, extra?: Record<string, ParamDecl>): ModelTarget {
  return defineModel({
    name: `transform ${decl.kind}`,
    parameters: { ...(extra ?? {}), p: decl },
    logDensity: ({ p }) => ops.mul(1e-3, ops.dot(weights(p.len), p)),
  }).compile();
}

/** The log-Jacobian alone: the model's log density minus the weighted sum (computed from the constrained values). */
function logJacobian(t: ModelTarget, u: Float64Array): number {
  const vals = t.constrained.map(u, 1);
  const n = vals.length;
  const w = weights(n);
  let lin = 0;
  for (let i = 0; i < n; i++) lin += w[i] * vals[rowMajorIndex(t, i)];
  return t.logDensity(u) - 1e-3 * lin;
}
/** constrained.map lists matrices column-major; the weights were applied row-major. */
function rowMajorIndex(t: ModelTarget, i: number): number {
  const shape = t.layout[t.layout.length - 1].shape;
  if (shape.length < 2) return i;
  const [m, n] = shape;
  const r = Math.floor(i / n), c = i % n;
  return c * m + r;
}

interface Case {
  decl: ParamDecl;
  /** The free constrained coordinates (a square map from u) for the brute-force Jacobian. */
  free: (vals: Float64Array) => number[];
  inSupport: (vals: Float64Array) => boolean;
}

const K = 4;
const cases: Record<string, Case> = {
  'real (no bounds)': { decl: param.real(), free: (v) => [...v], inSupport: () => true },
  'lower bound': { decl: param.vector(3, { lower: 1.5 }), free: (v) => [...v], inSupport: (v) => v.every((x) => x > 1.5) },
  'upper bound': { decl: param.vector(3, { upper: -2 }), free: (v) => [...v], inSupport: (v) => v.every((x) => x < -2) },
  'lower and upper': { decl: param.vector(3, { lower: -1, upper: [2, 3, 4] }), free: (v) => [...v], inSupport: (v) => v.every((x, i) => x > -1 && x < 2 + i) },
  'offset and multiplier': { decl: param.vector(3, { offset: 2, multiplier: 0.5 }), free: (v) => [...v], inSupport: () => true },
  'matrix with lower bound': { decl: param.matrix(2, 2, { lower: 0 }), free: (v) => [...v], inSupport: (v) => v.every((x) => x > 0) },
  ordered: { decl: param.ordered(K), free: (v) => [...v], inSupport: (v) => v.every((x, i) => i === 0 || x > v[i - 1]) },
  'positive ordered': { decl: param.positiveOrdered(K), free: (v) => [...v], inSupport: (v) => v[0] > 0 && v.every((x, i) => i === 0 || x > v[i - 1]) },
  simplex: {
    decl: param.simplex(K),
    free: (v) => [...v].slice(0, K - 1),
    inSupport: (v) => v.every((x) => x > 0) && Math.abs(v.reduce((a, b) => a + b, 0) - 1) < 1e-12,
  },
  'Cholesky factor of a correlation matrix': {
    decl: param.choleskyFactorCorr(K),
    // column-major output; strictly lower entries (i > j)
    free: (v) => {
      const out: number[] = [];
      for (let j = 0; j < K; j++) for (let i = j + 1; i < K; i++) out.push(v[j * K + i]);
      return out;
    },
    inSupport: (v) => {
      for (let i = 0; i < K; i++) {
        let s = 0;
        for (let j = 0; j < K; j++) s += v[j * K + i] ** 2;
        if (Math.abs(s - 1) > 1e-12 || !(v[i * K + i] > 0)) return false;
        for (let j = i + 1; j < K; j++) if (v[j * K + i] !== 0) return false;
      }
      return true;
    },
  },
  'covariance matrix': {
    decl: param.covMatrix(3),
    free: (v) => {
      const out: number[] = [];
      for (let j = 0; j < 3; j++) for (let i = j; i < 3; i++) out.push(v[j * 3 + i]);
      return out;
    },
    inSupport: (v) => {
      try {
        cholesky(Float64Array.from(v), 3);
        return true;
      } catch {
        return false;
      }
    },
  },
};

describe('constraint transforms', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: support, round trip, gradient, log|det J|`, () => {
      const t = transformTarget(c.decl);
      const u = Float64Array.from({ length: t.dim }, (_, i) => 0.4 * Math.sin(1.7 * i + 0.3));
      const vals = t.constrained.map(u, 1);
      expect(c.inSupport(vals), `values ${Array.from(vals)}`).toBe(true);
      // round trip: values → unconstrained → values
      const shape = c.decl.shape;
      const rowMajor = shape.length === 2 ? Array.from({ length: shape[0] }, (_, i) => Array.from({ length: shape[1] }, (_, j) => vals[j * shape[0] + i])) : shape.length === 0 ? vals[0] : vals;
      const back = t.unconstrain({ p: rowMajor as number[][] });
      for (let i = 0; i < t.dim; i++) expect(back[i]).toBeCloseTo(u[i], 10);
      expectGradient(t, u);
      // brute-force Jacobian of the free coordinates
      const m = c.free(vals).length;
      expect(m).toBe(t.dim);
      const J = new Float64Array(m * m);
      for (let r = 0; r < m; r++) {
        const row = fdGradient((z) => c.free(t.constrained.map(z, 1))[r], u);
        for (let k = 0; k < m; k++) J[r * m + k] = row[k];
      }
      expect(logJacobian(t, u)).toBeCloseTo(logAbsDet(J, m), 6);
    });
  }

  it('unit vector: on the sphere, gradient, and −‖u‖²/2 in place of the Jacobian', () => {
    const t = transformTarget(param.unitVector(3));
    const u = Float64Array.of(0.3, -1.2, 0.8);
    const v = t.constrained.map(u, 1);
    expect(Math.hypot(...v)).toBeCloseTo(1, 14);
    expectGradient(t, u);
    expect(logJacobian(t, u)).toBeCloseTo(-0.5 * (0.09 + 1.44 + 0.64), 12);
  });

  it('dependent bounds: beta1 < 1 − alpha1 (GARCH), with gradients through the bound', () => {
    const t = defineModel({
      name: 'dependent',
      parameters: { alpha1: param.real({ lower: 0, upper: 1 }), beta1: param.real({ lower: 0, upper: (p) => ops.sub(1, p.alpha1) }) },
      logDensity: ({ alpha1, beta1 }) => ops.add(lupdf.normal(alpha1, 0.3, 0.2), lupdf.normal(beta1, 0.4, 0.2)),
    }).compile();
    for (const u of [Float64Array.of(0.3, -0.2), Float64Array.of(-1.5, 2)]) {
      const [a, b] = t.constrained.map(u, 1);
      expect(a > 0 && a < 1 && b > 0 && b < 1 - a).toBe(true);
      expectGradient(t, u);
      const back = t.unconstrain({ alpha1: a, beta1: b });
      expect(back[0]).toBeCloseTo(u[0], 10);
      expect(back[1]).toBeCloseTo(u[1], 10);
    }
  });

  it('rejects values outside the support when unconstraining, naming the parameter', () => {
    const t = transformTarget(param.vector(2, { lower: 0 }));
    expect(() => t.unconstrain({ p: [1, -1] })).toThrow(ModelError);
    expect(() => t.unconstrain({ p: [1, -1] })).toThrow(/parameter p/);
    expect(() => transformTarget(param.simplex(3)).unconstrain({ p: [0.5, 0.6, -0.1] })).toThrow(/simplex|sum to 1/);
  });
});

describe('warnings on the constrained scale', () => {
  it("R-hat and ESS warnings name the model's variables after constrainDraws, other warnings are kept", async () => {
    const { makeDraws } = await import('../src/core/draws.js');
    const { drawsWarnings } = await import('../src/diagnostics/drawsWarnings.js');
    const { constrainDraws } = await import('../src/models/draws.js');
    const t = defineModel({ name: 'positive', parameters: { alpha0: param.real({ lower: 0 }) }, logDensity: ({ alpha0 }) => lupdf.exponential(alpha0, 1) }).compile();
    expect(t.paramNames).toEqual(['alpha0_unc']);
    // Two chains that disagree (around −1 and +1 on the unconstrained scale).
    const draws = 400;
    const values = Float64Array.from({ length: 2 * draws }, (_, i) => (i < draws ? -1 : 1) + 0.1 * Math.sin(i * 1.3));
    const d = makeDraws({ sampler: 'test', dim: 1, chains: 2, draws, values, paramNames: t.paramNames, wallTimeMs: 1, densityEvals: 1, gradEvals: 1, divergences: 3, acceptance: NaN });
    d.warnings = drawsWarnings(d);
    expect(d.warnings.find((w) => w.code === 'rhat')!.message).toContain('alpha0_unc');
    const c = constrainDraws(d, t);
    const rhat = c.warnings.find((w) => w.code === 'rhat');
    expect(rhat?.message).toMatch(/R-hat of alpha0 is/);
    expect(rhat?.values.rhat).toBeCloseTo(d.warnings.find((w) => w.code === 'rhat')!.values.rhat, 10);
    expect(c.warnings.some((w) => w.code === 'divergences')).toBe(true);
  });
});
