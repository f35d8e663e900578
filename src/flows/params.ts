/**
 * The parameters of a flow, owned in one place. Every bijector declares its parameters (and its
 * fixed constants, such as MADE masks) as `Param`s; the Flow gathers them into one `ParamStore`,
 * which holds the only copy of their values. Engines read them from here (the heap engine
 * in place, the tfjs engine as fresh tensors per call) and optimisers write them here, so there
 * is never a second copy to keep in sync.
 *
 * Storage is plain JS memory until the heap engine first runs the flow; then the values move
 * to buffers on the wasm heap (the heap engine's matMuls read them there) and stay there.
 * `version(p)` changes with every write, so cached packings of a weight are never stale.
 */
import { ParameterError } from '../core/errors.js';
import type { HeapBuffer, HeapKernels } from './engine/heap/kernels.js';

/** A named 2-D parameter (vectors are [1, n]) or a fixed constant of a bijector. */
export class Param {
  /** Trainable parameters get gradients and optimiser steps; constants do not. */
  readonly trainable: boolean;
  /**
   * Optional 0/1 mask of the gradient (same shape): masked entries never move, so a weight
   * stored pre-masked stays masked under any optimiser whose step is a function of the gradient.
   */
  readonly gradMask: Param | null;
  /** Whether the optimiser's weight decay applies (the conditioners' weight matrices, not biases or layer scales). */
  readonly decay: boolean;
  /** Set by the ParamStore that owns it. */
  store: ParamStore | null = null;
  index = -1;

  constructor(
    readonly name: string,
    readonly rows: number,
    readonly cols: number,
    readonly init: Float32Array,
    options: { trainable?: boolean; gradMask?: Param | null; decay?: boolean } = {},
  ) {
    if (init.length !== rows * cols) throw new ParameterError(`parameter ${name}: ${init.length} initial values for shape [${rows}, ${cols}]`);
    this.trainable = options.trainable ?? true;
    this.gradMask = options.gradMask ?? null;
    this.decay = options.decay ?? false;
  }

  get size(): number {
    return this.rows * this.cols;
  }

  /** A fixed (non-trainable) value, e.g. a mask or a permutation matrix. */
  static constant(name: string, rows: number, cols: number, values: Float32Array): Param {
    return new Param(name, rows, cols, values, { trainable: false });
  }

  /** The current values (a view: take it again after anything that may grow the wasm heap). */
  values(): Float32Array {
    if (!this.store) throw new Error(`parameter ${this.name} belongs to no flow`);
    return this.store.data(this);
  }
}

export class ParamStore {
  readonly params: readonly Param[];
  private js: (Float32Array | null)[];
  private heapBufs: (HeapBuffer | null)[] | null = null;
  private kernels: HeapKernels | null = null;
  private readonly versions: number[];
  private disposed = false;

  constructor(params: Param[]) {
    this.params = [...params];
    this.params.forEach((p, i) => {
      if (p.store) throw new Error(`parameter ${p.name} already belongs to a flow`);
      p.store = this;
      p.index = i;
    });
    this.js = this.params.map((p) => Float32Array.from(p.init));
    this.versions = this.params.map(() => 0);
  }

  /** The trainable parameters, in declaration order (the order of saved weights). */
  trainable(): Param[] {
    return this.params.filter((p) => p.trainable);
  }

  /** Total number of trainable scalars. */
  trainableCount(): number {
    return this.trainable().reduce((s, p) => s + p.size, 0);
  }

  private check(p: Param): void {
    if (this.disposed) throw new Error('flow parameters used after dispose');
    if (p.store !== this) throw new Error(`parameter ${p.name} does not belong to this flow`);
  }

  /** The current values of `p` as a float32 view. */
  data(p: Param): Float32Array {
    this.check(p);
    if (this.heapBufs) return this.kernels!.f32(this.heapBufs[p.index]!);
    return this.js[p.index]!;
  }

  /** Overwrites the values of `p` (copied). */
  set(p: Param, values: ArrayLike<number>): void {
    this.check(p);
    if (values.length !== p.size) throw new ParameterError(`parameter ${p.name}: ${values.length} values for ${p.size}`);
    this.data(p).set(values);
    this.touch(p);
  }

  /** Marks `p` as written in place (after writing through `data(p)`). */
  touch(p: Param): void {
    this.versions[p.index]++;
    if (this.heapBufs) this.heapBufs[p.index]!.version++;
  }

  version(p: Param): number {
    return this.versions[p.index];
  }

  /** Where the values live. */
  get location(): 'js' | 'heap' {
    return this.heapBufs ? 'heap' : 'js';
  }

  /**
   * The heap buffer of `p`, moving every value to the heap of `kernels` on first use. A store
   * on the heap of another (older) backend instance moves back through JS memory first.
   */
  heapBuffer(p: Param, kernels: HeapKernels): HeapBuffer {
    this.check(p);
    if (this.heapBufs && this.kernels !== kernels) this.toJs();
    if (!this.heapBufs) this.toHeap(kernels);
    return this.heapBufs![p.index]!;
  }

  private toHeap(kernels: HeapKernels): void {
    const bufs: HeapBuffer[] = [];
    try {
      for (const p of this.params) bufs.push(kernels.alloc(p.size));
    } catch (e) {
      for (const b of bufs) kernels.free(b);
      throw e;
    }
    this.params.forEach((p, i) => {
      kernels.f32(bufs[i]).set(this.js[i]!);
      bufs[i].version = this.versions[i];
    });
    this.heapBufs = bufs;
    this.kernels = kernels;
    this.js = this.params.map(() => null);
  }

  private toJs(): void {
    const k = this.kernels!;
    this.js = this.heapBufs!.map((b) => k.f32(b!).slice());
    for (const b of this.heapBufs!) k.free(b!);
    this.heapBufs = null;
    this.kernels = null;
  }

  /** A copy of every value (for snapshots, e.g. the best step so far). */
  snapshot(): Float32Array[] {
    return this.params.map((p) => this.data(p).slice());
  }

  restore(snapshot: Float32Array[]): void {
    this.params.forEach((p, i) => this.set(p, snapshot[i]));
  }

  dispose(): void {
    if (this.disposed) return;
    if (this.heapBufs) for (const b of this.heapBufs) this.kernels!.free(b!);
    this.heapBufs = null;
    this.js = [];
    this.disposed = true;
  }
}
