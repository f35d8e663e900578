/**
 * Every model op: the reverse-mode gradient against finite differences (1e-6 relative), the
 * batched path against the single-point path, data-only calls against plain numbers, and the
 * tracer's refusal to turn a model value into a number.
 */
import { describe, expect, it } from 'vitest';
import { ops, special, ModelError, type Var, type Value } from '../src/models/index.js';
import { UNARY, BINARY, type UnaryName, type BinaryName } from '../src/models/elementwise.js';
import { expectGradient, fnTarget, weights } from './helpers/modelGrad.js';
import type { Target } from '../src/targets/target.js';

const O = ops as unknown as Record<string, (...a: Value[]) => Value>;

/** Points inside each unary op's domain, as a function of the unconstrained x. */
const UNARY_DOMAIN: Partial<Record<UnaryName, (x: Var) => Value>> = {
  log: (x) => ops.exp(x),
  log1p: (x) => ops.exp(x),
  sqrt: (x) => ops.exp(x),
  inv: (x) => ops.add(2, ops.exp(x)),
  logit: (x) => ops.invLogit(x),
  log1mExp: (x) => ops.neg(ops.exp(x)),
  lgamma: (x) => ops.add(0.3, ops.exp(x)),
  digamma: (x) => ops.add(0.3, ops.exp(x)),
};

const X3 = Float64Array.of(-0.7, 0.4, 1.3);

function expectBatchMatches(t: Target, x: Float64Array, rows = 5): void {
  const n = rows;
  const xb = new Float64Array(n * t.dim);
  for (let r = 0; r < n; r++) for (let j = 0; j < t.dim; j++) xb[r * t.dim + j] = x[j] * (1 - 0.1 * r) + 0.05 * r;
  const logp = new Float64Array(n);
  const grad = new Float64Array(n * t.dim);
  t.valueAndGradBatch!(xb, n, logp, grad);
  const g1 = new Float64Array(t.dim);
  for (let r = 0; r < n; r++) {
    const xr = xb.subarray(r * t.dim, (r + 1) * t.dim);
    expect(logp[r]).toBe(t.gradLogDensity(xr, g1));
    expect(Array.from(grad.subarray(r * t.dim, (r + 1) * t.dim))).toEqual(Array.from(g1));
  }
}

