/**
 * The heap engine: `Ops` over float32 buffers on the wasm heap, with a reverse-mode tape.
 * Matrix products are XNNPACK's fully connected operator (src/flows/engine/heap/kernels.ts);
 * everything else is a plain JS loop. One `HeapSession` is one call (a training step, a
 * sampling chunk): values take buffers from a pool and give them back at `end()`.
 *
 * Gradient layouts. A gradient is stored row-major ("row", like its value) or transposed
 * ("col", [cols, rows]). The MLP's backward works on transposed gradients only, which is what
 * makes every product a plain, packable `a · b` (tfjs-wasm has no fast transposed matMul):
 *   dWᵀ = gᵀ · act,  dactᵀ = W · gᵀ.
 * Every other rule works row-major. A gradient is converted (one transpose) only where a
 * consumer of one layout feeds a producer of the other.
 *
 * Parameters: `param(p)` gives one value per parameter per session, backed by the parameter's
 * own heap buffer (src/flows/params.ts), so its gradient is accumulated once over every use
 * (e.g. the `dim` passes of an autoregressive inverse) and written to float64 at the end, with
 * the parameter's gradient mask applied.
 */
import type { Param, ParamStore } from '../../params.js';
import { DimensionError } from '../../../core/errors.js';
import type { DenseLayer, Kernel, MlpOptions, Ops, Shape } from '../ops.js';
import type { HeapBuffer, HeapKernels } from './kernels.js';
import type { BufferPool } from './pool.js';
import type { HeapMatrix } from './kernel.js';
import { blockedMlpForward } from './blockedMlp.js';

const ROW = 0;
const COL = 1;
type Layout = typeof ROW | typeof COL;

/** A value of the heap engine: a [rows, cols] row-major matrix in a heap buffer. */
export class HVal {
  grad: HeapBuffer | null = null;
  gradLayout: Layout = ROW;
  /** Backward rule: reads this value's gradient, adds to its inputs'. */
  back: (() => void) | null = null;
  alive = true;
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly buf: HeapBuffer,
    /** True when a gradient must flow into this value (it depends on something that needs one). */
    readonly req: boolean,
    /** The parameter this value is, or null. */
    readonly param: Param | null,
  ) {}
  get size(): number {
    return this.rows * this.cols;
  }
  get off(): number {
    return this.buf.offset >> 2;
  }
}

function sameShape(a: HVal, b: HVal): boolean {
  return a.rows === b.rows && a.cols === b.cols;
}

function broadcastShape(op: string, a: HVal, b: HVal): [number, number] {
  const R = Math.max(a.rows, b.rows);
  const C = Math.max(a.cols, b.cols);
  if ((a.rows !== R && a.rows !== 1) || (b.rows !== R && b.rows !== 1) || (a.cols !== C && a.cols !== 1) || (b.cols !== C && b.cols !== 1)) {
    throw new DimensionError(`${op}: shapes [${a.rows}, ${a.cols}] and [${b.rows}, ${b.cols}] do not broadcast`);
  }
  return [R, C];
}

const enum Bin {
  Add,
  Sub,
  Mul,
}

const enum Un {
  Neg,
  Exp,
  Square,
  Tanh,
  Softplus,
  Scale,
  Shift,
}

export interface HeapSessionOptions {
  recording: boolean;
  /** Whether trainable parameters get gradients (default true; false for input gradients only). */
  paramGrads?: boolean;
}

export class HeapSession implements Ops<HVal> {
  readonly engine = 'heap' as const;
  readonly recording: boolean;
  private readonly paramGrads: boolean;
  private readonly created: HVal[] = [];
  private readonly tape: HVal[] = [];
  private readonly paramVals = new Map<Param, HVal>();
  private readonly scratch: HeapBuffer[] = [];
  private ended = false;

