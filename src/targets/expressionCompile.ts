/**
 * Compiles a validated mathjs tree (see expression.ts) to a small expression IR, folds
 * constants and trivial identities (mathjs `derivative` without its very slow `simplify` leaves
 * terms like `2 * 1 * x1 ^ (2 - 1) + 0`), and generates float64 JavaScript and tfjs code from it.
 * Only node kinds that passed validation reach here; anything else is an internal error.
 */
import * as tf from '@tensorflow/tfjs';
import type { MathNode } from 'mathjs';
import { ParseError } from '../core/errors.js';

export type Ir =
  | { k: 'c'; v: number }
  | { k: 'x'; i: number }
  | { k: 'op'; fn: 'add' | 'mul'; args: Ir[] }
  | { k: 'op'; fn: 'sub' | 'div' | 'pow'; args: [Ir, Ir] }
  | { k: 'neg'; a: Ir }
  | { k: 'f'; name: string; a: Ir };

/* eslint-disable @typescript-eslint/no-explicit-any -- mathjs node fields are untyped unions */
type AnyNode = MathNode & Record<string, any>;

/** float64 implementations; `sec`..`sign` only occur in mathjs derivatives. */
export const F64: Record<string, (a: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  atan: Math.atan,
  log1p: Math.log1p,
  expm1: Math.expm1,
  square: (a) => a * a,
  cube: (a) => a * a * a,
  sec: (a) => 1 / Math.cos(a),
  sech: (a) => 1 / Math.cosh(a),
  csc: (a) => 1 / Math.sin(a),
  csch: (a) => 1 / Math.sinh(a),
  cot: (a) => 1 / Math.tan(a),
  coth: (a) => 1 / Math.tanh(a),
  sign: Math.sign,
};

const TF: Record<string, (a: tf.Tensor) => tf.Tensor> = {
  exp: tf.exp,
  log: tf.log,
  sqrt: tf.sqrt,
  abs: tf.abs,
  sin: tf.sin,
  cos: tf.cos,
  tan: tf.tan,
  sinh: tf.sinh,
  cosh: tf.cosh,
  tanh: tf.tanh,
  atan: tf.atan,
  log1p: tf.log1p,
  expm1: tf.expm1,
  square: tf.square,
  cube: (a) => tf.mul(tf.square(a), a),
};

const c = (v: number): Ir => ({ k: 'c', v });
const isC = (e: Ir, v?: number): e is { k: 'c'; v: number } => e.k === 'c' && (v === undefined || e.v === v);

/** mathjs node → folded IR. */
export function toIr(node: MathNode): Ir {
  const n = node as AnyNode;
  switch (n.type) {
    case 'ConstantNode':
      return c(n.value as number);
    case 'SymbolNode':
      if (n.name === 'pi') return c(Math.PI);
      if (n.name === 'e') return c(Math.E);
      return { k: 'x', i: Number(String(n.name).slice(1)) - 1 };
    case 'ParenthesisNode':
      return toIr(n.content);
    case 'OperatorNode': {
      const a: Ir[] = n.args.map((m: MathNode) => toIr(m));
      switch (n.fn) {
        case 'add':
          return add(a);
        case 'multiply':
          return mul(a);
        case 'subtract':
          return sub(a[0], a[1]);
        case 'divide':
          return div(a[0], a[1]);
        case 'pow':
          return pow(a[0], a[1]);
        case 'unaryMinus':
          return neg(a[0]);
        case 'unaryPlus':
          return a[0];
      }
      break;
    }
    case 'FunctionNode': {
      const name = String(n.fn?.name);
      const f = F64[name];
      if (f && n.args.length === 1) {
        const a = toIr(n.args[0]);
        return isC(a) ? c(f(a.v)) : { k: 'f', name, a };
      }
      break;
    }
  }
  throw new ParseError(`internal: cannot compile node of type ${String(n.type)}`);
}

function add(args: Ir[]): Ir {
  const flat = args.flatMap((a) => (a.k === 'op' && a.fn === 'add' ? a.args : [a]));
  let k = 0;
  const rest: Ir[] = [];
  for (const a of flat) {
    if (isC(a)) k += a.v;
    else rest.push(a);
  }
  if (k !== 0 || rest.length === 0) rest.push(c(k));
  return rest.length === 1 ? rest[0] : { k: 'op', fn: 'add', args: rest };
}

function mul(args: Ir[]): Ir {
  const flat = args.flatMap((a) => (a.k === 'op' && a.fn === 'mul' ? a.args : [a]));
  let k = 1;
  const rest: Ir[] = [];
  for (const a of flat) {
    if (isC(a)) k *= a.v;
    else rest.push(a);
  }
  // 0 · f → 0: the usual symbolic convention (terms of a derivative that do not depend on x).
  if (k === 0 || rest.length === 0) return c(k);
  if (k === -1) return neg(rest.length === 1 ? rest[0] : { k: 'op', fn: 'mul', args: rest });
  if (k !== 1) rest.unshift(c(k));
  return rest.length === 1 ? rest[0] : { k: 'op', fn: 'mul', args: rest };
}

