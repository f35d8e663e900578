/**
 * Reductions (sum, dot, log-sum-exp) and structural ops (indexing, slicing, stacking, reshaping,
 * transposing, cumulative sums) of model values. Indexing, slicing and reshaping a graph value are
 * views: they record no instruction and copy nothing.
 */
import { Graph, ModelError, Var, baseOf, constValue, elemStride, graphOf, operandOf, rowStride, shapeText, sizeOf } from './graph.js';
import type { Frame, Fusable, Instr, Operand, Shape, Value } from './graph.js';
import { logSumExp as logSumExpNumbers } from './special.js';

class SumInstr implements Instr {
  readonly fused: readonly Fusable[];
  constructor(private readonly a: Operand, private readonly out: Operand) {
    this.fused = [{ L: a.len, inputs: [a], names: ['a'], out, reduce: true, value: 'a', adjoints: ['g'] }];
  }
  forward(f: Frame): void {
    const { V, nc } = f;
    const ab = baseOf(f, this.a), aes = elemStride(f, this.a, this.a.len), ars = rowStride(this.a);
    const ob = baseOf(f, this.out);
    const L = this.a.len;
    for (let r = 0; r < nc; r++) V[ob + r] = 0;
    for (let i = 0; i < L; i++) {
      const ai = ab + i * aes;
      for (let r = 0; r < nc; r++) V[ob + r] += V[ai + r * ars];
    }
  }
  backward(f: Frame): void {
    if (this.a.c) return;
    const { G, nc } = f;
    const ab = baseOf(f, this.a), ob = baseOf(f, this.out);
    const L = this.a.len;
    for (let i = 0; i < L; i++) {
      const ai = ab + i * nc;
      for (let r = 0; r < nc; r++) G[ai + r] += G[ob + r];
    }
  }
}

/** Σ of the given scalars, one instruction (the log density's final sum). */
class AddNInstr implements Instr {
  readonly fused: readonly Fusable[];
  constructor(private readonly parts: Operand[], private readonly out: Operand) {
    const names = parts.map((_, j) => `a${j}`);
    this.fused = [{ L: 1, inputs: parts, names, out, reduce: false, value: parts.length ? names.join(' + ') : '0', adjoints: parts.map(() => 'g') }];
  }
  forward(f: Frame): void {
    const { V, nc } = f;
    const ob = baseOf(f, this.out);
    for (let r = 0; r < nc; r++) V[ob + r] = 0;
    for (const p of this.parts) {
      const pb = baseOf(f, p), rs = rowStride(p);
      for (let r = 0; r < nc; r++) V[ob + r] += V[pb + r * rs];
    }
  }
  backward(f: Frame): void {
    const { G, nc } = f;
    const ob = baseOf(f, this.out);
    for (const p of this.parts) {
      if (p.c) continue;
      const pb = baseOf(f, p);
      for (let r = 0; r < nc; r++) G[pb + r] += G[ob + r];
    }
  }
}

class DotInstr implements Instr {
  readonly fused: readonly Fusable[];
  constructor(private readonly a: Operand, private readonly b: Operand, private readonly out: Operand) {
    const L = Math.max(a.len, b.len);
    this.fused = [{ L, inputs: [a, b], names: ['a', 'b'], out, reduce: true, value: 'a * b', adjoints: ['g * b', 'g * a'] }];
  }
  forward(f: Frame): void {
    const { V, nc } = f;
    const L = Math.max(this.a.len, this.b.len);
    const ab = baseOf(f, this.a), aes = elemStride(f, this.a, L), ars = rowStride(this.a);
    const bb = baseOf(f, this.b), bes = elemStride(f, this.b, L), brs = rowStride(this.b);
    const ob = baseOf(f, this.out);
    for (let r = 0; r < nc; r++) V[ob + r] = 0;
    for (let i = 0; i < L; i++) {
      const ai = ab + i * aes, bi = bb + i * bes;
      for (let r = 0; r < nc; r++) V[ob + r] += V[ai + r * ars] * V[bi + r * brs];
    }
  }
  backward(f: Frame): void {
    const { V, G, nc } = f;
    const L = Math.max(this.a.len, this.b.len);
    const ab = baseOf(f, this.a), aes = elemStride(f, this.a, L), ars = rowStride(this.a);
    const bb = baseOf(f, this.b), bes = elemStride(f, this.b, L), brs = rowStride(this.b);
    const ob = baseOf(f, this.out);
    const na = !this.a.c, nb = !this.b.c;
    for (let i = 0; i < L; i++) {
      const ai = ab + i * aes, bi = bb + i * bes;
      for (let r = 0; r < nc; r++) {
        const g = G[ob + r];
        const av = V[ai + r * ars], bv = V[bi + r * brs];
        if (na) G[ai + r * ars] += g * bv;
        if (nb) G[bi + r * brs] += g * av;
      }
    }
  }
}

