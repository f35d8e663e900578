/**
 * Linear algebra of model values, float64, with reverse-mode adjoints: matrix-vector and matrix
 * products, the Cholesky factor (adjoint by the unblocked reverse sweep of Murray 2016,
 * "Differentiation of the Cholesky decomposition", arXiv:1602.07527), and lower-triangular
 * solves. Matrices are row-major; each row of a batch is its own matrix (stride `nc`).
 */
import { ModelError, Var, baseOf, constValue, graphOf, operandOf, rowStride, shapeText } from './graph.js';
import type { Frame, Instr, Operand, Value } from './graph.js';

function es(f: Frame, o: Operand): number {
  return o.c ? 1 : f.nc;
}

/** y = A x (A: [m, n], x: [n]) or C = A B (A: [m, k], B: [k, n]). */
class MatMulInstr implements Instr {
  constructor(
    private readonly a: Operand,
    private readonly b: Operand,
    private readonly out: Operand,
    private readonly m: number,
    private readonly k: number,
    private readonly n: number,
  ) {}
  forward(f: Frame): void {
    const { V, nc } = f;
    const { m, k, n } = this;
    const ab = baseOf(f, this.a), aes = es(f, this.a), ars = rowStride(this.a);
    const bb = baseOf(f, this.b), bes = es(f, this.b), brs = rowStride(this.b);
    const ob = baseOf(f, this.out);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const oi = ob + (i * n + j) * nc;
        for (let r = 0; r < nc; r++) V[oi + r] = 0;
        for (let p = 0; p < k; p++) {
          const ai = ab + (i * k + p) * aes, bi = bb + (p * n + j) * bes;
          for (let r = 0; r < nc; r++) V[oi + r] += V[ai + r * ars] * V[bi + r * brs];
        }
      }
    }
  }
  backward(f: Frame): void {
    const { V, G, nc } = f;
    const { m, k, n } = this;
    const ab = baseOf(f, this.a), aes = es(f, this.a), ars = rowStride(this.a);
    const bb = baseOf(f, this.b), bes = es(f, this.b), brs = rowStride(this.b);
    const ob = baseOf(f, this.out);
    const na = !this.a.c, nb = !this.b.c;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const oi = ob + (i * n + j) * nc;
        for (let p = 0; p < k; p++) {
          const ai = ab + (i * k + p) * aes, bi = bb + (p * n + j) * bes;
          for (let r = 0; r < nc; r++) {
            const g = G[oi + r];
            if (na) G[ai + r * ars] += g * V[bi + r * brs];
            if (nb) G[bi + r * brs] += g * V[ai + r * ars];
          }
        }
      }
    }
  }
}

/** L = chol(A) for symmetric positive-definite A (reads the lower triangle); NaN when A is not. */
class CholeskyInstr implements Instr {
  constructor(private readonly a: Operand, private readonly out: Operand, private readonly n: number) {}
  forward(f: Frame): void {
    const { V, nc } = f;
    const n = this.n;
    const ab = baseOf(f, this.a), aes = es(f, this.a), ars = rowStride(this.a);
    const ob = baseOf(f, this.out);
    for (let r = 0; r < nc; r++) {
      const A = (e: number) => V[ab + e * aes + r * ars];
      const Li = (e: number) => ob + e * nc + r;
      let ok = true;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) V[Li(i * n + j)] = 0;
      }
      for (let i = 0; i < n && ok; i++) {
        for (let j = 0; j <= i; j++) {
          let s = A(i * n + j);
          for (let p = 0; p < j; p++) s -= V[Li(i * n + p)] * V[Li(j * n + p)];
          if (i === j) {
            if (!(s > 0)) {
              ok = false;
              break;
            }
            V[Li(i * n + i)] = Math.sqrt(s);
          } else {
            V[Li(i * n + j)] = s / V[Li(j * n + j)];
          }
        }
      }
      if (!ok) for (let e = 0; e < n * n; e++) V[Li(e)] = NaN;
    }
  }
  backward(f: Frame): void {
    if (this.a.c) return;
    const { V, G, nc } = f;
    const n = this.n;
    const ab = baseOf(f, this.a), ob = baseOf(f, this.out);
    const Lb = new Float64Array(n * n);
    for (let r = 0; r < nc; r++) {
      const L = (e: number) => V[ob + e * nc + r];
      if (Number.isNaN(L(0))) continue;
      for (let e = 0; e < n * n; e++) Lb[e] = G[ob + e * nc + r];
      // Reverse of the row-by-row (Cholesky–Banachiewicz) forward sweep.
      for (let i = n - 1; i >= 0; i--) {
        for (let j = i; j >= 0; j--) {
          let sb: number;
          if (i === j) {
            sb = (0.5 * Lb[i * n + i]) / L(i * n + i);
          } else {
            sb = Lb[i * n + j] / L(j * n + j);
            Lb[j * n + j] -= (Lb[i * n + j] * L(i * n + j)) / L(j * n + j);
          }
          G[ab + (i * n + j) * nc + r] += sb;
          for (let p = 0; p < j; p++) {
            Lb[i * n + p] -= sb * L(j * n + p);
            Lb[j * n + p] -= sb * L(i * n + p);
          }
        }
      }
    }
  }
}