describe('elementwise ops', () => {
  for (const name of Object.keys(UNARY) as UnaryName[]) {
    it(`${name}: gradient and batch`, () => {
      const pre = UNARY_DOMAIN[name] ?? ((x: Var) => x);
      const w = weights(3);
      const t = fnTarget(name, 3, (x) => ops.dot(w, O[name](pre(x))));
      expectGradient(t, X3);
      expectBatchMatches(t, X3);
    });
  }
  for (const name of Object.keys(BINARY) as BinaryName[]) {
    const pos = name === 'pow' || name === 'lbeta';
    const a = (x: Var) => (pos ? ops.exp(ops.slice(x, 0, 3)) : ops.slice(x, 0, 3));
    const b = (x: Var) => (pos ? ops.exp(ops.at(x, 3)) : ops.mul(2, ops.at(x, 3)));
    const x4 = Float64Array.of(-0.7, 0.4, 1.3, 0.25);
    it(`${name}: vector-vector, vector-scalar, scalar-vector, data-model`, () => {
      const w = weights(3, 2);
      expectGradient(fnTarget(`${name} vv`, 4, (x) => ops.dot(w, O[name](a(x), ops.add(a(x), ops.at(x, 3))))), x4);
      expectGradient(fnTarget(`${name} vs`, 4, (x) => ops.dot(w, O[name](a(x), b(x)))), x4);
      expectGradient(fnTarget(`${name} sv`, 4, (x) => ops.dot(w, O[name](b(x), a(x)))), x4);
      expectGradient(fnTarget(`${name} cv`, 4, (x) => ops.dot(w, O[name](Float64Array.of(0.5, 1.5, 2.5), a(x)))), x4);
      expectBatchMatches(fnTarget(`${name} vs`, 4, (x) => ops.dot(w, O[name](a(x), b(x)))), x4);
    });
  }
  it('data-only calls give plain numbers from the same formulas', () => {
    expect(ops.add(1, 2)).toBe(3);
    expect(ops.log1pExp(800)).toBe(800);
    expect(ops.logInvLogit(-800)).toBe(-800);
    expect(Array.from(ops.mul([1, 2], 3) as Float64Array)).toEqual([3, 6]);
    expect(ops.lgamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(special.logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 12);
  });
});

describe('reductions, structure and linear algebra', () => {
  const x6 = Float64Array.of(0.3, -0.2, 0.5, 0.9, -1.1, 0.4);
  const cases: Record<string, (x: Var) => Value> = {
    sum: (x) => ops.sum(ops.square(x)),
    dot: (x) => ops.dot(ops.slice(x, 0, 3), ops.slice(x, 3, 3)),
    'dot (same operand)': (x) => ops.dot(x, x),
    logSumExp: (x) => ops.logSumExp(x),
    'logSumExp of a list': (x) => ops.logSumExp([ops.at(x, 0), ops.slice(x, 2, 3), 0.5]),
    stack: (x) => ops.dot(weights(4), ops.square(ops.stack([ops.at(x, 5), ops.slice(x, 0, 2), 1.5]))),
    rep: (x) => ops.dot(weights(3), ops.exp(ops.rep(ops.at(x, 2), 3))),
    cumulativeSum: (x) => ops.dot(weights(6), ops.square(ops.cumulativeSum(x))),
    transpose: (x) => ops.dot(weights(6), ops.square(ops.transpose(ops.reshape(x, [2, 3])))),
    diagonal: (x) => ops.sum(ops.exp(ops.diagonal(ops.reshape(ops.stack([x, ops.slice(x, 0, 3)]), [3, 3])))),
    'matMul (data matrix, model vector)': (x) => ops.sumSquares(ops.matMul([[1, 2, 3], [4, 5, 6]], ops.slice(x, 0, 3))),
    'matMul (model matrix, data vector)': (x) => ops.sumSquares(ops.matMul(ops.reshape(x, [2, 3]), [0.5, -1, 2])),
    'matMul (model matrices)': (x) => ops.sumSquares(ops.matMul(ops.reshape(x, [2, 3]), ops.transpose(ops.reshape(x, [2, 3])))),
    cholesky: (x) => {
      // A = B Bᵀ + I is positive definite for any B.
      const B = ops.reshape(ops.stack([x, ops.slice(x, 0, 3)]), [3, 3]);
      const A = ops.addDiag(ops.matMul(B, ops.transpose(B)), 1);
      return ops.dot(weights(9), ops.cholesky(A as Var));
    },
    solveLowerTriangular: (x) => {
      const L = ops.reshape(ops.stack([ops.exp(ops.at(x, 0)), 0, ops.at(x, 1), ops.exp(ops.at(x, 2))]), [2, 2]);
      return ops.dot(weights(2), ops.solveLowerTriangular(L, ops.slice(x, 3, 2)));
    },
    logMix: (x) => ops.sum(ops.logMix(ops.invLogit(ops.at(x, 0)), ops.slice(x, 1, 2), ops.slice(x, 3, 2))),
    gpExpQuadCov: (x) => ops.dot(weights(9), ops.gpExpQuadCov([-1, 0, 2], ops.exp(ops.at(x, 0)), ops.exp(ops.at(x, 1)))),
    diagMatrix: (x) => ops.dot(weights(9), ops.exp(ops.diagMatrix(ops.slice(x, 0, 3)))),
    mean: (x) => ops.square(ops.mean(x)),
  };
  for (const [name, f] of Object.entries(cases)) {
    it(`${name}: gradient and batch`, () => {
      const t = fnTarget(name, 6, f);
      expectGradient(t, x6);
      expectBatchMatches(t, x6);
    });
  }

  it('cholesky of a matrix that is not positive definite gives −∞ density, not a crash', () => {
    const t = fnTarget('chol', 1, (x) => ops.sum(ops.cholesky(ops.reshape(ops.stack([1, ops.at(x, 0), ops.at(x, 0), 1]), [2, 2]) as Var)));
    expect(Number.isNaN(t.logDensity(Float64Array.of(2)))).toBe(true);
    expect(Number.isFinite(t.logDensity(Float64Array.of(0.5)))).toBe(true);
  });
});

describe('the tracer', () => {
  it('refuses to turn a model value into a number (if, Math.*, +)', () => {
    const bad: ((x: Var) => Value)[] = [
      (x) => (Number(ops.at(x, 0)) > 0 ? 1 : ops.at(x, 0)),
      (x) => Math.exp(ops.at(x, 0) as unknown as number),
      (x) => (ops.at(x, 0) as unknown as number) + 1,
    ];
    for (const f of bad) expect(() => fnTarget('bad', 2, f)).toThrow(ModelError);
    expect(() => fnTarget('bad', 2, (x) => (ops.at(x, 0) as unknown as number) * 2)).toThrow(/use the model ops/);
  });
  it('names shape mismatches', () => {
    expect(() => fnTarget('bad', 3, (x) => ops.add(x, [1, 2]))).toThrow(/shapes vector\[3\] and vector\[2\] do not match/);
    expect(() => fnTarget('bad', 3, (x) => ops.matMul([[1, 2]], x))).toThrow(/inner sizes 2 and 3 differ/);
    expect(() => fnTarget('bad', 3, (x) => ops.at(x, 3))).toThrow(/out of range/);
  });
});