class LogSumExpInstr implements Instr {
  constructor(private readonly a: Operand, private readonly out: Operand) {}
  forward(f: Frame): void {
    const { V, nc } = f;
    const L = this.a.len;
    const ab = baseOf(f, this.a), aes = elemStride(f, this.a, L), ars = rowStride(this.a);
    const ob = baseOf(f, this.out);
    for (let r = 0; r < nc; r++) {
      let m = -Infinity;
      for (let i = 0; i < L; i++) {
        const v = V[ab + i * aes + r * ars];
        if (v > m) m = v;
      }
      if (!Number.isFinite(m)) {
        V[ob + r] = m;
        continue;
      }
      let s = 0;
      for (let i = 0; i < L; i++) s += Math.exp(V[ab + i * aes + r * ars] - m);
      V[ob + r] = m + Math.log(s);
    }
  }
  backward(f: Frame): void {
    if (this.a.c) return;
    const { V, G, nc } = f;
    const L = this.a.len;
    const ab = baseOf(f, this.a), ob = baseOf(f, this.out);
    for (let r = 0; r < nc; r++) {
      const g = G[ob + r], y = V[ob + r];
      if (g === 0 || !Number.isFinite(y)) continue;
      for (let i = 0; i < L; i++) G[ab + i * nc + r] += g * Math.exp(V[ab + i * nc + r] - y);
    }
  }
}

/** out[i] = src[idx[i]]: transposes, diagonals, reversals, selections. */
class GatherInstr implements Instr {
  constructor(private readonly src: Operand, private readonly idx: Int32Array, private readonly out: Operand) {}
  forward(f: Frame): void {
    const { V, nc } = f;
    const sb = baseOf(f, this.src), ses = this.src.c ? 1 : nc, srs = rowStride(this.src);
    const ob = baseOf(f, this.out);
    const idx = this.idx;
    for (let i = 0; i < idx.length; i++) {
      const si = sb + idx[i] * ses, oi = ob + i * nc;
      for (let r = 0; r < nc; r++) V[oi + r] = V[si + r * srs];
    }
  }
  backward(f: Frame): void {
    if (this.src.c) return;
    const { G, nc } = f;
    const sb = baseOf(f, this.src), ob = baseOf(f, this.out);
    const idx = this.idx;
    for (let i = 0; i < idx.length; i++) {
      const si = sb + idx[i] * nc, oi = ob + i * nc;
      for (let r = 0; r < nc; r++) G[si + r] += G[oi + r];
    }
  }
}

/** The parts one after another (scalars broadcast to their stated lengths). */
class ConcatInstr implements Instr {
  readonly fused: readonly Fusable[];
  constructor(private readonly parts: { op: Operand; len: number }[], private readonly out: Operand) {
    let e = 0;
    this.fused = parts.map(({ op, len }) => {
      const piece: Operand = { c: false, off: out.off + e, len };
      e += len;
      return { L: len, inputs: [op], names: ['a'], out: piece, reduce: false, value: 'a', adjoints: ['g'] };
    });
  }
  forward(f: Frame): void {
    const { V, nc } = f;
    let e = 0;
    const ob = baseOf(f, this.out);
    for (const { op, len } of this.parts) {
      const pb = baseOf(f, op), pes = elemStride(f, op, len), prs = rowStride(op);
      for (let i = 0; i < len; i++, e++) {
        const pi = pb + i * pes, oi = ob + e * nc;
        for (let r = 0; r < nc; r++) V[oi + r] = V[pi + r * prs];
      }
    }
  }
  backward(f: Frame): void {
    const { G, nc } = f;
    let e = 0;
    const ob = baseOf(f, this.out);
    for (const { op, len } of this.parts) {
      if (op.c) {
        e += len;
        continue;
      }
      const pb = baseOf(f, op), pes = elemStride(f, op, len);
      for (let i = 0; i < len; i++, e++) {
        const pi = pb + i * pes, oi = ob + e * nc;
        for (let r = 0; r < nc; r++) G[pi + r] += G[oi + r];
      }
    }
  }
}

class CumsumInstr implements Instr {
  constructor(private readonly a: Operand, private readonly out: Operand) {}
  forward(f: Frame): void {
    const { V, nc } = f;
    const ab = baseOf(f, this.a), aes = elemStride(f, this.a, this.a.len), ars = rowStride(this.a), ob = baseOf(f, this.out);
    for (let r = 0; r < nc; r++) {
      let s = 0;
      for (let i = 0; i < this.a.len; i++) {
        s += V[ab + i * aes + r * ars];
        V[ob + i * nc + r] = s;
      }
    }
  }
  backward(f: Frame): void {
    if (this.a.c) return;
    const { G, nc } = f;
    const ab = baseOf(f, this.a), ob = baseOf(f, this.out);
    for (let r = 0; r < nc; r++) {
      let s = 0;
      for (let i = this.a.len - 1; i >= 0; i--) {
        s += G[ob + i * nc + r];
        G[ab + i * nc + r] += s;
      }
    }
  }
}

