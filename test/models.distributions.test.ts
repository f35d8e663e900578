/**
 * Every distribution: the gradient with respect to every continuous argument against finite
 * differences (1e-6 relative), normalisation (the normalised density integrates, or the mass
 * function sums, to 1), the `~` form differing from the normalised one by a constant, and
 * −∞ outside the support.
 */
import { describe, expect, it } from 'vitest';
import { lpdf, lupdf, ops, FAMILY_NAMES, defineModel, param, type FamilyName, type Var, type Value } from '../src/models/index.js';
import { expectGradient, fnTarget } from './helpers/modelGrad.js';

type Dist = Record<string, (...a: Value[]) => Value>;
const LP = lpdf as unknown as Dist;
const LU = lupdf as unknown as Dist;
const e = (x: Var, i: number) => ops.exp(ops.at(x, i));
const v3 = (x: Var) => ops.slice(x, 0, 3);

/** Arguments inside the support from unconstrained x (length 6: a 3-vector variate and three scalars). */
const ARGS: Record<FamilyName, (x: Var) => Value[]> = {
  normal: (x) => [v3(x), ops.at(x, 3), e(x, 4)],
  studentT: (x) => [v3(x), ops.add(1, e(x, 5)), ops.at(x, 3), e(x, 4)],
  cauchy: (x) => [v3(x), ops.at(x, 3), e(x, 4)],
  exponential: (x) => [ops.exp(v3(x)), e(x, 4)],
  gamma: (x) => [ops.exp(v3(x)), e(x, 4), e(x, 5)],
  invGamma: (x) => [ops.exp(v3(x)), e(x, 4), e(x, 5)],
  lognormal: (x) => [ops.exp(v3(x)), ops.at(x, 3), e(x, 4)],
  beta: (x) => [ops.invLogit(v3(x)), e(x, 4), e(x, 5)],
  uniform: (x) => [ops.add(ops.at(x, 3), ops.mul(e(x, 4), ops.invLogit(v3(x)))), ops.at(x, 3), ops.add(ops.at(x, 3), ops.add(e(x, 4), e(x, 5)))],
  bernoulli: (x) => [[0, 1, 1], ops.invLogit(ops.at(x, 3))],
  bernoulliLogit: (x) => [[0, 1, 1], ops.at(x, 3)],
  binomial: (x) => [[0, 3, 7], [7, 9, 7], ops.invLogit(ops.at(x, 3))],
  binomialLogit: (x) => [[0, 3, 7], [7, 9, 7], v3(x)],
  poisson: (x) => [[0, 4, 11], e(x, 4)],
  poissonLog: (x) => [[0, 4, 11], v3(x)],
  negBinomial2: (x) => [[0, 4, 11], e(x, 4), e(x, 5)],
};

const X6 = Float64Array.of(-0.4, 0.3, 1.1, 0.2, 0.35, 0.6);

