/**
 * Constrained parameters: each declaration is a bijection from unconstrained reals to its
 * support, with the log absolute Jacobian determinant that the density on the unconstrained
 * scale needs, as in the Stan Reference Manual ("Constraint transforms"):
 * - real with lower and/or upper bounds (exp, or scaled inverse logit), or offset/multiplier;
 * - ordered and positive-ordered vectors (first element, then exp of the gaps);
 * - simplex by stick-breaking (z_k = logit⁻¹(u_k − log(K − k)));
 * - unit vector (u / ‖u‖, with −‖u‖²/2 in place of a Jacobian);
 * - Cholesky factor of a correlation matrix (tanh of canonical partial correlations);
 * - covariance matrix (L with exp diagonal, Σ = L Lᵀ).
 * The forward maps are built from the model ops, so their gradients come from the same graph.
 * Bounds may be numbers, arrays, or functions of the parameters declared before them
 * (`upper: (p) => sub(1, p.alpha1)`).
 */
import { ModelError, Var, shapeText, sizeOf, type Shape, type Value } from './graph.js';
import {
  add, sub, mul, div, exp, log, sqrt, square, tanh, invLogit, logInvLogit, log1mInvLogit, log1m,
} from './ops.js';
import { addAll, at, cumulativeSum, dot, reshape, slice, stack, sum } from './structure.js';
import { matMul } from './linalg.js';
import { transpose } from './structure.js';
import { logit } from './special.js';
import { cholesky as choleskyNumbers } from '../core/linalg.js';

export type Bound = Value | ((params: Record<string, Var | number | Float64Array>) => Value);

export interface RealOptions {
  lower?: Bound;
  upper?: Bound;
  offset?: Bound;
  multiplier?: Bound;
}

export type ParamKind = 'real' | 'ordered' | 'positiveOrdered' | 'simplex' | 'unitVector' | 'choleskyFactorCorr' | 'covMatrix';

/** A declared parameter: its kind, its constrained shape and, for reals, its bounds. */
export interface ParamDecl {
  readonly kind: ParamKind;
  readonly shape: Shape;
  readonly options: RealOptions;
}

function checkSize(what: string, n: number, min = 1): number {
  if (!Number.isInteger(n) || n < min) throw new ModelError(`${what}: size must be an integer ≥ ${min}, got ${String(n)}`);
  return n;
}

/** Declarations, named after Stan's types. */
export const param = {
  /** A real scalar, or an array of reals when shape is given; optional bounds. */
  real(options: RealOptions = {}, shape: Shape = []): ParamDecl {
    shape.forEach((s) => checkSize('real', s));
    return { kind: 'real', shape, options };
  },
  vector(n: number, options: RealOptions = {}): ParamDecl {
    return { kind: 'real', shape: [checkSize('vector', n)], options };
  },
  matrix(rows: number, cols: number, options: RealOptions = {}): ParamDecl {
    return { kind: 'real', shape: [checkSize('matrix', rows), checkSize('matrix', cols)], options };
  },
  /** real<lower=0> (or vector<lower=0>[n]). */
  positive(n?: number): ParamDecl {
    return { kind: 'real', shape: n === undefined ? [] : [checkSize('positive', n)], options: { lower: 0 } };
  },
  /** real<lower=0, upper=1>. */
  probability(n?: number): ParamDecl {
    return { kind: 'real', shape: n === undefined ? [] : [checkSize('probability', n)], options: { lower: 0, upper: 1 } };
  },
  ordered(K: number): ParamDecl {
    return { kind: 'ordered', shape: [checkSize('ordered', K)], options: {} };
  },
  positiveOrdered(K: number): ParamDecl {
    return { kind: 'positiveOrdered', shape: [checkSize('positiveOrdered', K)], options: {} };
  },
  simplex(K: number): ParamDecl {
    return { kind: 'simplex', shape: [checkSize('simplex', K, 2)], options: {} };
  },
  unitVector(K: number): ParamDecl {
    return { kind: 'unitVector', shape: [checkSize('unitVector', K, 2)], options: {} };
  },
  choleskyFactorCorr(K: number): ParamDecl {
    return { kind: 'choleskyFactorCorr', shape: [checkSize('choleskyFactorCorr', K, 2), K], options: {} };
  },
  covMatrix(K: number): ParamDecl {
    return { kind: 'covMatrix', shape: [checkSize('covMatrix', K), K], options: {} };
  },
};

/** Number of unconstrained reals a declaration takes. */
export function freeSize(d: ParamDecl): number {
  const n = sizeOf(d.shape);
  switch (d.kind) {
    case 'real':
    case 'ordered':
    case 'positiveOrdered':
    case 'unitVector':
      return n;
    case 'simplex':
      return d.shape[0] - 1;
    case 'choleskyFactorCorr':
      return (d.shape[0] * (d.shape[0] - 1)) / 2;
    case 'covMatrix':
      return d.shape[0] + (d.shape[0] * (d.shape[0] - 1)) / 2;
  }
}