function sub(a: Ir, b: Ir): Ir {
  if (isC(a) && isC(b)) return c(a.v - b.v);
  if (isC(b, 0)) return a;
  if (isC(a, 0)) return neg(b);
  return { k: 'op', fn: 'sub', args: [a, b] };
}

function div(a: Ir, b: Ir): Ir {
  if (isC(a) && isC(b)) return c(a.v / b.v);
  if (isC(b, 1)) return a;
  if (isC(a, 0)) return c(0);
  return { k: 'op', fn: 'div', args: [a, b] };
}

function pow(a: Ir, b: Ir): Ir {
  if (isC(a) && isC(b)) return c(Math.pow(a.v, b.v));
  if (isC(b, 1)) return a;
  if (isC(b, 0)) return c(1);
  return { k: 'op', fn: 'pow', args: [a, b] };
}

function neg(a: Ir): Ir {
  if (isC(a)) return c(-a.v);
  if (a.k === 'neg') return a.a;
  return { k: 'neg', a };
}

/**
 * JavaScript source of an IR (an expression in `x`). `grad` turns 0/0 into 0 — mathjs gives
 * abs' as abs(u)/u, which is 0/0 at the kink; 0 is a valid subgradient there.
 * Only fixed identifiers and String(number) reach the source.
 */
export function irToJs(e: Ir, grad: boolean): string {
  switch (e.k) {
    case 'c':
      return `(${String(e.v)})`;
    case 'x':
      return `x[${e.i}]`;
    case 'neg':
      return `(-${irToJs(e.a, grad)})`;
    case 'f':
      return `_f.${e.name}(${irToJs(e.a, grad)})`;
    case 'op': {
      const a = e.args.map((x) => irToJs(x, grad));
      switch (e.fn) {
        case 'add':
          return `(${a.join(' + ')})`;
        case 'mul':
          return `(${a.join(' * ')})`;
        case 'sub':
          return `(${a[0]} - ${a[1]})`;
        case 'div':
          return grad ? `_div(${a[0]}, ${a[1]})` : `(${a[0]} / ${a[1]})`;
        case 'pow':
          return isC(e.args[1], 2) ? `_f.square(${a[0]})` : `Math.pow(${a[0]}, ${a[1]})`;
      }
    }
  }
}

const div0 = (a: number, b: number) => (a === 0 && b === 0 ? 0 : a / b);

/** Compiles IRs to one float64 function: (x) => value, or (x, out) => void writing each IR to out[i]. */
export function compileValue(e: Ir): (x: Float64Array) => number {
  return new Function('_f', '_div', `return function (x) { return ${irToJs(e, false)}; };`)(F64, div0) as (x: Float64Array) => number;
}

export function compileVector(es: Ir[]): (x: Float64Array, out: Float64Array) => void {
  const body = es.map((e, i) => `out[${i}] = ${irToJs(e, true)};`).join('\n');
  return new Function('_f', '_div', `return function (x, out) {\n${body}\n};`)(F64, div0) as (x: Float64Array, out: Float64Array) => void;
}

/** tfjs composition of an IR; `cols[i]` is the column x_{i+1}, shape [n]. */
export function irToTf(e: Ir): (cols: tf.Tensor[]) => tf.Tensor {
  switch (e.k) {
    case 'c': {
      const v = e.v;
      return () => tf.scalar(v);
    }
    case 'x': {
      const i = e.i;
      return (cols) => cols[i];
    }
    case 'neg': {
      const a = irToTf(e.a);
      return (cols) => tf.neg(a(cols));
    }
    case 'f': {
      const f = TF[e.name];
      if (!f) throw new ParseError(`internal: no tfjs implementation of ${e.name}`);
      const a = irToTf(e.a);
      return (cols) => f(a(cols));
    }
    case 'op': {
      const a = e.args.map(irToTf);
      switch (e.fn) {
        case 'add':
          return (cols) => a.slice(1).reduce((acc, f) => tf.add(acc, f(cols)), a[0](cols));
        case 'mul':
          return (cols) => a.slice(1).reduce((acc, f) => tf.mul(acc, f(cols)), a[0](cols));
        case 'sub':
          return (cols) => tf.sub(a[0](cols), a[1](cols));
        case 'div':
          return (cols) => tf.div(a[0](cols), a[1](cols));
        case 'pow': {
          const k = e.args[1];
          if (isC(k, 2)) return (cols) => tf.square(a[0](cols));
          if (isC(k, 0.5)) return (cols) => tf.sqrt(a[0](cols));
          return (cols) => tf.pow(a[0](cols), a[1](cols));
        }
      }
    }
  }
}
