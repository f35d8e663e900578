/**
 * The traced graph behind written-once models: a model's log density is run once on `Var`
 * handles, which record every operation as an instruction; the recorded program is then
 * evaluated in float64, forward for values and backward (reverse mode) for the exact gradient,
 * for one point (MCMC) or a batch of rows (flow training).
 *
 * Memory layout of one evaluation frame (`Frame`): a Float64Array `V` holding the constant pool
 * (data, literals) first, then every node's elements, element-major with `nc` rows each: element
 * `e` of the nodes at row `r` sits at `V[kc + e * nc + r]`. A scalar program step therefore loops
 * over contiguous rows, so a batch amortises the interpretation over `nc` rows, and a vector node
 * is a contiguous range of elements, so slicing and indexing are views that cost nothing. The
 * adjoint array `G` has the same layout (writes into its constant region are ignored).
 *
 * A `Var` refuses to become a plain number (`valueOf` throws): the graph is recorded once, so a
 * branch on a parameter's value, `Math.exp(v)` or `a + b` on handles would silently be wrong.
 */
import { FlowsamplerError } from '../core/errors.js';

/** A model was written in a way the tracer cannot follow, or an op got bad arguments. */
export class ModelError extends FlowsamplerError {}

/** An argument of an instruction: a range of constants or of node elements. */
export interface Operand {
  /** true: `off` indexes the constant pool; false: node elements. */
  readonly c: boolean;
  readonly off: number;
  readonly len: number;
}

/** Where one evaluation runs: values, adjoints, rows per element and the constant pool's size. */
export interface Frame {
  V: Float64Array;
  G: Float64Array;
  nc: number;
  kc: number;
}

/** One recorded step: reads its operands and writes its output node in `forward`; `backward` adds adjoints. */
export interface Instr {
  forward(f: Frame): void;
  backward(f: Frame): void;
  /** The same step as elementwise loops the compiler (compile.ts) can fuse with its neighbours. */
  readonly fused?: readonly Fusable[];
}

/**
 * One loop over `L` elements, stated as formulas: a map writes element i of `out` (length L), a
 * reduction adds a term per element into the scalar `out`. Inputs have length L or 1 (broadcast)
 * and are bound to `names` in the formulas.
 */
export interface Fusable {
  readonly L: number;
  readonly inputs: readonly Operand[];
  readonly names: readonly string[];
  readonly out: Operand;
  readonly reduce: boolean;
  /** Reductions: false for an element makes the result −∞ (and that element adds no adjoint). */
  readonly guard?: string;
  /** Statements run before `value` and the adjoints (shared subexpressions); pure, since they may run where the guard fails. */
  readonly pre?: string;
  /** A map's element (may not use `y`), or a reduction's term. */
  readonly value: string;
  /** Reductions: a term that depends only on broadcast inputs, computed once and counted L times. */
  readonly once?: string;
  /** Per input, the adjoint it receives from `g` (the output's adjoint; a map may use its value `y`), or null. */
  readonly adjoints: readonly (string | null)[];
  /** Reductions: the same terms through a sufficient statistic, for one-point loops (see `Statistic`). */
  readonly statistic?: Statistic;
}

/**
 * A reduction's per-element terms rewritten, where some inputs are one value for every element,
 * as a sum over elements of `sum` (after `pre`) and a value computed once from it: a normal
 * likelihood with one σ needs only Σ (y − μ)², and σ's adjoint follows from the same sum. In the
 * expressions after the loop, `sum` is the sum and `count` the number of elements.
 */
export interface Statistic {
  /** Statements on broadcast inputs only, run once before the loop. */
  readonly shared: string;
  /** Per element: statements, then the summed expression. */
  readonly pre: string;
  readonly sum: string;
  /** The reduction's per-element terms, after the loop. */
  readonly value: string;
  /** Per input: its adjoint per element (`g * (…)`), or null. */
  readonly adjoints: readonly (string | null)[];
  /** Per input: its adjoint after the loop, from the sum (`g * (…)`), or null. */
  readonly after: readonly (string | null)[];
}

/** Index of element 0 of an operand in V (row 0). */
export function baseOf(f: Frame, o: Operand): number {
  return o.c ? o.off : f.kc + o.off * f.nc;
}
/** Element stride of an operand; 0 broadcasts a single element over `len`. */
export function elemStride(f: Frame, o: Operand, len: number): number {
  if (o.len === 1 && len !== 1) return 0;
  return o.c ? 1 : f.nc;
}
/** Row stride: constants are shared by every row. */
export function rowStride(o: Operand): number {
  return o.c ? 0 : 1;
}

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function shapeText(shape: Shape): string {
  return shape.length === 0 ? 'scalar' : shape.length === 1 ? `vector[${shape[0]}]` : `matrix[${shape.join(',')}]`;
}

/** A value of the model's graph: a scalar, vector or (row-major) matrix node. */
export class Var {
  constructor(
    readonly graph: Graph,
    /** First element in the node region. */
    readonly off: number,
    readonly shape: Shape,
  ) {}