function need(g: Graph | null): g is Graph {
  return g !== null;
}

/** Σ xᵢ over every element. */
export function sum(x: Value): Var | number {
  if (Array.isArray(x) && x.some((v) => v instanceof Var)) return addAll(x as Value[]);
  if (x instanceof Var) {
    if (x.len === 1) return x.shape.length === 0 ? x : x.graph.view(x, 0, []);
    const out = x.graph.alloc([]);
    x.graph.push(new SumInstr(x.operand, out.operand));
    return out;
  }
  const cv = constValue(x, 'sum');
  let s = 0;
  for (let i = 0; i < cv.values.length; i++) s += cv.values[i];
  return s;
}

/** Σ of a list of values, each summed over its elements (what `target +=` accumulates). */
export function addAll(terms: readonly Value[]): Var | number {
  let constant = 0;
  const vars: Var[] = [];
  for (const t of terms) {
    const s = sum(t);
    if (s instanceof Var) vars.push(s);
    else constant += s;
  }
  if (vars.length === 0) return constant;
  const g = vars[0].graph;
  const parts = vars.map((v) => v.operand);
  if (constant !== 0) parts.push(g.constant(constant));
  if (parts.length === 1) return vars[0];
  const out = g.alloc([]);
  g.push(new AddNInstr(parts, out.operand));
  return out;
}

/** Σ aᵢ bᵢ (a scalar broadcasts). */
export function dot(a: Value, b: Value): Var | number {
  const g = graphOf([a, b]);
  if (need(g)) {
    const oa = operandOf(g, a, 'dot'), ob = operandOf(g, b, 'dot');
    if (oa.op.len !== ob.op.len && oa.op.len !== 1 && ob.op.len !== 1) {
      throw new ModelError(`dot: lengths ${oa.op.len} and ${ob.op.len} differ`);
    }
    const out = g.alloc([]);
    g.push(new DotInstr(oa.op, ob.op, out.operand));
    return out;
  }
  const ca = constValue(a as Exclude<Value, Var>, 'dot').values, cb = constValue(b as Exclude<Value, Var>, 'dot').values;
  const L = Math.max(ca.length, cb.length);
  let s = 0;
  for (let i = 0; i < L; i++) s += (ca.length === 1 ? ca[0] : ca[i]) * (cb.length === 1 ? cb[0] : cb[i]);
  return s;
}

/** log Σ exp(xᵢ), or of the given list of values (scalars and vectors, concatenated). */
export function logSumExp(x: Value | readonly Value[]): Var | number {
  if (Array.isArray(x) && x.some((v) => v instanceof Var || (typeof v === 'object' && v !== null && 'length' in v))) {
    return logSumExp(stack(x as Value[]));
  }
  const v = x as Value;
  if (v instanceof Var) {
    const out = v.graph.alloc([]);
    v.graph.push(new LogSumExpInstr(v.operand, out.operand));
    return out;
  }
  return logSumExpNumbers(constValue(v, 'logSumExp').values);
}

function checkIndex(what: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new ModelError(`${what}: index ${i} is out of range for length ${n} (indices are 0-based)`);
}

/** Element i (0-based) of a vector, or row i of a matrix (a view). */
export function at(x: Value, i: number): Var | number | Float64Array {
  const shape = x instanceof Var ? x.shape : constValue(x as Exclude<Value, Var>, 'at').shape;
  if (shape.length === 0) throw new ModelError('at: cannot index a scalar');
  checkIndex('at', i, shape[0]);
  const inner = shape.slice(1);
  const w = sizeOf(inner);
  if (x instanceof Var) return x.graph.view(x, i * w, inner);
  const vals = constValue(x as Exclude<Value, Var>).values;
  if (inner.length === 0) return vals[i];
  return Float64Array.from({ length: w }, (_, k) => vals[i * w + k]);
}

/** Element (i, j) of a matrix (0-based). */
export function at2(x: Value, i: number, j: number): Var | number {
  const shape = x instanceof Var ? x.shape : constValue(x as Exclude<Value, Var>, 'at2').shape;
  if (shape.length !== 2) throw new ModelError(`at2: needs a matrix, got ${shapeText(shape)}`);
  checkIndex('at2 (row)', i, shape[0]);
  checkIndex('at2 (column)', j, shape[1]);
  if (x instanceof Var) return x.graph.view(x, i * shape[1] + j, []);
  return constValue(x as Exclude<Value, Var>).values[i * shape[1] + j];
}

