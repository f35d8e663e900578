/**
 * Elementwise model ops (exp, log, add, mul, ...) from one table of formulas: each op states its
 * value and its partial derivatives once, and the loops that run them (forward over rows and
 * elements, backward adding adjoints, and the plain-number version used when every argument is
 * data) are generated from the table when this module loads. One loop per op keeps every call
 * site monomorphic, which a closure-per-element design would not.
 *
 * Broadcasting: a binary op takes two operands of the same length, or one of length 1.
 */
import * as S from './special.js';
import { Graph, ModelError, Var, baseOf, elemStride, graphOf, operandOf, rowStride, shapeText, constValue, sizeOf } from './graph.js';
import type { Frame, Fusable, Instr, Operand, Shape, Value } from './graph.js';

/** f: the value from `a` (and `b`); d*: the partial times the output adjoint `g`, may use the output `y`. */
interface UnaryDef {
  f: string;
  da: string;
}
interface BinaryDef {
  f: string;
  da: string;
  db: string;
}

export const UNARY = {
  neg: { f: '-a', da: '-g' },
  exp: { f: 'Math.exp(a)', da: 'g * y' },
  log: { f: 'Math.log(a)', da: 'g / a' },
  log1p: { f: 'Math.log1p(a)', da: 'g / (1 + a)' },
  expm1: { f: 'Math.expm1(a)', da: 'g * (y + 1)' },
  sqrt: { f: 'Math.sqrt(a)', da: 'g * 0.5 / y' },
  square: { f: 'a * a', da: 'g * 2 * a' },
  inv: { f: '1 / a', da: '-g * y * y' },
  abs: { f: 'Math.abs(a)', da: 'a > 0 ? g : a < 0 ? -g : 0' },
  tanh: { f: 'Math.tanh(a)', da: 'g * (1 - y * y)' },
  sin: { f: 'Math.sin(a)', da: 'g * Math.cos(a)' },
  cos: { f: 'Math.cos(a)', da: '-g * Math.sin(a)' },
  logit: { f: 'S.logit(a)', da: 'g / (a * (1 - a))' },
  invLogit: { f: 'S.invLogit(a)', da: 'g * y * (1 - y)' },
  logInvLogit: { f: 'S.logInvLogit(a)', da: 'g * S.invLogit(-a)' },
  log1mInvLogit: { f: 'S.log1mInvLogit(a)', da: '-g * S.invLogit(a)' },
  log1pExp: { f: 'S.log1pExp(a)', da: 'g * S.invLogit(a)' },
  log1mExp: { f: 'S.log1mExp(a)', da: '-g / Math.expm1(-a)' },
  lgamma: { f: 'S.lgamma(a)', da: 'g * S.digamma(a)' },
  digamma: { f: 'S.digamma(a)', da: 'g * S.trigamma(a)' },
} satisfies Record<string, UnaryDef>;

export const BINARY = {
  add: { f: 'a + b', da: 'g', db: 'g' },
  sub: { f: 'a - b', da: 'g', db: '-g' },
  mul: { f: 'a * b', da: 'g * b', db: 'g * a' },
  div: { f: 'a / b', da: 'g / b', db: '-g * y / b' },
  pow: { f: 'Math.pow(a, b)', da: 'g * b * Math.pow(a, b - 1)', db: 'g * y * Math.log(a)' },
  logAddExp: { f: 'S.logAddExp(a, b)', da: 'g * Math.exp(a - y)', db: 'g * Math.exp(b - y)' },
  fmax: { f: 'a >= b ? a : b', da: 'a >= b ? g : 0', db: 'a >= b ? 0 : g' },
  fmin: { f: 'a <= b ? a : b', da: 'a <= b ? g : 0', db: 'a <= b ? 0 : g' },
  lbeta: { f: 'S.lbeta(a, b)', da: 'g * (S.digamma(a) - S.digamma(a + b))', db: 'g * (S.digamma(b) - S.digamma(a + b))' },
} satisfies Record<string, BinaryDef>;

export type UnaryName = keyof typeof UNARY;
export type BinaryName = keyof typeof BINARY;

type UnaryFwd = (V: Float64Array, L: number, nc: number, ob: number, ab: number, aes: number, ars: number) => void;
type UnaryBwd = (V: Float64Array, G: Float64Array, L: number, nc: number, ob: number, ab: number, aes: number, ars: number) => void;
type BinaryFwd = (V: Float64Array, L: number, nc: number, ob: number, ab: number, aes: number, ars: number, bb: number, bes: number, brs: number) => void;
type BinaryBwd = (
  V: Float64Array, G: Float64Array, L: number, nc: number, ob: number,
  ab: number, aes: number, ars: number, bb: number, bes: number, brs: number, na: boolean, nb: boolean,
) => void;