  get len(): number {
    return sizeOf(this.shape);
  }

  get operand(): Operand {
    return { c: false, off: this.off, len: this.len };
  }

  valueOf(): never {
    throw new ModelError(
      'a model value was used as a plain number (in `if`, `Math.*`, `+`, `*`, a comparison or a template string); ' +
        'use the model ops (add, mul, exp, ...) so the gradient can follow it',
    );
  }

  toString(): string {
    return `Var(${shapeText(this.shape)})`;
  }

  [Symbol.toPrimitive](): never {
    return this.valueOf();
  }
}

/** A recorded program being built. */
export class Graph {
  readonly consts: number[] = [];
  readonly instrs: Instr[] = [];
  nodeLen = 0;
  private readonly constCache = new WeakMap<object, Operand>();
  private readonly scalarCache = new Map<number, Operand>();

  /** A fresh node of the given shape (its values are written by the instruction that follows). */
  alloc(shape: Shape): Var {
    const v = new Var(this, this.nodeLen, shape.slice());
    this.nodeLen += Math.max(1, sizeOf(shape));
    return v;
  }

  /** A view of `len` elements of `v` from `start` (no copy, no instruction). */
  view(v: Var, start: number, shape: Shape): Var {
    return new Var(this, v.off + start, shape.slice());
  }

  push(instr: Instr): void {
    this.instrs.push(instr);
  }

  /** Puts numbers in the constant pool (arrays are interned by identity). */
  constant(values: ArrayLike<number> | number): Operand {
    if (typeof values === 'number') {
      const hit = this.scalarCache.get(values);
      if (hit) return hit;
      const op = { c: true, off: this.consts.length, len: 1 };
      this.consts.push(values);
      // NaN is not a Map key that finds itself again; skip caching it.
      if (!Number.isNaN(values)) this.scalarCache.set(values, op);
      return op;
    }
    const key = values as unknown as object;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const op = { c: true, off: this.consts.length, len: values.length };
    for (let i = 0; i < values.length; i++) this.consts.push(values[i]);
    this.constCache.set(key, op);
    return op;
  }
}

/** Anything an op accepts: a graph value, or data (a number, an array, a nested array for a matrix). */
export type Value = Var | number | ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/** Data (no Var) in flat form with its shape. */
export interface ConstValue {
  values: ArrayLike<number>;
  shape: Shape;
}

const flatCache = new WeakMap<object, ConstValue>();

/** A non-Var value as flat numbers with a shape; nested arrays become row-major matrices. */
export function constValue(v: Exclude<Value, Var>, what = 'value'): ConstValue {
  if (typeof v === 'number') return { values: [v], shape: [] };
  if (v == null || typeof (v as ArrayLike<unknown>).length !== 'number') {
    throw new ModelError(`${what}: expected a number, an array or a model value, got ${v === null ? 'null' : typeof v}`);
  }
  const hit = flatCache.get(v as object);
  if (hit) return hit;
  const arr = v as ArrayLike<unknown>;
  let out: ConstValue;
  if (arr.length > 0 && typeof arr[0] === 'object' && arr[0] !== null) {
    const rows = arr as ArrayLike<ArrayLike<number>>;
    const c = rows[0].length;
    const flat = new Float64Array(rows.length * c);
    for (let i = 0; i < rows.length; i++) {
      if (rows[i].length !== c) throw new ModelError(`${what}: matrix rows have different lengths (${c} and ${rows[i].length})`);
      for (let j = 0; j < c; j++) flat[i * c + j] = checkNumber(rows[i][j], what);
    }
    out = { values: flat, shape: [rows.length, c] };
  } else {
    for (let i = 0; i < arr.length; i++) checkNumber(arr[i], what);
    out = { values: arr as ArrayLike<number>, shape: [arr.length] };
  }
  flatCache.set(v as object, out);
  return out;
}

function checkNumber(x: unknown, what: string): number {
  if (typeof x !== 'number') {
    if (x instanceof Var) throw new ModelError(`${what}: an array mixes model values and numbers; build it with stack([...])`);
    throw new ModelError(`${what}: expected numbers, got ${typeof x}`);
  }
  return x;
}

/** The graph of the first Var among `args`, or null when every argument is data. */
export function graphOf(args: readonly unknown[]): Graph | null {
  let g: Graph | null = null;
  for (const a of args) {
    if (a instanceof Var) {
      if (g && a.graph !== g) throw new ModelError('values from two different models were combined');
      g = a.graph;
    }
  }
  return g;
}

/** The operand and shape of any value inside graph `g`. */
export function operandOf(g: Graph, v: Value, what: string): { op: Operand; shape: Shape } {
  if (v instanceof Var) return { op: v.operand, shape: v.shape };
  const cv = constValue(v, what);
  return { op: g.constant(cv.values), shape: cv.shape };
}

/** Shape of v without putting it into a graph. */
export function shapeOfValue(v: Value, what = 'value'): Shape {
  return v instanceof Var ? v.shape : constValue(v, what).shape;
}