describe('univariate families', () => {
  for (const name of FAMILY_NAMES) {
    it(`${name}: gradient of lpdf and lupdf in every argument`, () => {
      expectGradient(fnTarget(`${name} lpdf`, 6, (x) => LP[name](...ARGS[name](x))), X6);
      expectGradient(fnTarget(`${name} lupdf`, 6, (x) => LU[name](...ARGS[name](x))), X6);
    });
    it(`${name}: lpdf − lupdf is the same constant at two points`, () => {
      const a = fnTarget('a', 6, (x) => LP[name](...ARGS[name](x)));
      const b = fnTarget('b', 6, (x) => LU[name](...ARGS[name](x)));
      const x2 = X6.map((v) => 0.5 * v - 0.1);
      expect(a.logDensity(X6) - b.logDensity(X6)).toBeCloseTo(a.logDensity(x2) - b.logDensity(x2), 10);
    });
  }

  it('the graph and the data-only call agree', () => {
    const t = defineModel({ name: 'n', parameters: { s: param.positive() }, logDensity: ({ s }) => lpdf.normal([1, 2.5], 0.3, s) }).compile();
    // log-Jacobian of s = exp(u) is u.
    expect(t.logDensity(Float64Array.of(Math.log(1.7)))).toBeCloseTo((lpdf.normal([1, 2.5], 0.3, 1.7) as number) + Math.log(1.7), 12);
  });

  /** ∫ exp(lpdf) over the support by the midpoint rule after mapping (0, 1) onto it. */
  function integral(logf: (y: number) => number, support: 'real' | 'positive' | 'unit' | [number, number]): number {
    const n = 40_000;
    let s = 0;
    for (let k = 0; k < n; k++) {
      const u = (k + 0.5) / n;
      let y: number, jac: number;
      if (support === 'real') {
        y = Math.tan(Math.PI * (u - 0.5));
        jac = Math.PI * (1 + y * y);
      } else if (support === 'positive') {
        y = u / (1 - u);
        jac = 1 / (1 - u) ** 2;
      } else if (support === 'unit') {
        y = u;
        jac = 1;
      } else {
        y = support[0] + (support[1] - support[0]) * u;
        jac = support[1] - support[0];
      }
      const v = Math.exp(logf(y)) * jac;
      if (Number.isFinite(v)) s += v;
    }
    return s / n;
  }
  const num = (v: Value) => v as number;
  const continuous: [string, (y: number) => number, Parameters<typeof integral>[1]][] = [
    ['normal', (y) => num(lpdf.normal(y, 0.3, 1.7)), 'real'],
    ['studentT', (y) => num(lpdf.studentT(y, 4.5, 0.3, 1.7)), 'real'],
    ['cauchy', (y) => num(lpdf.cauchy(y, 0.3, 0.8)), 'real'],
    ['halfNormal', (y) => num(lpdf.halfNormal(y, 1.7)), 'positive'],
    ['halfCauchy', (y) => num(lpdf.halfCauchy(y, 0.8)), 'positive'],
    ['exponential', (y) => num(lpdf.exponential(y, 1.3)), 'positive'],
    ['gamma', (y) => num(lpdf.gamma(y, 2.5, 1.3)), 'positive'],
    ['invGamma', (y) => num(lpdf.invGamma(y, 3.5, 1.3)), 'positive'],
    ['lognormal', (y) => num(lpdf.lognormal(y, 0.2, 0.6)), 'positive'],
    ['beta', (y) => num(lpdf.beta(y, 2.5, 1.5)), 'unit'],
    ['uniform', (y) => num(lpdf.uniform(y, -1, 2.5)), [-2, 3]],
  ];
  for (const [name, f, support] of continuous) {
    it(`${name}: the normalised density integrates to 1`, () => {
      expect(integral(f, support)).toBeCloseTo(1, 5);
    });
  }
  const discrete: [string, (n: number) => number, number][] = [
    ['bernoulli', (n) => num(lpdf.bernoulli(n, 0.3)), 1],
    ['bernoulliLogit', (n) => num(lpdf.bernoulliLogit(n, -0.4)), 1],
    ['binomial', (n) => num(lpdf.binomial(n, 12, 0.3)), 12],
    ['binomialLogit', (n) => num(lpdf.binomialLogit(n, 12, 0.8)), 12],
    ['poisson', (n) => num(lpdf.poisson(n, 6.5)), 200],
    ['poissonLog', (n) => num(lpdf.poissonLog(n, 1.2)), 200],
    ['negBinomial2', (n) => num(lpdf.negBinomial2(n, 6.5, 2.2)), 2000],
  ];
  for (const [name, f, top] of discrete) {
    it(`${name}: the mass function sums to 1`, () => {
      let s = 0;
      for (let n = 0; n <= top; n++) s += Math.exp(f(n));
      expect(s).toBeCloseTo(1, 10);
    });
  }

  it('is −∞ outside the support and for invalid parameters, never NaN', () => {
    expect(lpdf.normal(0, 0, -1)).toBe(-Infinity);
    expect(lpdf.exponential(-1, 1)).toBe(-Infinity);
    expect(lpdf.beta(1.5, 2, 2)).toBe(-Infinity);
    expect(lpdf.poisson(3, -1)).toBe(-Infinity);
    expect(lpdf.binomial(5, 4, 0.5)).toBe(-Infinity);
    expect(lpdf.uniform(3, 0, 1)).toBe(-Infinity);
  });
  it('counts must be integer data', () => {
    expect(() => lpdf.poisson(1.5, 2)).toThrow(/must be an integer/);
    expect(() => fnTarget('p', 1, (x) => lpdf.poisson(x, 2))).toThrow(/must be data/);
  });
});

