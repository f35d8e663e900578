/**
 * A recorded graph made runnable: forward for the log density (and any other node), backward
 * for the exact gradient with respect to the input node, at one point or at the rows of a batch.
 * Batches run in chunks of rows sized so one chunk's values and adjoints stay in cache.
 */
import type { Frame, Graph, Var } from './graph.js';
import { compilePasses, type CompiledPasses } from './compile.js';
import { valueAndGradRowByRow } from '../targets/rowByRow.js';

/** Node elements × rows per chunk that a frame aims to hold (values and adjoints: 2 × 8 bytes each). */
const CHUNK_ELEMENTS = 1 << 16;
const MAX_CHUNK_ROWS = 256;
/** Compiled programs whose chunks would hold fewer rows than this evaluate a batch row by row (bench/models.ts). */
const ROW_BY_ROW_BELOW = 64;

export class Program {
  readonly dim: number;
  /** Rows per chunk of a batch evaluation. */
  readonly chunkRows: number;
  private readonly kc: number;
  private readonly consts: Float64Array;
  private readonly frames = new Map<number, Frame>();
  /** Compiled passes for one point and for batches (built on first use); null: interpret. */
  private readonly passes: { one?: CompiledPasses; batch?: CompiledPasses } | null;

  constructor(
    private readonly graph: Graph,
    /** The unconstrained input (node elements [0, dim)). */
    private readonly input: Var,
    /** The scalar log density. */
    private readonly lp: Var,
    /** false runs every instruction through its own kernel (the reference the compiled code is tested against). */
    compiled = true,
  ) {
    this.passes = compiled ? {} : null;
    if (input.off !== 0) throw new Error('internal: the input must be the first node');
    this.dim = input.len;
    this.consts = Float64Array.from(graph.consts);
    this.kc = this.consts.length;
    this.chunkRows = Math.max(1, Math.min(MAX_CHUNK_ROWS, Math.floor(CHUNK_ELEMENTS / Math.max(1, graph.nodeLen))));
  }

  get instructionCount(): number {
    return this.graph.instrs.length;
  }
  get nodeElements(): number {
    return this.graph.nodeLen;
  }

  private frame(nc: number): Frame {
    const cap = nc === 1 ? 1 : this.chunkRows;
    let f = this.frames.get(cap);
    if (!f) {
      const size = this.kc + this.graph.nodeLen * cap;
      f = { V: new Float64Array(size), G: new Float64Array(size), nc: cap, kc: this.kc };
      f.V.set(this.consts);
      this.frames.set(cap, f);
    }
    f.nc = nc;
    return f;
  }

  private load(f: Frame, x: ArrayLike<number>, r0: number): void {
    const { V, nc, kc } = f;
    const dim = this.dim;
    for (let r = 0; r < nc; r++) {
      const xo = (r0 + r) * dim;
      for (let j = 0; j < dim; j++) V[kc + j * nc + r] = x[xo + j];
    }
  }

  /** The same program run by the interpreter, instruction by instruction. */
  interpreted(): Program {
    return new Program(this.graph, this.input, this.lp, false);
  }

  private compiledFor(f: Frame): CompiledPasses | null {
    const p = this.passes;
    if (!p) return null;
    if (f.nc === 1 && f.V.length === this.kc + this.graph.nodeLen) {
      // The one-point code, unless it reads the caller's point directly (then only valueAndGrad and value call it, with the point).
      const one = this.onePointPasses()!;
      if (!one.direct) return one;
    }
    return (p.batch ??= compilePasses(this.graph, this.kc, true, this.lp.operand, this.dim));
  }

  private onePointPasses(): CompiledPasses | null {
    return this.passes ? (this.passes.one ??= compilePasses(this.graph, this.kc, false, this.lp.operand, this.dim)) : null;
  }

  /** `everyNode`: the interpreter, which leaves every node's value in the frame (the compiled code keeps only what it needs). */
  private forward(f: Frame, everyNode = false): void {
    const c = everyNode ? null : this.compiledFor(f);
    if (c) return c.forward(f);
    const instrs = this.graph.instrs;
    for (let k = 0; k < instrs.length; k++) instrs[k].forward(f);
  }

  /** Values, then the adjoint of every node (the gradient is the input's). */
  private gradient(f: Frame): void {
    const { G, nc, kc } = f;
    const c = this.compiledFor(f);
    // Every adjoint: only the direct one-point code (valueAndGrad) zeroes just the ones it uses.
    G.fill(0, kc, kc + this.graph.nodeLen * nc);
    const lb = kc + this.lp.off * nc;
    for (let r = 0; r < nc; r++) G[lb + r] = 1;
    if (c) return c.gradient(f);
    const instrs = this.graph.instrs;
    for (let k = 0; k < instrs.length; k++) instrs[k].forward(f);
    for (let k = instrs.length - 1; k >= 0; k--) instrs[k].backward(f);
  }

