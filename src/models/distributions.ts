/**
 * Log densities of the distributions Stan users write, vectorised: every argument may be a
 * scalar or a vector (scalars broadcast), data or a model value, and the result is the sum over
 * elements. Each univariate family states its terms and partial derivatives once (the table
 * below); the fused loops are generated from it, as for the elementwise ops.
 *
 * Two forms, as in Stan:
 * - `lpdf.*` is the normalised log density (log probability mass for discrete families);
 * - `lupdf.*` is the `y ~ dist(...)` form: terms that depend on no model value are dropped
 *   (the 2π constants, log σ when σ is data, log y! when y is data, ...).
 * Outside the support, or with invalid parameters, the log density is −∞ (the sampler rejects
 * the point), never a NaN.
 */
import * as S from './special.js';
import { ModelError, Var, baseOf, constValue, elemStride, graphOf, operandOf, rowStride, shapeText, sizeOf } from './graph.js';
import type { Frame, Fusable, Instr, Operand, Value } from './graph.js';
import { add, sub, mul, log, lgamma, neg } from './ops.js';
import { addAll, diagonal, dot, sum } from './structure.js';
import { solveLowerTriangular } from './linalg.js';

interface Term {
  expr: string;
  /** Arguments the term depends on; `lupdf` keeps it only when one of them is a model value. */
  deps: string[];
}

interface FamilyDef {
  args: string[];
  /** Valid arguments and support; false gives −∞. */
  guard: string;
  pre?: string;
  terms: Term[];
  /** ∂ log p / ∂ arg for every continuous argument. */
  d: Record<string, string>;
  /** Arguments that must be data (counts). */
  discrete?: string[];
  /**
   * Where every `when` argument is one value for all elements: term `term`, the only
   * per-element term then, as a sufficient statistic (graph.ts `Statistic`); `d` gives the other
   * arguments' adjoints per element, `after` the `when` arguments' from the sum.
   */
  statistic?: { when: string[]; term: number; shared: string; pre: string; sum: string; value: string; d: Record<string, string>; after: Record<string, string> };
}