  constructor(
    readonly kernels: HeapKernels,
    private readonly pool: BufferPool,
    private readonly store: ParamStore,
    options: HeapSessionOptions,
  ) {
    this.recording = options.recording;
    this.paramGrads = options.paramGrads ?? true;
  }

  // ---- values -------------------------------------------------------------------------------

  private H(): Float32Array {
    return this.kernels.heap();
  }

  private make(rows: number, cols: number, req: boolean): HVal {
    const v = new HVal(rows, cols, this.pool.take(rows * cols), req && this.recording, null);
    this.created.push(v);
    return v;
  }

  private record(v: HVal, back: () => void): HVal {
    if (v.req) {
      v.back = back;
      this.tape.push(v);
    }
    return v;
  }

  private temp(size: number): HeapBuffer {
    const b = this.pool.take(size);
    this.scratch.push(b);
    return b;
  }

  /** A batch from numbers (float32-rounded); `requiresGrad` to read dL/d(this) after backward. */
  input(values: ArrayLike<number>, rows: number, cols: number, requiresGrad = false): HVal {
    if (values.length !== rows * cols) throw new DimensionError(`input: ${values.length} values for [${rows}, ${cols}]`);
    const v = this.make(rows, cols, requiresGrad);
    this.kernels.f32(v.buf).set(values);
    return v;
  }

  /** The values of v (a copy, row-major). */
  read(v: HVal): Float32Array {
    return this.H().slice(v.off, v.off + v.size);
  }

  shape(v: HVal): Shape {
    return [v.rows, v.cols];
  }

  param(p: Param): HVal {
    let v = this.paramVals.get(p);
    if (v) return v;
    const buf = this.store.heapBuffer(p, this.kernels);
    v = new HVal(p.rows, p.cols, buf, p.trainable && this.recording && this.paramGrads, p);
    this.paramVals.set(p, v);
    return v;
  }

  constant(values: ArrayLike<number>, rows: number, cols: number): HVal {
    return this.input(values, rows, cols, false);
  }

  // ---- gradients ----------------------------------------------------------------------------

  /** Adds `src` (a gradient of v's shape in `layout`) to v's gradient; may adopt `src`. */
  private accum(v: HVal, src: HeapBuffer, layout: Layout, adopt: boolean): void {
    if (!v.req) return;
    if (v.grad === null) {
      if (adopt) {
        v.grad = src;
      } else {
        v.grad = this.temp(v.size);
        this.kernels.f32(v.grad).set(this.kernels.f32(src).subarray(0, v.size));
      }
      v.gradLayout = v.rows === 1 || v.cols === 1 ? ROW : layout;
      return;
    }
    const H = this.H();
    const d = v.grad.offset >> 2;
    const s = src.offset >> 2;
    const n = v.size;
    if (v.gradLayout === layout || v.rows === 1 || v.cols === 1) {
      for (let i = 0; i < n; i++) H[d + i] += H[s + i];
    } else {
      addTransposed(H, s, d, layout === ROW ? v.rows : v.cols, layout === ROW ? v.cols : v.rows);
    }
    v.grad.version++;
  }

  /** v's gradient as a row-major buffer (converting a transposed one in place). */
  private gradRow(v: HVal): HeapBuffer | null {
    if (v.grad === null) return null;
    if (v.gradLayout === ROW || v.rows === 1 || v.cols === 1) return v.grad;
    const t = this.temp(v.size);
    transpose(this.H(), v.grad.offset >> 2, t.offset >> 2, v.cols, v.rows);
    v.grad = t;
    v.gradLayout = ROW;
    return t;
  }

  /** v's gradient transposed ([cols, rows]). */
  private gradCol(v: HVal): HeapBuffer | null {
    if (v.grad === null) return null;
    if (v.gradLayout === COL || v.rows === 1 || v.cols === 1) return v.grad;
    const t = this.temp(v.size);
    transpose(this.H(), v.grad.offset >> 2, t.offset >> 2, v.rows, v.cols);
    v.grad = t;
    v.gradLayout = COL;
    return t;
  }