interface UnaryKernel {
  fwd: UnaryFwd;
  bwd: UnaryBwd;
  scalar: (a: number) => number;
}
interface BinaryKernel {
  fwd: BinaryFwd;
  bwd: BinaryBwd;
  scalar: (a: number, b: number) => number;
}

// The generated code only ever sees the formulas of the tables above (never user input).
function compile<T>(params: string[], body: string): T {
  return new Function('S', `"use strict"; return function (${params.join(', ')}) {\n${body}\n};`)(S) as T;
}

function unaryKernel(d: UnaryDef): UnaryKernel {
  const fwd = compile<UnaryFwd>(
    ['V', 'L', 'nc', 'ob', 'ab', 'aes', 'ars'],
    `if (nc === 1) { for (let i = 0; i < L; i++) { const a = V[ab + i * aes]; V[ob + i] = ${d.f}; } return; }
     for (let i = 0; i < L; i++) { const oi = ob + i * nc, ai = ab + i * aes;
       for (let r = 0; r < nc; r++) { const a = V[ai + r * ars]; V[oi + r] = ${d.f}; } }`,
  );
  const bwd = compile<UnaryBwd>(
    ['V', 'G', 'L', 'nc', 'ob', 'ab', 'aes', 'ars'],
    `if (nc === 1) { for (let i = 0; i < L; i++) { const g = G[ob + i]; if (g === 0) continue;
         const a = V[ab + i * aes], y = V[ob + i]; G[ab + i * aes] += ${d.da}; } return; }
     for (let i = 0; i < L; i++) { const oi = ob + i * nc, ai = ab + i * aes;
       for (let r = 0; r < nc; r++) { const g = G[oi + r]; if (g === 0) continue;
         const a = V[ai + r * ars], y = V[oi + r]; G[ai + r * ars] += ${d.da}; } }`,
  );
  const scalar = compile<(a: number) => number>(['a'], `return ${d.f};`);
  return { fwd, bwd, scalar };
}

function binaryKernel(d: BinaryDef): BinaryKernel {
  const fwd = compile<BinaryFwd>(
    ['V', 'L', 'nc', 'ob', 'ab', 'aes', 'ars', 'bb', 'bes', 'brs'],
    `if (nc === 1) { for (let i = 0; i < L; i++) { const a = V[ab + i * aes], b = V[bb + i * bes]; V[ob + i] = ${d.f}; } return; }
     for (let i = 0; i < L; i++) { const oi = ob + i * nc, ai = ab + i * aes, bi = bb + i * bes;
       for (let r = 0; r < nc; r++) { const a = V[ai + r * ars], b = V[bi + r * brs]; V[oi + r] = ${d.f}; } }`,
  );
  const bwd = compile<BinaryBwd>(
    ['V', 'G', 'L', 'nc', 'ob', 'ab', 'aes', 'ars', 'bb', 'bes', 'brs', 'na', 'nb'],
    `if (nc === 1) { for (let i = 0; i < L; i++) { const g = G[ob + i]; if (g === 0) continue;
         const ai = ab + i * aes, bi = bb + i * bes, a = V[ai], b = V[bi], y = V[ob + i];
         if (na) G[ai] += ${d.da};
         if (nb) G[bi] += ${d.db}; } return; }
     for (let i = 0; i < L; i++) { const oi = ob + i * nc, ai = ab + i * aes, bi = bb + i * bes;
       for (let r = 0; r < nc; r++) { const g = G[oi + r]; if (g === 0) continue;
         const a = V[ai + r * ars], b = V[bi + r * brs], y = V[oi + r];
         if (na) G[ai + r * ars] += ${d.da};
         if (nb) G[bi + r * brs] += ${d.db}; } }`,
  );
  const scalar = compile<(a: number, b: number) => number>(['a', 'b'], `return ${d.f};`);
  return { fwd, bwd, scalar };
}

const unaryKernels = Object.fromEntries(Object.entries(UNARY).map(([k, d]) => [k, unaryKernel(d)])) as Record<UnaryName, UnaryKernel>;
const binaryKernels = Object.fromEntries(Object.entries(BINARY).map(([k, d]) => [k, binaryKernel(d)])) as Record<BinaryName, BinaryKernel>;