const FAMILIES = {
  normal: {
    args: ['y', 'mu', 'sigma'],
    guard: 'sigma > 0',
    // 1 / σ once: with one σ for every element the compiled loop computes it before the loop.
    pre: 'const is = 1 / sigma; const z = (y - mu) * is;',
    terms: [
      { expr: '-0.5 * z * z', deps: ['y', 'mu', 'sigma'] },
      { expr: '-Math.log(sigma)', deps: ['sigma'] },
      { expr: '-0.5 * S.LOG_2PI', deps: [] },
    ],
    d: { y: '-z * is', mu: 'z * is', sigma: '(z * z - 1) * is' },
    // A regression's one σ: Σ (y − μ)² is all the loop computes; the log-σ term is counted once (familyLoop).
    statistic: {
      when: ['sigma'],
      term: 0,
      shared: 'const is = 1 / sigma; const is2 = is * is;',
      pre: 'const r = y - mu;',
      sum: 'r * r',
      value: '-0.5 * sum * is2',
      d: { y: '-r * is2', mu: 'r * is2' },
      after: { sigma: '(sum * is2 - count) * is' },
    },
  },
  studentT: {
    args: ['y', 'nu', 'mu', 'sigma'],
    guard: 'nu > 0 && sigma > 0',
    pre: 'const z = (y - mu) / sigma; const q = z * z / nu;',
    terms: [
      { expr: 'S.lgamma(0.5 * (nu + 1)) - S.lgamma(0.5 * nu) - 0.5 * Math.log(nu)', deps: ['nu'] },
      { expr: '-0.5 * S.LOG_PI', deps: [] },
      { expr: '-Math.log(sigma)', deps: ['sigma'] },
      { expr: '-0.5 * (nu + 1) * Math.log1p(q)', deps: ['y', 'nu', 'mu', 'sigma'] },
    ],
    d: {
      y: '-(nu + 1) * z / (nu * sigma * (1 + q))',
      mu: '(nu + 1) * z / (nu * sigma * (1 + q))',
      sigma: '(-1 + (nu + 1) * q / (1 + q)) / sigma',
      nu: '0.5 * (S.digamma(0.5 * (nu + 1)) - S.digamma(0.5 * nu) - 1 / nu - Math.log1p(q) + (nu + 1) * q / (nu * (1 + q)))',
    },
  },
  cauchy: {
    args: ['y', 'mu', 'sigma'],
    guard: 'sigma > 0',
    pre: 'const is = 1 / sigma; const z = (y - mu) * is;',
    terms: [
      { expr: '-Math.log1p(z * z)', deps: ['y', 'mu', 'sigma'] },
      { expr: '-Math.log(sigma)', deps: ['sigma'] },
      { expr: '-S.LOG_PI', deps: [] },
    ],
    d: { y: '(-2 * z * is) / (1 + z * z)', mu: '(2 * z * is) / (1 + z * z)', sigma: '(-1 + (2 * z * z) / (1 + z * z)) * is' },
  },
  exponential: {
    args: ['y', 'beta'],
    guard: 'beta > 0 && y >= 0',
    terms: [
      { expr: 'Math.log(beta)', deps: ['beta'] },
      { expr: '-beta * y', deps: ['y', 'beta'] },
    ],
    d: { y: '-beta', beta: '1 / beta - y' },
  },
  gamma: {
    args: ['y', 'alpha', 'beta'],
    guard: 'alpha > 0 && beta > 0 && y >= 0',
    terms: [
      { expr: 'alpha * Math.log(beta)', deps: ['alpha', 'beta'] },
      { expr: '-S.lgamma(alpha)', deps: ['alpha'] },
      { expr: '(alpha - 1) * Math.log(y)', deps: ['y', 'alpha'] },
      { expr: '-beta * y', deps: ['y', 'beta'] },
    ],
    d: { y: '(alpha - 1) / y - beta', alpha: 'Math.log(beta) - S.digamma(alpha) + Math.log(y)', beta: 'alpha / beta - y' },
  },
  invGamma: {
    args: ['y', 'alpha', 'beta'],
    guard: 'alpha > 0 && beta > 0 && y > 0',
    terms: [
      { expr: 'alpha * Math.log(beta)', deps: ['alpha', 'beta'] },
      { expr: '-S.lgamma(alpha)', deps: ['alpha'] },
      { expr: '-(alpha + 1) * Math.log(y)', deps: ['y', 'alpha'] },
      { expr: '-beta / y', deps: ['y', 'beta'] },
    ],
    d: { y: '-(alpha + 1) / y + beta / (y * y)', alpha: 'Math.log(beta) - S.digamma(alpha) - Math.log(y)', beta: 'alpha / beta - 1 / y' },
  },
  lognormal: {
    args: ['y', 'mu', 'sigma'],
    guard: 'sigma > 0 && y > 0',
    pre: 'const is = 1 / sigma; const ly = Math.log(y); const z = (ly - mu) * is;',
    terms: [
      { expr: '-0.5 * z * z', deps: ['y', 'mu', 'sigma'] },
      { expr: '-Math.log(sigma)', deps: ['sigma'] },
      { expr: '-ly', deps: ['y'] },
      { expr: '-0.5 * S.LOG_2PI', deps: [] },
    ],
    d: { y: '-(z * is + 1) / y', mu: 'z * is', sigma: '(z * z - 1) * is' },
  },
  beta: {
    args: ['y', 'a', 'b'],
    guard: 'a > 0 && b > 0 && y >= 0 && y <= 1',
    terms: [
      { expr: '-S.lbeta(a, b)', deps: ['a', 'b'] },
      { expr: '(a - 1) * Math.log(y)', deps: ['y', 'a'] },
      { expr: '(b - 1) * Math.log1p(-y)', deps: ['y', 'b'] },
    ],
    d: {
      y: '(a - 1) / y - (b - 1) / (1 - y)',
      a: 'S.digamma(a + b) - S.digamma(a) + Math.log(y)',
      b: 'S.digamma(a + b) - S.digamma(b) + Math.log1p(-y)',
    },
  },
  uniform: {
    args: ['y', 'lo', 'hi'],
    guard: 'lo < hi && y >= lo && y <= hi',
    terms: [{ expr: '-Math.log(hi - lo)', deps: ['lo', 'hi'] }],
    d: { y: '0', lo: '1 / (hi - lo)', hi: '-1 / (hi - lo)' },
  },
  bernoulli: {
    args: ['n', 'theta'],
    discrete: ['n'],
    guard: 'theta >= 0 && theta <= 1 && (n === 0 || n === 1)',
    terms: [{ expr: 'n === 1 ? Math.log(theta) : Math.log1p(-theta)', deps: ['n', 'theta'] }],
    d: { theta: 'n === 1 ? 1 / theta : -1 / (1 - theta)' },
  },
  bernoulliLogit: {
    args: ['n', 'alpha'],
    discrete: ['n'],
    guard: 'n === 0 || n === 1',
    terms: [{ expr: 'n === 1 ? -S.log1pExp(-alpha) : -S.log1pExp(alpha)', deps: ['n', 'alpha'] }],
    d: { alpha: 'n - S.invLogit(alpha)' },
  },
  binomial: {
    args: ['n', 'N', 'theta'],
    discrete: ['n', 'N'],
    guard: 'theta >= 0 && theta <= 1 && n >= 0 && n <= N',
    terms: [
      { expr: 'S.lchoose(N, n)', deps: ['n', 'N'] },
      { expr: '(n > 0 ? n * Math.log(theta) : 0) + (N - n > 0 ? (N - n) * Math.log1p(-theta) : 0)', deps: ['n', 'N', 'theta'] },
    ],
    d: { theta: 'n / theta - (N - n) / (1 - theta)' },
  },
  binomialLogit: {
    args: ['n', 'N', 'alpha'],
    discrete: ['n', 'N'],
    guard: 'n >= 0 && n <= N',
    terms: [
      { expr: 'S.lchoose(N, n)', deps: ['n', 'N'] },
      { expr: 'n * S.logInvLogit(alpha) + (N - n) * S.log1mInvLogit(alpha)', deps: ['n', 'N', 'alpha'] },
    ],
    d: { alpha: 'n - N * S.invLogit(alpha)' },
  },
  poisson: {
    args: ['n', 'lambda'],
    discrete: ['n'],
    guard: 'lambda >= 0 && n >= 0',
    terms: [
      { expr: '-S.lgamma(n + 1)', deps: ['n'] },
      { expr: '(n > 0 ? n * Math.log(lambda) : 0) - lambda', deps: ['n', 'lambda'] },
    ],
    d: { lambda: 'n / lambda - 1' },
  },
  poissonLog: {
    args: ['n', 'alpha'],
    discrete: ['n'],
    guard: 'n >= 0',
    terms: [
      { expr: '-S.lgamma(n + 1)', deps: ['n'] },
      { expr: 'n * alpha - Math.exp(alpha)', deps: ['n', 'alpha'] },
    ],
    d: { alpha: 'n - Math.exp(alpha)' },
  },
  negBinomial2: {
    args: ['n', 'mu', 'phi'],
    discrete: ['n'],
    guard: 'mu > 0 && phi > 0 && n >= 0',
    terms: [
      { expr: 'S.lgamma(n + phi) - S.lgamma(phi)', deps: ['n', 'phi'] },
      { expr: '-S.lgamma(n + 1)', deps: ['n'] },
      { expr: 'n * Math.log(mu) + phi * Math.log(phi) - (n + phi) * Math.log(mu + phi)', deps: ['n', 'mu', 'phi'] },
    ],
    d: {
      mu: 'n / mu - (n + phi) / (mu + phi)',
      phi: 'S.digamma(n + phi) - S.digamma(phi) + Math.log(phi) + 1 - Math.log(mu + phi) - (n + phi) / (mu + phi)',
    },
  },
} satisfies Record<string, FamilyDef>;