type Resolved = { lower?: Value; upper?: Value; offset?: Value; multiplier?: Value };

/** Evaluates bound functions against the parameters declared so far. */
export function resolveBounds(name: string, d: ParamDecl, earlier: Record<string, Var | number | Float64Array>): Resolved {
  const out: Resolved = {};
  for (const key of ['lower', 'upper', 'offset', 'multiplier'] as const) {
    const b = d.options[key];
    if (b === undefined) continue;
    out[key] = typeof b === 'function' ? (b as (p: Record<string, Var | number | Float64Array>) => Value)(earlier) : b;
    const n = sizeOf(d.shape);
    const v = out[key]!;
    const len = v instanceof Var ? v.len : typeof v === 'number' ? 1 : (v as ArrayLike<unknown>).length;
    if (len !== 1 && len !== n) throw new ModelError(`parameter ${name}: ${key} has ${len} values for ${shapeText(d.shape)}`);
  }
  if ((out.lower !== undefined || out.upper !== undefined) && (out.offset !== undefined || out.multiplier !== undefined)) {
    throw new ModelError(`parameter ${name}: give bounds or offset/multiplier, not both`);
  }
  return out;
}

export interface Constrained {
  value: Var;
  logJacobian: Var | number;
}

function asVar(v: Value, like: Var, shape: Shape): Var {
  if (v instanceof Var) return v.shape.length === shape.length ? v : (reshape(v, shape) as Var);
  // A data result of a bounded transform cannot happen (u is a Var); keep the types honest.
  throw new ModelError(`internal: expected a model value for ${like}`);
}

/** The constrained value of one parameter from its unconstrained slice `u` (a vector Var). */
export function constrain(name: string, d: ParamDecl, u: Var, b: Resolved): Constrained {
  const shape = d.shape;
  switch (d.kind) {
    case 'real': {
      const { lower, upper, offset, multiplier } = b;
      if (lower !== undefined && upper !== undefined) {
        const width = sub(upper, lower);
        const x = add(lower, mul(width, invLogit(u)));
        // A scalar log(width) broadcasts over the elements, so the sum counts it once per element.
        return { value: asVar(x, u, shape), logJacobian: sum(add(log(width), add(logInvLogit(u), log1mInvLogit(u)))) };
      }
      if (lower !== undefined) return { value: asVar(add(lower, exp(u)), u, shape), logJacobian: sum(u) };
      if (upper !== undefined) return { value: asVar(sub(upper, exp(u)), u, shape), logJacobian: sum(u) };
      if (offset !== undefined || multiplier !== undefined) {
        const m = multiplier ?? 1;
        const x = add(offset ?? 0, mul(m, u));
        const lm = log(m);
        const lj = sizeOf(shapeOfBound(m)) === 1 ? mul(sizeOf(shape), lm) : sum(lm);
        return { value: asVar(x, u, shape), logJacobian: lj as Var | number };
      }
      return { value: reshape(u, shape) as Var, logJacobian: 0 };
    }
    case 'ordered': {
      const K = shape[0];
      if (K === 1) return { value: u, logJacobian: 0 };
      const rest = slice(u, 1, K - 1) as Var;
      const x = cumulativeSum(stack([at(u, 0) as Var, exp(rest) as Var])) as Var;
      return { value: x, logJacobian: sum(rest) };
    }
    case 'positiveOrdered':
      return { value: cumulativeSum(exp(u)) as Var, logJacobian: sum(u) };
    case 'simplex': {
      const K = shape[0];
      const xs: Value[] = [];
      const lj: Value[] = [];
      let rem: Value = 1;
      for (let k = 0; k < K - 1; k++) {
        const uk = sub(at(u, k), Math.log(K - k - 1));
        const z = invLogit(uk);
        const xk = mul(rem, z);
        lj.push(logInvLogit(uk), log1mInvLogit(uk));
        if (k > 0) lj.push(log(rem));
        xs.push(xk);
        rem = sub(rem, xk);
      }
      xs.push(rem);
      return { value: stack(xs) as Var, logJacobian: addAll(lj) };
    }
    case 'unitVector': {
      const r2 = dot(u, u);
      return { value: div(u, sqrt(r2)) as Var, logJacobian: mul(-0.5, r2) as Var };
    }
    case 'choleskyFactorCorr': {
      const K = shape[0];
      const z = tanh(u) as Var;
      const lj: Value[] = [sum(log1m(square(z)))];
      const el: Value[] = new Array(K * K).fill(0);
      el[0] = 1;
      let k = 0;
      for (let i = 1; i < K; i++) {
        let ss: Value = 0;
        for (let j = 0; j < i; j++) {
          const zij = at(z, k++) as Var;
          const lij = j === 0 ? zij : mul(zij, sqrt(sub(1, ss)));
          if (j > 0) lj.push(mul(0.5, log1m(ss)));
          el[i * K + j] = lij;
          ss = add(ss, square(lij));
        }
        el[i * K + i] = sqrt(sub(1, ss));
      }
      return { value: reshape(stack(el), [K, K]) as Var, logJacobian: addAll(lj) };
    }
    case 'covMatrix': {
      const K = shape[0];
      const el: Value[] = new Array(K * K).fill(0);
      const lj: Value[] = [K * Math.LN2];
      let k = 0;
      for (let m = 0; m < K; m++) {
        for (let n = 0; n < m; n++) el[m * K + n] = at(u, k++) as Var;
        const ukk = at(u, k++) as Var;
        el[m * K + m] = exp(ukk);
        lj.push(mul(K - m + 1, ukk));
      }
      const L = reshape(stack(el), [K, K]) as Var;
      return { value: matMul(L, transpose(L)) as Var, logJacobian: addAll(lj) };
    }
  }
}