/** x = L⁻¹ b for lower-triangular L ([n, n]) and b ([n]). */
class TriSolveInstr implements Instr {
  constructor(private readonly l: Operand, private readonly b: Operand, private readonly out: Operand, private readonly n: number) {}
  forward(f: Frame): void {
    const { V, nc } = f;
    const n = this.n;
    const lb = baseOf(f, this.l), les = es(f, this.l), lrs = rowStride(this.l);
    const bb = baseOf(f, this.b), bes = es(f, this.b), brs = rowStride(this.b);
    const ob = baseOf(f, this.out);
    for (let r = 0; r < nc; r++) {
      for (let i = 0; i < n; i++) {
        let s = V[bb + i * bes + r * brs];
        for (let p = 0; p < i; p++) s -= V[lb + (i * n + p) * les + r * lrs] * V[ob + p * nc + r];
        V[ob + i * nc + r] = s / V[lb + (i * n + i) * les + r * lrs];
      }
    }
  }
  backward(f: Frame): void {
    const { V, G, nc } = f;
    const n = this.n;
    const lb = baseOf(f, this.l), les = es(f, this.l), lrs = rowStride(this.l);
    const bb = baseOf(f, this.b), bes = es(f, this.b), brs = rowStride(this.b);
    const ob = baseOf(f, this.out);
    const bbar = new Float64Array(n);
    for (let r = 0; r < nc; r++) {
      // b̄ = L⁻ᵀ x̄ (back substitution), L̄ = −b̄ xᵀ on the lower triangle.
      for (let i = n - 1; i >= 0; i--) {
        let s = G[ob + i * nc + r];
        for (let p = i + 1; p < n; p++) s -= V[lb + (p * n + i) * les + r * lrs] * bbar[p];
        bbar[i] = s / V[lb + (i * n + i) * les + r * lrs];
      }
      if (!this.b.c) for (let i = 0; i < n; i++) G[bb + i * bes + r * brs] += bbar[i];
      if (!this.l.c) {
        for (let i = 0; i < n; i++) {
          for (let p = 0; p <= i; p++) G[lb + (i * n + p) * les + r * lrs] -= bbar[i] * V[ob + p * nc + r];
        }
      }
    }
  }
}

function matShape(v: Value, what: string): readonly number[] {
  return v instanceof Var ? v.shape : constValue(v as Exclude<Value, Var>, what).shape;
}

function constMatMul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
    out[i * n + j] = s;
  }
  return out;
}

/** A x for a matrix A [m, n] and a vector x [n], or A B for matrices. */
export function matMul(a: Value, b: Value): Var | Float64Array {
  const sa = matShape(a, 'matMul'), sb = matShape(b, 'matMul');
  if (sa.length !== 2) throw new ModelError(`matMul: the left operand must be a matrix, got ${shapeText(sa)}`);
  if (sb.length === 0 || sb.length > 2) throw new ModelError(`matMul: the right operand must be a vector or a matrix, got ${shapeText(sb)}`);
  const [m, k] = sa;
  if (sb[0] !== k) throw new ModelError(`matMul: ${shapeText(sa)} times ${shapeText(sb)}: inner sizes ${k} and ${sb[0]} differ`);
  const n = sb.length === 2 ? sb[1] : 1;
  const outShape = sb.length === 2 ? [m, n] : [m];
  const g = graphOf([a, b]);
  if (!g) return constMatMul(constValue(a as Exclude<Value, Var>).values, constValue(b as Exclude<Value, Var>).values, m, k, n);
  const oa = operandOf(g, a, 'matMul'), ob = operandOf(g, b, 'matMul');
  const out = g.alloc(outShape);
  g.push(new MatMulInstr(oa.op, ob.op, out.operand, m, k, n));
  return out;
}

/** The lower Cholesky factor of a symmetric positive-definite matrix (NaN where it is not, so the density is rejected). */
export function cholesky(a: Var): Var {
  if (!(a instanceof Var)) throw new ModelError('cholesky: decompose data once outside the model (this op is for model values)');
  const s = a.shape;
  if (s.length !== 2 || s[0] !== s[1]) throw new ModelError(`cholesky: needs a square matrix, got ${shapeText(s)}`);
  const out = a.graph.alloc(s);
  a.graph.push(new CholeskyInstr(a.operand, out.operand, s[0]));
  return out;
}

/** x with L x = b, for lower-triangular L [n, n] and b [n]. */
export function solveLowerTriangular(l: Value, b: Value): Var | Float64Array {
  const g = graphOf([l, b]);
  const sl = matShape(l, 'solveLowerTriangular'), sb = matShape(b, 'solveLowerTriangular');
  if (sl.length !== 2 || sl[0] !== sl[1]) throw new ModelError(`solveLowerTriangular: L must be square, got ${shapeText(sl)}`);
  if (sb.length !== 1 || sb[0] !== sl[0]) throw new ModelError(`solveLowerTriangular: b must be a vector[${sl[0]}], got ${shapeText(sb)}`);
  if (!g) {
    const n = sl[0];
    const L = constValue(l as Exclude<Value, Var>).values, bv = constValue(b as Exclude<Value, Var>).values;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = bv[i];
      for (let p = 0; p < i; p++) s -= L[i * n + p] * x[p];
      x[i] = s / L[i * n + i];
    }
    return x;
  }
  const ol = operandOf(g, l, 'solveLowerTriangular'), ob = operandOf(g, b, 'solveLowerTriangular');
  const out = g.alloc([sl[0]]);
  g.push(new TriSolveInstr(ol.op, ob.op, out.operand, sl[0]));
  return out;
}