export type FamilyName = keyof typeof FAMILIES;
export const FAMILY_NAMES = Object.keys(FAMILIES) as FamilyName[];

/** `p` holds base, element stride and row stride of each argument; `n` says which arguments need adjoints. */
type Fwd = (V: Float64Array, L: number, nc: number, ob: number, p: Int32Array) => void;
type Bwd = (V: Float64Array, G: Float64Array, L: number, nc: number, ob: number, p: Int32Array, n: Uint8Array) => void;
interface Kernel {
  fwd: Fwd;
  bwd: Bwd;
  scalar: (...args: number[]) => number;
}

// The generated code only sees the formulas of the table above (never user input).
function compile<T>(params: string[], body: string): T {
  return new Function('S', `"use strict"; return function (${params.join(', ')}) {\n${body}\n};`)(S) as T;
}

const kernels = new Map<string, Kernel>();

/** The loops of one family with the terms selected by `mask` (bit t: term t included). */
function kernelFor(name: FamilyName, mask: number): Kernel {
  const key = `${name}:${mask}`;
  const hit = kernels.get(key);
  if (hit) return hit;
  const def: FamilyDef = FAMILIES[name];
  const A = def.args;
  const terms = def.terms.filter((_, t) => (mask >> t) & 1).map((t) => `(${t.expr})`);
  const value = terms.length ? terms.join(' + ') : '0';
  const unpack = A.map((_, k) => `const b${k} = p[${3 * k}], e${k} = p[${3 * k + 1}], s${k} = p[${3 * k + 2}];`).join(' ');
  const load = A.map((a, k) => `const ${a} = V[b${k} + i * e${k} + r * s${k}];`).join(' ');
  const fwd = compile<Fwd>(
    ['V', 'L', 'nc', 'ob', 'p'],
    `${unpack}
     if (nc === 1) {
       let acc = 0;
       for (let i = 0, r = 0; i < L; i++) {
         ${load}
         if (!(${def.guard})) return void (V[ob] = -Infinity);
         ${def.pre ?? ''}
         acc += ${value};
       }
       V[ob] = acc;
       return;
     }
     for (let r = 0; r < nc; r++) V[ob + r] = 0;
     for (let i = 0; i < L; i++) for (let r = 0; r < nc; r++) {
       ${load}
       if (!(${def.guard})) { V[ob + r] = -Infinity; continue; }
       ${def.pre ?? ''}
       V[ob + r] += ${value};
     }`,
  );
  const cont = A.filter((a) => !(def.discrete ?? []).includes(a));
  const needs = cont.map((a, k) => `const n_${a} = n[${k}] === 1;`).join(' ');
  const bwd = compile<Bwd>(
    ['V', 'G', 'L', 'nc', 'ob', 'p', 'n'],
    `${unpack} ${needs}
     const one = nc === 1;
     for (let i = 0; i < L; i++) for (let r = 0; r < nc; r++) {
       const g = one ? G[ob] : G[ob + r]; if (g === 0) continue;
       ${load}
       if (!(${def.guard})) continue;
       ${def.pre ?? ''}
       ${cont.map((a) => `if (n_${a}) G[b${A.indexOf(a)} + i * e${A.indexOf(a)} + r * s${A.indexOf(a)}] += g * (${def.d[a]});`).join('\n')}
     }`,
  );
  const scalar = compile<(...a: number[]) => number>(A, `if (!(${def.guard})) return -Infinity; ${def.pre ?? ''} return ${value};`);
  const k = { fwd, bwd, scalar };
  kernels.set(key, k);
  return k;
}