function shapeOfBound(v: Value): Shape {
  if (v instanceof Var) return v.shape;
  if (typeof v === 'number') return [];
  return [(v as ArrayLike<unknown>).length];
}

/** The inverse map on plain numbers: unconstrained reals from constrained values (row-major). */
export function unconstrain(name: string, d: ParamDecl, x: ArrayLike<number>, b: Resolved): Float64Array {
  const n = sizeOf(d.shape);
  if (x.length !== n) throw new ModelError(`parameter ${name}: expected ${n} values for ${shapeText(d.shape)}, got ${x.length}`);
  const elem = (v: Value | undefined, i: number): number | undefined => {
    if (v === undefined) return undefined;
    if (v instanceof Var) throw new ModelError(`parameter ${name}: bounds must be numbers here`);
    if (typeof v === 'number') return v;
    const a = v as ArrayLike<number>;
    return a.length === 1 ? a[0] : a[i];
  };
  const fail = (what: string) => {
    throw new ModelError(`parameter ${name}: ${what}`);
  };
  const u = new Float64Array(freeSize(d));
  switch (d.kind) {
    case 'real':
      for (let i = 0; i < n; i++) {
        const lo = elem(b.lower, i), hi = elem(b.upper, i), off = elem(b.offset, i), mult = elem(b.multiplier, i);
        const v = x[i];
        if (lo !== undefined && hi !== undefined) {
          if (!(v > lo && v < hi)) fail(`value ${v} is not inside (${lo}, ${hi})`);
          u[i] = logit((v - lo) / (hi - lo));
        } else if (lo !== undefined) {
          if (!(v > lo)) fail(`value ${v} is not above its lower bound ${lo}`);
          u[i] = Math.log(v - lo);
        } else if (hi !== undefined) {
          if (!(v < hi)) fail(`value ${v} is not below its upper bound ${hi}`);
          u[i] = Math.log(hi - v);
        } else {
          u[i] = (v - (off ?? 0)) / (mult ?? 1);
        }
      }
      return u;
    case 'ordered':
    case 'positiveOrdered':
      for (let i = 0; i < n; i++) {
        const gap = i === 0 ? x[0] : x[i] - x[i - 1];
        if (i === 0 && d.kind === 'ordered') u[0] = x[0];
        else {
          if (!(gap > 0)) fail(`values must be strictly increasing${d.kind === 'positiveOrdered' ? ' and positive' : ''}`);
          u[i] = Math.log(gap);
        }
      }
      return u;
    case 'simplex': {
      let rem = 1;
      for (let k = 0; k < n - 1; k++) {
        const z = x[k] / rem;
        if (!(z > 0 && z < 1)) fail('values must be positive and sum to 1');
        u[k] = logit(z) + Math.log(n - k - 1);
        rem -= x[k];
      }
      return u;
    }
    case 'unitVector':
      u.set(x);
      return u;
    case 'choleskyFactorCorr': {
      const K = d.shape[0];
      let k = 0;
      for (let i = 1; i < K; i++) {
        let ss = 0;
        for (let j = 0; j < i; j++) {
          const z = j === 0 ? x[i * K] : x[i * K + j] / Math.sqrt(1 - ss);
          if (!(Math.abs(z) < 1)) fail('not the Cholesky factor of a correlation matrix');
          u[k++] = Math.atanh(z);
          ss += x[i * K + j] ** 2;
        }
      }
      return u;
    }
    case 'covMatrix': {
      const K = d.shape[0];
      const L = choleskyNumbers(Float64Array.from(x), K, `parameter ${name}`);
      let k = 0;
      for (let m = 0; m < K; m++) {
        for (let c = 0; c < m; c++) u[k++] = L[m * K + c];
        u[k++] = Math.log(L[m * K + m]);
      }
      return u;
    }
  }
}