  private zeroed(size: number): HeapBuffer {
    const b = this.temp(size);
    this.kernels.f32(b).fill(0);
    return b;
  }

  /**
   * Back-propagates the given dL/d(value) seeds (row-major) through everything recorded, and
   * returns dL/d(parameter) (float64, masked) for every trainable parameter that was reached.
   */
  backward(seeds: { value: HVal; grad: ArrayLike<number> }[]): Map<Param, Float64Array> {
    if (!this.recording) throw new Error('heap session: backward needs a recording session');
    for (const { value, grad } of seeds) {
      if (grad.length !== value.size) throw new DimensionError(`backward: seed of ${grad.length} values for [${value.rows}, ${value.cols}]`);
      const b = this.temp(value.size);
      this.kernels.f32(b).set(grad);
      this.accum(value, b, ROW, true);
    }
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const v = this.tape[i];
      if (v.grad !== null) v.back!();
    }
    const out = new Map<Param, Float64Array>();
    const H = this.H();
    for (const [p, v] of this.paramVals) {
      if (!p.trainable || v.grad === null) continue;
      const g = new Float64Array(p.size);
      const o = v.grad.offset >> 2;
      if (v.gradLayout === ROW || v.rows === 1 || v.cols === 1) {
        for (let i = 0; i < g.length; i++) g[i] = H[o + i];
      } else {
        // [cols, rows] → [rows, cols]
        const R = v.rows;
        const C = v.cols;
        for (let j = 0; j < C; j++) {
          const row = o + j * R;
          for (let r = 0; r < R; r++) g[r * C + j] = H[row + r];
        }
      }
      if (p.gradMask) {
        const m = this.store.data(p.gradMask);
        for (let i = 0; i < g.length; i++) g[i] *= m[i];
      }
      out.set(p, g);
    }
    return out;
  }

  /** dL/d(v) after `backward` (row-major, float64), zeros if nothing reached it. */
  gradOf(v: HVal): Float64Array {
    const g = this.gradRow(v);
    const out = new Float64Array(v.size);
    if (g) {
      const H = this.H();
      const o = g.offset >> 2;
      for (let i = 0; i < out.length; i++) out[i] = H[o + i];
    }
    return out;
  }

  /** Gives every buffer back to the pool. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const v of this.created) if (v.alive) this.pool.give(v.buf);
    for (const b of this.scratch) this.pool.give(b);
    this.created.length = 0;
    this.scratch.length = 0;
    this.tape.length = 0;
    this.paramVals.clear();
  }

  scope<T>(fn: () => T): T {
    if (this.recording) return fn();
    const start = this.created.length;
    const scratchStart = this.scratch.length;
    const result = fn();
    const keep = new Set<HVal>();
    const visit = (x: unknown, depth: number) => {
      if (x instanceof HVal) keep.add(x);
      else if (depth > 0 && x && typeof x === 'object') for (const y of Object.values(x as object)) visit(y, depth - 1);
    };
    visit(result, 3);
    const kept: HVal[] = [];
    for (let i = start; i < this.created.length; i++) {
      const v = this.created[i];
      if (keep.has(v)) kept.push(v);
      else if (v.alive) {
        v.alive = false;
        this.pool.give(v.buf);
      }
    }
    this.created.length = start;
    this.created.push(...kept);
    for (let i = scratchStart; i < this.scratch.length; i++) this.pool.give(this.scratch[i]);
    this.scratch.length = scratchStart;
    return result;
  }

  // ---- products -----------------------------------------------------------------------------

  mlp(x: HVal, layers: DenseLayer<HVal>[], options: MlpOptions = {}): HVal {
    const n = x.rows;
    let K = x.cols;
    for (const [l, d] of layers.entries()) {
      if (d.weight.rows !== K) throw new DimensionError(`mlp layer ${l}: input width ${K}, weight [${d.weight.rows}, ${d.weight.cols}]`);
      if (d.bias && (d.bias.rows !== 1 || d.bias.cols !== d.weight.cols)) throw new DimensionError(`mlp layer ${l}: bias [${d.bias.rows}, ${d.bias.cols}] for ${d.weight.cols} outputs`);
      K = d.weight.cols;
    }
    const L = layers.length;
    const req = x.req || layers.some((d) => d.weight.req || (d.bias?.req ?? false));
    const out = this.make(n, K, req);
    if (!this.recording && options.degrees) {
      const done = blockedMlpForward(this.kernels, this.pool, x, layers, out, options.degrees);
      if (done) return out;
    }
    // Hidden activations (post-ReLU), kept for the backward pass.
    const acts: HeapBuffer[] = [];
    let a = x.buf;
    for (let l = 0; l < L; l++) {
      const d = layers[l];
      const last = l === L - 1;
      const dst = last ? out.buf : this.temp(n * d.weight.cols);
      this.kernels.matMul(a, d.weight.buf, dst, n, d.weight.rows, d.weight.cols, d.bias?.buf ?? null, !last);
      if (!last) acts.push(dst);
      a = dst;
    }
    return this.record(out, () => {
      const k = this.kernels;
      let gT = this.gradCol(out)!; // [N, n]
      for (let l = L - 1; l >= 0; l--) {
        const d = layers[l];
        const Kl = d.weight.rows;
        const Nl = d.weight.cols;
        const act = l === 0 ? x.buf : acts[l - 1];
        if (d.weight.req) {
          const dWT = this.temp(Nl * Kl);
          k.matMul(gT, act, dWT, Nl, n, Kl);
          this.accum(d.weight, dWT, COL, true);
        }
        if (d.bias?.req) {
          const db = this.temp(Nl);
          const H = this.H();
          const go = gT.offset >> 2;
          const bo = db.offset >> 2;
          for (let j = 0; j < Nl; j++) {
            let s = 0;
            const row = go + j * n;
            for (let r = 0; r < n; r++) s += H[row + r];
            H[bo + j] = s;
          }
          this.accum(d.bias, db, ROW, true);
        }
        if (l === 0 && !x.req) break;
        const dActT = this.temp(Kl * n);
        k.matMul(d.weight.buf, gT, dActT, Kl, Nl, n);
        if (l === 0) {
          this.accum(x, dActT, COL, true);
          break;
        }
        // ReLU: pass the gradient where the activation was positive (a multiply, not a branch).
        const H = this.H();
        const ao = dActT.offset >> 2;
        const xo = act.offset >> 2;
        for (let j = 0; j < Kl; j++) {
          const row = ao + j * n;
          for (let r = 0; r < n; r++) H[row + r] *= +(H[xo + r * Kl + j] > 0);
        }
        dActT.version++;
        gT = dActT;
      }
    });
  }

  matmul(a: HVal, b: HVal): HVal {
    if (a.cols !== b.rows) throw new DimensionError(`matmul: [${a.rows}, ${a.cols}] x [${b.rows}, ${b.cols}]`);
    const M = a.rows;
    const K = a.cols;
    const N = b.cols;
    const out = this.make(M, N, a.req || b.req);
    const H = this.H();
    smallMatMul(H, a.off, b.off, out.off, M, K, N);
    out.buf.version++;
    return this.record(out, () => {
      const g = this.gradRow(out)!;
      if (a.req) {
        const da = this.zeroed(M * K);
        const H2 = this.H();
        // da = g · bᵀ
        const go = g.offset >> 2;
        const bo = b.off;
        const o = da.offset >> 2;
        for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) {
          let s = 0;
          for (let j = 0; j < N; j++) s += H2[go + i * N + j] * H2[bo + k * N + j];
          H2[o + i * K + k] = s;
        }
        this.accum(a, da, ROW, true);
      }
      if (b.req) {
        const db = this.zeroed(K * N);
        const H2 = this.H();
        // db = aᵀ · g
        const go = g.offset >> 2;
        const ao = a.off;
        const o = db.offset >> 2;
        for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) {
          const aik = H2[ao + i * K + k];
          for (let j = 0; j < N; j++) H2[o + k * N + j] += aik * H2[go + i * N + j];
        }
        this.accum(b, db, ROW, true);
      }
    });
  }

  triangularInverse(t: HVal, lower: boolean): HVal {
    if (t.rows !== t.cols) throw new DimensionError(`triangularInverse: [${t.rows}, ${t.cols}] is not square`);
    const D = t.rows;
    const out = this.make(D, D, t.req);
    const H = this.H();
    triInverse(H, t.off, out.off, D, lower);
    out.buf.version++;
    return this.record(out, () => {
      // d(T⁻¹) = −T⁻¹ dT T⁻¹  ⇒  dL/dT = −T⁻ᵀ G T⁻ᵀ, restricted to the triangle.
      const g = this.gradRow(out)!;
      const H2 = this.H();
      const inv = out.off;
      const go = g.offset >> 2;
      const tmp = new Float64Array(D * D);
      // tmp = G · T⁻ᵀ
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) {
        let s = 0;
        for (let k = 0; k < D; k++) s += H2[go + i * D + k] * H2[inv + j * D + k];
        tmp[i * D + j] = s;
      }
      const dt = this.zeroed(D * D);
      const H3 = this.H();
      const o = dt.offset >> 2;
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) {
        if (lower ? j > i : j < i) continue;
        let s = 0;
        for (let k = 0; k < D; k++) s += H3[inv + k * D + i] * tmp[k * D + j];
        H3[o + i * D + j] = -s;
      }
      this.accum(t, dt, ROW, true);
    });
  }

  // ---- elementwise --------------------------------------------------------------------------

  private binary(op: Bin, name: string, a: HVal, b: HVal): HVal {
    const [R, C] = broadcastShape(name, a, b);
    const out = this.make(R, C, a.req || b.req);
    const H = this.H();
    const o = out.off;
    const ao = a.off;
    const bo = b.off;
    const aR = a.rows === 1 ? 0 : a.cols;
    const aC = a.cols === 1 ? 0 : 1;
    const bR = b.rows === 1 ? 0 : b.cols;
    const bC = b.cols === 1 ? 0 : 1;
    if (op === Bin.Add) {
      for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) H[o + r * C + j] = H[ao + r * aR + j * aC] + H[bo + r * bR + j * bC];
    } else if (op === Bin.Sub) {
      for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) H[o + r * C + j] = H[ao + r * aR + j * aC] - H[bo + r * bR + j * bC];
    } else {
      for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) H[o + r * C + j] = H[ao + r * aR + j * aC] * H[bo + r * bR + j * bC];
    }
    out.buf.version++;
    return this.record(out, () => {
      const g = this.gradRow(out)!;
      const side = (x: HVal, other: HVal | null, sign: number, xR: number, xC: number, yR: number, yC: number) => {
        if (!x.req) return;
        const dx = this.zeroed(x.size);
        const H2 = this.H();
        const go = g.offset >> 2;
        const d = dx.offset >> 2;
        const xo = other ? other.off : 0;
        for (let r = 0; r < R; r++) {
          for (let j = 0; j < C; j++) {
            const gv = H2[go + r * C + j];
            H2[d + r * xR + j * xC] += other ? gv * H2[xo + r * yR + j * yC] : sign * gv;
          }
        }
        this.accum(x, dx, ROW, true);
      };
      if (op === Bin.Mul) {
        side(a, b, 1, aR, aC, bR, bC);
        side(b, a, 1, bR, bC, aR, aC);
      } else {
        side(a, null, 1, aR, aC, 0, 0);
        side(b, null, op === Bin.Sub ? -1 : 1, bR, bC, 0, 0);
      }
    });
  }

  add(a: HVal, b: HVal): HVal {
    return this.binary(Bin.Add, 'add', a, b);
  }
  sub(a: HVal, b: HVal): HVal {
    return this.binary(Bin.Sub, 'sub', a, b);
  }
  mul(a: HVal, b: HVal): HVal {
    return this.binary(Bin.Mul, 'mul', a, b);
  }

  private unary(op: Un, a: HVal, c = 0): HVal {
    const out = this.make(a.rows, a.cols, a.req);
    const H = this.H();
    const n = a.size;
    const ao = a.off;
    const o = out.off;
    switch (op) {
      case Un.Neg:
        for (let i = 0; i < n; i++) H[o + i] = -H[ao + i];
        break;
      case Un.Exp:
        for (let i = 0; i < n; i++) H[o + i] = Math.exp(H[ao + i]);
        break;
      case Un.Square:
        for (let i = 0; i < n; i++) H[o + i] = H[ao + i] * H[ao + i];
        break;
      case Un.Tanh:
        for (let i = 0; i < n; i++) H[o + i] = Math.tanh(H[ao + i]);
        break;
      case Un.Softplus:
        for (let i = 0; i < n; i++) {
          const v = H[ao + i];
          H[o + i] = v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
        }
        break;
      case Un.Scale:
        for (let i = 0; i < n; i++) H[o + i] = c * H[ao + i];
        break;
      case Un.Shift:
        for (let i = 0; i < n; i++) H[o + i] = H[ao + i] + c;
        break;
    }
    out.buf.version++;
    return this.record(out, () => {
      const g = this.gradRow(out)!;
      const dx = this.temp(n);
      const H2 = this.H();
      const go = g.offset >> 2;
      const d = dx.offset >> 2;
      const xo = a.off;
      const yo = out.off;
      switch (op) {
        case Un.Neg:
          for (let i = 0; i < n; i++) H2[d + i] = -H2[go + i];
          break;
        case Un.Exp:
          for (let i = 0; i < n; i++) H2[d + i] = H2[go + i] * H2[yo + i];
          break;
        case Un.Square:
          for (let i = 0; i < n; i++) H2[d + i] = 2 * H2[go + i] * H2[xo + i];
          break;
        case Un.Tanh:
          for (let i = 0; i < n; i++) H2[d + i] = H2[go + i] * (1 - H2[yo + i] * H2[yo + i]);
          break;
        case Un.Softplus:
          for (let i = 0; i < n; i++) H2[d + i] = H2[go + i] / (1 + Math.exp(-H2[xo + i]));
          break;
        case Un.Scale:
          for (let i = 0; i < n; i++) H2[d + i] = c * H2[go + i];
          break;
        case Un.Shift:
          for (let i = 0; i < n; i++) H2[d + i] = H2[go + i];
          break;
      }
      this.accum(a, dx, ROW, true);
    });
  }

  scale(a: HVal, c: number): HVal {
    return this.unary(Un.Scale, a, c);
  }
  shift(a: HVal, c: number): HVal {
    return this.unary(Un.Shift, a, c);
  }
  neg(a: HVal): HVal {
    return this.unary(Un.Neg, a);
  }
  exp(a: HVal): HVal {
    return this.unary(Un.Exp, a);
  }
  square(a: HVal): HVal {
    return this.unary(Un.Square, a);
  }
  tanh(a: HVal): HVal {
    return this.unary(Un.Tanh, a);
  }
  softplus(a: HVal): HVal {
    return this.unary(Un.Softplus, a);
  }

  // ---- columns ------------------------------------------------------------------------------

  gatherCols(x: HVal, index: readonly number[]): HVal {
    const C = index.length;
    for (const j of index) if (!(Number.isInteger(j) && j >= 0 && j < x.cols)) throw new DimensionError(`gatherCols: column ${j} of ${x.cols}`);
    const R = x.rows;
    const out = this.make(R, C, x.req);
    const H = this.H();
    const xo = x.off;
    const o = out.off;
    const X = x.cols;
    const idx = Int32Array.from(index);
    for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) H[o + r * C + j] = H[xo + r * X + idx[j]];
    out.buf.version++;
    return this.record(out, () => {
      // In either layout a column is a contiguous run of the transposed form: scatter there.
      if (out.gradLayout === COL && out.rows > 1 && out.cols > 1) {
        const g = out.grad!;
        const dx = this.zeroed(x.size);
        const H2 = this.H();
        const go = g.offset >> 2;
        const d = dx.offset >> 2;
        for (let j = 0; j < C; j++) {
          const src = go + j * R;
          const dst = d + idx[j] * R;
          for (let r = 0; r < R; r++) H2[dst + r] += H2[src + r];
        }
        this.accum(x, dx, COL, true);
        return;
      }
      const g = this.gradRow(out)!;
      const dx = this.zeroed(x.size);
      const H2 = this.H();
      const go = g.offset >> 2;
      const d = dx.offset >> 2;
      for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) H2[d + r * X + idx[j]] += H2[go + r * C + j];
      this.accum(x, dx, ROW, true);
    });
  }

  cols(x: HVal, start: number, count: number): HVal {
    return this.gatherCols(x, Array.from({ length: count }, (_, j) => start + j));
  }

  concatCols(xs: HVal[]): HVal {
    if (xs.length === 0) throw new DimensionError('concatCols: nothing to concatenate');
    const R = Math.max(...xs.map((x) => x.rows));
    for (const x of xs) if (x.rows !== R) throw new DimensionError(`concatCols: rows ${xs.map((v) => v.rows).join(', ')}`);
    const C = xs.reduce((s, x) => s + x.cols, 0);
    const out = this.make(R, C, xs.some((x) => x.req));
    const H = this.H();
    const o = out.off;
    let c0 = 0;
    for (const x of xs) {
      const xo = x.off;
      const X = x.cols;
      for (let r = 0; r < R; r++) for (let j = 0; j < X; j++) H[o + r * C + c0 + j] = H[xo + r * X + j];
      c0 += X;
    }
    out.buf.version++;
    return this.record(out, () => {
      const colLayout = out.gradLayout === COL && R > 1 && C > 1;
      const g = colLayout ? out.grad! : this.gradRow(out)!;
      let s0 = 0;
      for (const x of xs) {
        const X = x.cols;
        if (x.req) {
          const dx = this.temp(x.size);
          const H2 = this.H();
          const go = g.offset >> 2;
          const d = dx.offset >> 2;
          if (colLayout) {
            for (let i = 0; i < X * R; i++) H2[d + i] = H2[go + s0 * R + i];
          } else {
            for (let r = 0; r < R; r++) for (let j = 0; j < X; j++) H2[d + r * X + j] = H2[go + r * C + s0 + j];
          }
          this.accum(x, dx, colLayout ? COL : ROW, true);
        }
        s0 += X;
      }
    });
  }

  sumCols(x: HVal): HVal {
    const R = x.rows;
    const C = x.cols;
    const out = this.make(R, 1, x.req);
    const H = this.H();
    const xo = x.off;
    const o = out.off;
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let j = 0; j < C; j++) s += H[xo + r * C + j];
      H[o + r] = s;
    }
    out.buf.version++;
    return this.record(out, () => {
      const g = out.grad!;
      const dx = this.temp(x.size);
      const H2 = this.H();
      const go = g.offset >> 2;
      const d = dx.offset >> 2;
      for (let r = 0; r < R; r++) {
        const gv = H2[go + r];
        for (let j = 0; j < C; j++) H2[d + r * C + j] = gv;
      }
      this.accum(x, dx, ROW, true);
    });
  }

  // ---- kernels ------------------------------------------------------------------------------

  apply<A>(kernel: Kernel<A>, inputs: HVal[], attrs: A): HVal[] {
    const shapes = kernel.outputShapes(inputs.map((v) => [v.rows, v.cols] as Shape), attrs);
    const req = inputs.some((v) => v.req);
    const outs = shapes.map(([r, c]) => this.make(r, c, req));
    const mat = (v: HVal): HeapMatrix => ({ off: v.off, rows: v.rows, cols: v.cols });
    const saved = kernel.heap.forward({ H: this.H(), inputs: inputs.map(mat), outputs: outs.map(mat), attrs, recording: req && this.recording });
    for (const o of outs) o.buf.version++;
    if (!req || !this.recording) return outs;
    // One rule for all outputs, run when the first of them (in tape order, the last made) is reached.
    const done = { ran: false };
    const back = () => {
      if (done.ran) return;
      done.ran = true;
      const outGrads = outs.map((o) => {
        const g = this.gradRow(o);
        return g ? { off: g.offset >> 2, rows: o.rows, cols: o.cols } : null;
      });
      const inBufs = inputs.map((v) => (v.req ? this.zeroed(v.size) : null));
      kernel.heap.backward({
        H: this.H(),
        inputs: inputs.map(mat),
        outputs: outs.map(mat),
        outGrads,
        inGrads: inBufs.map((b, i) => (b ? { off: b.offset >> 2, rows: inputs[i].rows, cols: inputs[i].cols } : null)),
        attrs,
        saved,
      });
      inputs.forEach((v, i) => {
        if (inBufs[i]) this.accum(v, inBufs[i]!, ROW, true);
      });
    };
    for (const o of outs) this.record(o, back);
    return outs;
  }

  /** For engine-internal helpers: allocate a value whose contents the caller writes. */
  rawValue(rows: number, cols: number): HVal {
    return this.make(rows, cols, false);
  }

  /** Whether `a` and `b` have the same shape (a helper for kernels' callers). */
  static sameShape = sameShape;
}