/**
 * The family's terms as one reduction for the compiler; terms that depend only on broadcast
 * (length-1) arguments and not on the shared subexpressions are computed once (σ's log-term of a
 * regression with one σ).
 */
function familyLoop(name: FamilyName, mask: number, ops: Operand[], L: number, out: Operand): Fusable {
  const def: FamilyDef = FAMILIES[name];
  const shared = [...(def.pre ?? '').matchAll(/const\s+(\w+)/g)].map((m) => m[1]);
  const uses = (expr: string, id: string) => new RegExp(`\\b${id}\\b`).test(expr);
  const once: string[] = [];
  const each: string[] = [];
  const eachTerm: number[] = [];
  def.terms.forEach((t, k) => {
    if (!((mask >> k) & 1)) return;
    const broadcastOnly = L > 1 && t.deps.every((d) => ops[def.args.indexOf(d)].len === 1) && !shared.some((id) => uses(t.expr, id));
    if (broadcastOnly) once.push(`(${t.expr})`);
    else {
      each.push(`(${t.expr})`);
      eachTerm.push(k);
    }
  });
  const discrete = def.discrete ?? [];
  const st = def.statistic;
  // The statistic replaces the per-element terms only when its term is the only one left there.
  const statistic =
    st && L > 1 && st.when.every((a) => ops[def.args.indexOf(a)].len === 1) && eachTerm.length === 1 && eachTerm[0] === st.term
      ? {
          shared: st.shared,
          pre: st.pre,
          sum: st.sum,
          value: st.value,
          adjoints: def.args.map((a) => (st.d[a] === undefined ? null : `g * (${st.d[a]})`)),
          after: def.args.map((a) => (st.after[a] === undefined ? null : `g * (${st.after[a]})`)),
        }
      : undefined;
  return {
    L,
    inputs: ops,
    names: def.args,
    out,
    reduce: true,
    guard: def.guard,
    pre: def.pre,
    value: each.length ? each.join(' + ') : '0',
    ...(once.length ? { once: once.join(' + ') } : {}),
    adjoints: def.args.map((a) => (discrete.includes(a) ? null : `g * (${def.d[a]})`)),
    ...(statistic ? { statistic } : {}),
  };
}