describe('multivariate families', () => {
  it('dirichlet: gradient in θ and α; for K = 2 it is the beta density', () => {
    expectGradient(fnTarget('dir', 4, (x) => lpdf.dirichlet(ops.stack([ops.invLogit(ops.at(x, 0)), ops.sub(1, ops.invLogit(ops.at(x, 0)))]), ops.exp(ops.slice(x, 1, 2)))), Float64Array.of(0.3, 0.2, -0.4, 0));
    expect(lpdf.dirichlet([0.3, 0.7], [2.5, 1.5])).toBeCloseTo(lpdf.beta(0.3, 2.5, 1.5) as number, 12);
    const a = fnTarget('a', 1, (x) => lpdf.dirichlet(ops.stack([ops.invLogit(x), ops.sub(1, ops.invLogit(x))]), [2, 3]));
    const b = fnTarget('b', 1, (x) => lupdf.dirichlet(ops.stack([ops.invLogit(x), ops.sub(1, ops.invLogit(x))]), [2, 3]));
    expect(a.logDensity(Float64Array.of(0.2)) - b.logDensity(Float64Array.of(0.2))).toBeCloseTo(a.logDensity(Float64Array.of(-1)) - b.logDensity(Float64Array.of(-1)), 12);
  });
  it('multiNormalCholesky: gradient in y, μ and L; equals the product of normals for diagonal L; matches the dense formula', () => {
    const f = (x: Var) => {
      const L = ops.reshape(ops.stack([e(x, 0), 0, 0, ops.at(x, 1), e(x, 2), 0, ops.at(x, 3), ops.at(x, 4), e(x, 5)]), [3, 3]);
      return lpdf.multiNormalCholesky(ops.slice(x, 6, 3), ops.slice(x, 9, 3), L);
    };
    expectGradient(fnTarget('mvn', 12, f), Float64Array.of(0.1, 0.4, -0.2, 0.3, -0.5, 0.2, 0.7, -0.3, 1.2, 0.1, 0.2, -0.4));
    const diag = lpdf.multiNormalCholesky([0.5, -1], [0, 0.2], [[2, 0], [0, 0.5]]) as number;
    expect(diag).toBeCloseTo((lpdf.normal(0.5, 0, 2) as number) + (lpdf.normal(-1, 0.2, 0.5) as number), 12);
  });
  it('lkjCorrCholesky: gradient in L and η; for K = 2 the density of the correlation integrates to 1', () => {
    const t = defineModel({
      name: 'lkj',
      parameters: { L: param.choleskyFactorCorr(3), eta: param.positive() },
      logDensity: ({ L, eta }) => lpdf.lkjCorrCholesky(L, eta),
    }).compile();
    expectGradient(t, Float64Array.of(0.3, -0.5, 0.2, 0.4));
    // K = 2: L = [[1, 0], [r, √(1 − r²)]] with L₂₁ = r the free coordinate, so p(L) is the density of r.
    for (const eta of [1, 1.5, 2.5]) {
      let s = 0;
      const n = 20_000;
      for (let k = 0; k < n; k++) {
        const r = -1 + (2 * (k + 0.5)) / n;
        const lp = lpdf.lkjCorrCholesky([[1, 0], [r, Math.sqrt(1 - r * r)]], eta) as number;
        s += Math.exp(lp) * (2 / n);
      }
      expect(s).toBeCloseTo(1, 5);
    }
  });
});