/** dst[j·R + r] = src[r·C + j] (src [R, C] → dst [C, R]). */
function transpose(H: Float32Array, src: number, dst: number, R: number, C: number): void {
  for (let r = 0; r < R; r++) {
    const s = src + r * C;
    for (let j = 0; j < C; j++) H[dst + j * R + r] = H[s + j];
  }
}

/** dst [C', R'] += srcᵀ where src is [R, C] (so dst has layout [C, R]). */
function addTransposed(H: Float32Array, src: number, dst: number, R: number, C: number): void {
  for (let r = 0; r < R; r++) {
    const s = src + r * C;
    for (let j = 0; j < C; j++) H[dst + j * R + r] += H[s + j];
  }
}

function smallMatMul(H: Float32Array, a: number, b: number, o: number, M: number, K: number, N: number): void {
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    for (let k = 0; k < K; k++) {
      const aik = H[a + i * K + k];
      if (aik === 0) continue;
      const bk = b + k * N;
      for (let j = 0; j < N; j++) acc[j] += aik * H[bk + j];
    }
    for (let j = 0; j < N; j++) H[o + i * N + j] = acc[j];
  }
}

/** Inverse of a triangular D x D matrix by substitution (float64 internally). */
function triInverse(H: Float32Array, t: number, o: number, D: number, lower: boolean): void {
  const inv = new Float64Array(D * D);
  for (let c = 0; c < D; c++) {
    // Solve T x = e_c.
    if (lower) {
      for (let i = 0; i < D; i++) {
        let s = i === c ? 1 : 0;
        for (let k = 0; k < i; k++) s -= H[t + i * D + k] * inv[k * D + c];
        inv[i * D + c] = s / H[t + i * D + i];
      }
    } else {
      for (let i = D - 1; i >= 0; i--) {
        let s = i === c ? 1 : 0;
        for (let k = i + 1; k < D; k++) s -= H[t + i * D + k] * inv[k * D + c];
        inv[i * D + c] = s / H[t + i * D + i];
      }
    }
  }
  for (let i = 0; i < D * D; i++) H[o + i] = inv[i];
}