class FamilyInstr implements Instr {
  private readonly p: Int32Array;
  private readonly n: Uint8Array;
  readonly fused: readonly Fusable[];
  constructor(
    private readonly k: Kernel,
    name: FamilyName,
    mask: number,
    private readonly ops: Operand[],
    private readonly L: number,
    needs: boolean[],
    private readonly out: Operand,
  ) {
    this.p = new Int32Array(3 * ops.length);
    this.n = Uint8Array.from(needs, (b) => (b ? 1 : 0));
    this.fused = [familyLoop(name, mask, ops, L, out)];
  }
  private ptrs(f: Frame): Int32Array {
    const p = this.p;
    for (let k = 0; k < this.ops.length; k++) {
      const o = this.ops[k];
      p[3 * k] = baseOf(f, o);
      p[3 * k + 1] = elemStride(f, o, this.L);
      p[3 * k + 2] = rowStride(o);
    }
    return p;
  }
  forward(f: Frame): void {
    this.k.fwd(f.V, this.L, f.nc, baseOf(f, this.out), this.ptrs(f));
  }
  backward(f: Frame): void {
    this.k.bwd(f.V, f.G, this.L, f.nc, baseOf(f, this.out), this.ptrs(f), this.n);
  }
}

function family(name: FamilyName, normalised: boolean, args: Value[]): Var | number {
  const def: FamilyDef = FAMILIES[name];
  if (args.length !== def.args.length) {
    throw new ModelError(`${name}: takes ${def.args.length} arguments (${def.args.join(', ')}), got ${args.length}`);
  }
  const g = graphOf(args);
  const isVar = args.map((a) => a instanceof Var);
  for (const dname of def.discrete ?? []) {
    const k = def.args.indexOf(dname);
    if (isVar[k]) throw new ModelError(`${name}: ${dname} is a count and must be data, not a model value`);
    const vals = constValue(args[k] as Exclude<Value, Var>, `${name}(${dname})`).values;
    for (let i = 0; i < vals.length; i++) {
      if (!Number.isInteger(vals[i])) throw new ModelError(`${name}: ${dname}[${i}] = ${vals[i]} must be an integer`);
    }
  }
  let mask = 0;
  def.terms.forEach((t, k) => {
    if (normalised || t.deps.some((d) => isVar[def.args.indexOf(d)])) mask |= 1 << k;
  });
  const kern = kernelFor(name, mask);
  const lens = args.map((a, k) => sizeOf(a instanceof Var ? a.shape : constValue(a as Exclude<Value, Var>, `${name}(${def.args[k]})`).shape));
  const L = Math.max(...lens);
  lens.forEach((l, k) => {
    if (l !== 1 && l !== L) throw new ModelError(`${name}: ${def.args[k]} has length ${l} but another argument has length ${L} (lengths must match or be 1)`);
  });
  if (!g) {
    const vals = args.map((a) => constValue(a as Exclude<Value, Var>).values);
    let s = 0;
    for (let i = 0; i < L; i++) s += kern.scalar(...vals.map((v) => (v.length === 1 ? v[0] : v[i])));
    return s;
  }
  const ops = args.map((a, k) => operandOf(g, a, `${name}(${def.args[k]})`).op);
  const needs = def.args.filter((a) => !(def.discrete ?? []).includes(a)).map((a) => isVar[def.args.indexOf(a)]);
  const out = g.alloc([]);
  g.push(new FamilyInstr(kern, name, mask, ops, L, needs, out.operand));
  return out;
}