  /** log p̃ at one point. */
  value(x: ArrayLike<number>): number {
    const one = this.onePoint === undefined ? this.prepareOnePoint() : this.onePoint;
    if (one) {
      one.c.forward(one.f, this.asPoint(x));
      return one.f.V[this.kc + this.lp.off];
    }
    const f = this.frame(1);
    this.load(f, x, 0);
    this.forward(f);
    return f.V[this.kc + this.lp.off];
  }

  private scratch: Float64Array | null = null;
  /** x as a Float64Array (the compiled code reads it directly, and must see one kind of array). */
  private asPoint(x: ArrayLike<number>): Float64Array {
    if (x instanceof Float64Array) return x;
    const p = (this.scratch ??= new Float64Array(this.dim));
    for (let j = 0; j < this.dim; j++) p[j] = x[j];
    return p;
  }

  /** log p̃ at one point, its gradient written into `grad`. */
  valueAndGrad(x: ArrayLike<number>, grad: Float64Array): number {
    const one = this.onePoint === undefined ? this.prepareOnePoint() : this.onePoint;
    if (!one) {
      const f = this.frame(1);
      this.load(f, x, 0);
      this.gradient(f);
      const { G, kc } = f;
      for (let j = 0; j < this.dim; j++) grad[j] = G[kc + j];
      return f.V[kc + this.lp.off];
    }
    // The MCMC path: nothing between the caller and the compiled code but zeroing the adjoints.
    // The code reads x and adds the gradient to `grad` directly.
    const { f, c, ranges } = one;
    const { V, G } = f;
    const lb = this.kc + this.lp.off;
    for (let j = 0; j < this.dim; j++) grad[j] = 0;
    // TypedArray#fill for long ranges, a plain loop for the short ones (the call costs more).
    for (let k = 0; k < ranges.length; k += 2) {
      const a = ranges[k], b = ranges[k + 1];
      if (b - a > 32) G.fill(0, a, b);
      else for (let e = a; e < b; e++) G[e] = 0;
    }
    G[lb] = 1;
    c.gradient(f, this.asPoint(x), grad);
    return V[lb];
  }

  /**
   * The compiled one-point frame with its adjoint ranges (absolute, flat) when the one-point code
   * reads the caller's point directly; null when it does not (the interpreter, or a program with
   * calls), undefined until first asked.
   */
  private onePoint: { f: Frame; c: CompiledPasses; ranges: Int32Array } | null | undefined = undefined;
  private prepareOnePoint(): { f: Frame; c: CompiledPasses; ranges: Int32Array } | null {
    const c = this.onePointPasses();
    if (!c?.direct || !c.adjointRanges) return (this.onePoint = null);
    const ranges = Int32Array.from(c.adjointRanges.flatMap(([a, b]) => [this.kc + a, this.kc + b]));
    return (this.onePoint = { f: this.frame(1), c, ranges });
  }

  /** log p̃ and gradients at the n rows of x (row-major n × dim). */
  valueAndGradBatch(x: ArrayLike<number>, n: number, logp: Float64Array, grad: Float64Array): void {
    const dim = this.dim;
    // A large program: the one-point code row by row keeps a row's values in cache.
    if (this.passes && this.chunkRows < ROW_BY_ROW_BELOW) return valueAndGradRowByRow((xr, g) => this.valueAndGrad(xr, g), x, n, dim, logp, grad);
    for (let r0 = 0; r0 < n; r0 += this.chunkRows) {
      const nc = Math.min(this.chunkRows, n - r0);
      const f = this.frame(nc);
      this.load(f, x, r0);
      this.gradient(f);
      const { V, G, kc } = f;
      const lb = kc + this.lp.off * nc;
      for (let r = 0; r < nc; r++) {
        logp[r0 + r] = V[lb + r];
        const go = (r0 + r) * dim;
        for (let j = 0; j < dim; j++) grad[go + j] = G[kc + j * nc + r];
      }
    }
  }

  /**
   * Forward only, at the n rows of x; `read(r, get)` is called per row with an accessor of node
   * values (for the constrained parameters and exposed quantities).
   */
  forEachRow(x: ArrayLike<number>, n: number, read: (row: number, node: (v: Var, i: number) => number, logp: number) => void): void {
    for (let r0 = 0; r0 < n; r0 += this.chunkRows) {
      const nc = Math.min(this.chunkRows, n - r0);
      const f = this.frame(nc);
      this.load(f, x, r0);
      this.forward(f, true);
      const { V, kc } = f;
      for (let r = 0; r < nc; r++) {
        read(r0 + r, (v, i) => V[kc + (v.off + i) * nc + r], V[kc + this.lp.off * nc + r]);
      }
    }
  }
}