/** Elements [start, start + length) of a vector (a view). */
export function slice(x: Value, start: number, length: number): Var | Float64Array {
  const shape = x instanceof Var ? x.shape : constValue(x as Exclude<Value, Var>, 'slice').shape;
  if (shape.length !== 1) throw new ModelError(`slice: needs a vector, got ${shapeText(shape)}`);
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > shape[0]) {
    throw new ModelError(`slice: [${start}, ${start + length}) is out of range for length ${shape[0]}`);
  }
  if (x instanceof Var) return x.graph.view(x, start, [length]);
  const vals = constValue(x as Exclude<Value, Var>).values;
  return Float64Array.from({ length }, (_, k) => vals[start + k]);
}

/** A vector of the given scalars and vectors, one after another. */
export function stack(items: readonly Value[]): Var | Float64Array {
  const g = graphOf(items);
  if (!need(g)) {
    const out: number[] = [];
    for (const it of items) {
      const cv = constValue(it as Exclude<Value, Var>, 'stack');
      for (let i = 0; i < cv.values.length; i++) out.push(cv.values[i]);
    }
    return Float64Array.from(out);
  }
  const parts = items.map((it) => {
    const o = operandOf(g, it, 'stack');
    return { op: o.op, len: o.op.len };
  });
  const total = parts.reduce((s, p) => s + p.len, 0);
  const out = g.alloc([total]);
  g.push(new ConcatInstr(parts, out.operand));
  return out;
}

/** A scalar repeated n times, as a vector. */
export function rep(x: Value, n: number): Var | Float64Array {
  if (!(x instanceof Var)) {
    const c = constValue(x, 'rep').values;
    if (c.length !== 1) throw new ModelError('rep: needs a scalar');
    return new Float64Array(n).fill(c[0]);
  }
  if (x.len !== 1) throw new ModelError(`rep: needs a scalar, got ${shapeText(x.shape)}`);
  const out = x.graph.alloc([n]);
  x.graph.push(new ConcatInstr([{ op: x.operand, len: n }], out.operand));
  return out;
}

/** The same elements under another shape (row-major; a view). */
export function reshape(x: Value, shape: Shape): Var | Float64Array {
  const from = x instanceof Var ? x.shape : constValue(x as Exclude<Value, Var>, 'reshape').shape;
  if (sizeOf(from) !== sizeOf(shape)) throw new ModelError(`reshape: ${shapeText(from)} has ${sizeOf(from)} elements, ${shapeText(shape)} needs ${sizeOf(shape)}`);
  if (x instanceof Var) return x.graph.view(x, 0, shape);
  return Float64Array.from(constValue(x as Exclude<Value, Var>).values);
}

/** Running sums y_k = Σ_{i≤k} x_i. */
export function cumulativeSum(x: Value): Var | Float64Array {
  if (x instanceof Var) {
    const out = x.graph.alloc([x.len]);
    x.graph.push(new CumsumInstr(x.operand, out.operand));
    return out;
  }
  const v = constValue(x, 'cumulativeSum').values;
  const out = new Float64Array(v.length);
  let s = 0;
  for (let i = 0; i < v.length; i++) out[i] = s += v[i];
  return out;
}

/** out[i] = x[idx[i]] with a result of the given shape. */
export function gather(x: Var, idx: ArrayLike<number>, shape: Shape): Var {
  const out = x.graph.alloc(shape);
  x.graph.push(new GatherInstr(x.operand, Int32Array.from(idx), out.operand));
  return out;
}

/** Aᵀ. */
export function transpose(x: Value): Var | Float64Array {
  const shape = x instanceof Var ? x.shape : constValue(x as Exclude<Value, Var>, 'transpose').shape;
  if (shape.length !== 2) throw new ModelError(`transpose: needs a matrix, got ${shapeText(shape)}`);
  const [m, n] = shape;
  const idx = new Int32Array(m * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) idx[i * m + j] = j * n + i;
  if (x instanceof Var) return gather(x, idx, [n, m]);
  const v = constValue(x as Exclude<Value, Var>).values;
  return Float64Array.from(idx, (k) => v[k]);
}

/** The diagonal of a square matrix, as a vector. */
export function diagonal(x: Value): Var | Float64Array {
  const shape = x instanceof Var ? x.shape : constValue(x as Exclude<Value, Var>, 'diagonal').shape;
  if (shape.length !== 2 || shape[0] !== shape[1]) throw new ModelError(`diagonal: needs a square matrix, got ${shapeText(shape)}`);
  const n = shape[0];
  const idx = Int32Array.from({ length: n }, (_, i) => i * n + i);
  if (x instanceof Var) return gather(x, idx, [n]);
  const v = constValue(x as Exclude<Value, Var>).values;
  return Float64Array.from(idx, (k) => v[k]);
}