/** log of the LKJ normalising constant c_K(η) (Lewandowski, Kurowicka & Joe 2009, eq. 16). */
function lkjLogConstant(eta: Value, K: number): Var | number {
  const terms: Value[] = [];
  for (let k = 1; k <= K - 1; k++) {
    const b = add(eta, (K - k - 1) / 2);
    // (2η − 2 + K − k)(K − k) log 2 + (K − k) log B(b, b)
    terms.push(mul((K - k) * S.LOG_2, add(mul(2, eta), K - k - 2)));
    terms.push(mul(K - k, sub(mul(2, lgamma(b)), lgamma(mul(2, b)))));
  }
  return addAll(terms);
}

function shapeOf(v: Value, what: string): readonly number[] {
  return v instanceof Var ? v.shape : constValue(v as Exclude<Value, Var>, what).shape;
}

function multivariate(normalised: boolean) {
  return {
    /** Dirichlet(θ | α) on the simplex. */
    dirichlet(theta: Value, alpha: Value): Var | number {
      const st = shapeOf(theta, 'dirichlet(theta)');
      if (st.length !== 1) throw new ModelError(`dirichlet: theta must be a vector, got ${shapeText(st)}`);
      const terms: Value[] = [dot(sub(alpha, 1), log(theta))];
      if (normalised || alpha instanceof Var) terms.push(lgamma(sum(alpha)), neg(sum(lgamma(alpha))));
      return addAll(terms);
    },
    /** MultiNormal(y | μ, L Lᵀ) for a vector y, with L the lower Cholesky factor of the covariance. */
    multiNormalCholesky(y: Value, mu: Value, L: Value): Var | number {
      const sy = shapeOf(y, 'multiNormalCholesky(y)');
      const sl = shapeOf(L, 'multiNormalCholesky(L)');
      if (sy.length !== 1 || sl.length !== 2 || sl[0] !== sy[0] || sl[1] !== sy[0]) {
        throw new ModelError(`multiNormalCholesky: y must be a vector[n] and L a matrix[n,n], got ${shapeText(sy)} and ${shapeText(sl)}`);
      }
      const z = solveLowerTriangular(L, sub(y, mu) as Value);
      const terms: Value[] = [mul(-0.5, dot(z, z))];
      if (normalised || L instanceof Var) terms.push(neg(sum(log(diagonal(L)))));
      if (normalised) terms.push(-0.5 * sy[0] * S.LOG_2PI);
      return addAll(terms);
    },
    /** LKJ(η) on the Cholesky factor L of a correlation matrix: Σₖ (K − k + 2η − 2) log Lₖₖ − log c_K(η). */
    lkjCorrCholesky(L: Value, eta: Value): Var | number {
      const sl = shapeOf(L, 'lkjCorrCholesky(L)');
      if (sl.length !== 2 || sl[0] !== sl[1]) throw new ModelError(`lkjCorrCholesky: L must be a square matrix, got ${shapeText(sl)}`);
      const K = sl[0];
      const d = log(diagonal(L)) as Value;
      const kfac = Float64Array.from({ length: K }, (_, i) => K - (i + 1));
      const terms: Value[] = [dot(add(kfac, mul(2, sub(eta, 1))), d)];
      if (normalised || eta instanceof Var) terms.push(neg(lkjLogConstant(eta, K)));
      return addAll(terms);
    },
  };
}

type Dist = {
  [K in FamilyName]: (...args: Value[]) => Var | number;
} & ReturnType<typeof multivariate> & {
  /** Normal restricted to y ≥ 0 (use with a `lower: 0` parameter). */
  halfNormal(y: Value, sigma: Value): Var | number;
  /** Cauchy restricted to y ≥ 0. */
  halfCauchy(y: Value, sigma: Value): Var | number;
};

function forms(normalised: boolean): Dist {
  const fam = Object.fromEntries(FAMILY_NAMES.map((n) => [n, (...args: Value[]) => family(n, normalised, args)])) as Record<FamilyName, (...args: Value[]) => Var | number>;
  const half = (n: 'normal' | 'cauchy') => (y: Value, sigma: Value) => {
    const lp = family(n, normalised, [y, 0, sigma]);
    return normalised ? add(lp, sizeOf(shapeOf(y, n)) * S.LOG_2) : lp;
  };
  return { ...fam, ...multivariate(normalised), halfNormal: half('normal'), halfCauchy: half('cauchy') } as Dist;
}

/** Normalised log densities (log mass functions for counts). */
export const lpdf: Dist = forms(true);
/** The `y ~ dist(...)` form: constant terms dropped. */
export const lupdf: Dist = forms(false);