class UnaryInstr implements Instr {
  readonly fused: readonly Fusable[];
  constructor(
    private readonly k: UnaryKernel,
    d: UnaryDef,
    private readonly a: Operand,
    private readonly out: Operand,
  ) {
    this.fused = [{ L: out.len, inputs: [a], names: ['a'], out, reduce: false, value: d.f, adjoints: [d.da] }];
  }
  forward(f: Frame): void {
    const L = this.out.len;
    this.k.fwd(f.V, L, f.nc, baseOf(f, this.out), baseOf(f, this.a), elemStride(f, this.a, L), rowStride(this.a));
  }
  backward(f: Frame): void {
    if (this.a.c) return;
    const L = this.out.len;
    this.k.bwd(f.V, f.G, L, f.nc, baseOf(f, this.out), baseOf(f, this.a), elemStride(f, this.a, L), rowStride(this.a));
  }
}

class BinaryInstr implements Instr {
  readonly fused: readonly Fusable[];
  constructor(
    private readonly k: BinaryKernel,
    d: BinaryDef,
    private readonly a: Operand,
    private readonly b: Operand,
    private readonly out: Operand,
  ) {
    this.fused = [{ L: out.len, inputs: [a, b], names: ['a', 'b'], out, reduce: false, value: d.f, adjoints: [d.da, d.db] }];
  }
  forward(f: Frame): void {
    const { a, b, out } = this;
    const L = out.len;
    this.k.fwd(f.V, L, f.nc, baseOf(f, out), baseOf(f, a), elemStride(f, a, L), rowStride(a), baseOf(f, b), elemStride(f, b, L), rowStride(b));
  }
  backward(f: Frame): void {
    const { a, b, out } = this;
    const L = out.len;
    this.k.bwd(
      f.V, f.G, L, f.nc, baseOf(f, out),
      baseOf(f, a), elemStride(f, a, L), rowStride(a), baseOf(f, b), elemStride(f, b, L), rowStride(b), !a.c, !b.c,
    );
  }
}

/** Plain numbers in, plain numbers out: a number for a scalar, a Float64Array otherwise (matrices stay flat). */
export type ConstResult = number | Float64Array;

function constResult(values: Float64Array, shape: Shape): ConstResult {
  return shape.length === 0 ? values[0] : values;
}

/** Applies a unary op: a Var in gives a Var out; data in gives numbers out. */
export function applyUnary(name: UnaryName, x: Value): Var | ConstResult {
  const k = unaryKernels[name];
  if (x instanceof Var) {
    const g = x.graph;
    const out = g.alloc(x.shape);
    g.push(new UnaryInstr(k, UNARY[name], x.operand, out.operand));
    return out;
  }
  const cv = constValue(x, name);
  const r = new Float64Array(cv.values.length);
  for (let i = 0; i < r.length; i++) r[i] = k.scalar(cv.values[i]);
  return constResult(r, cv.shape);
}

/** The shape of a broadcast between two shapes, or a ModelError naming the op. */
export function broadcastShape(name: string, sa: Shape, sb: Shape): Shape {
  const la = sizeOf(sa);
  const lb = sizeOf(sb);
  if (la === 1 && sa.length === 0) return sb;
  if (lb === 1 && sb.length === 0) return sa;
  if (la === lb && (sa.length === sb.length || la === 1)) {
    for (let i = 0; i < sa.length; i++) {
      if (sa[i] !== sb[i]) throw new ModelError(`${name}: shapes ${shapeText(sa)} and ${shapeText(sb)} do not match`);
    }
    return sa;
  }
  if (la === 1) return sb;
  if (lb === 1) return sa;
  throw new ModelError(`${name}: shapes ${shapeText(sa)} and ${shapeText(sb)} do not match (lengths ${la} and ${lb}; one of them must be a scalar)`);
}

/** Applies a binary op with scalar broadcasting. */
export function applyBinary(name: BinaryName, x: Value, y: Value): Var | ConstResult {
  const k = binaryKernels[name];
  const g: Graph | null = graphOf([x, y]);
  if (g) {
    const a = operandOf(g, x, name);
    const b = operandOf(g, y, name);
    const shape = broadcastShape(name, a.shape, b.shape);
    const out = g.alloc(shape);
    g.push(new BinaryInstr(k, BINARY[name], a.op, b.op, out.operand));
    return out;
  }
  const ca = constValue(x as Exclude<Value, Var>, name);
  const cb = constValue(y as Exclude<Value, Var>, name);
  const shape = broadcastShape(name, ca.shape, cb.shape);
  const n = sizeOf(shape);
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = k.scalar(ca.values.length === 1 ? ca.values[0] : ca.values[i], cb.values.length === 1 ? cb.values[0] : cb.values[i]);
  return constResult(r, shape);
}
