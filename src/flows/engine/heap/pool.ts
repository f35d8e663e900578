/**
 * Reuse of heap buffers across calls: a free list per size. A training step asks for the same
 * sizes in the same order every step, so after the first step nothing is allocated (and the
 * heap never grows mid-step); a sampling call reuses the buffers of the previous chunk.
 */
import type { HeapBuffer, HeapKernels } from './kernels.js';

export class BufferPool {
  private readonly free = new Map<number, HeapBuffer[]>();
  /** Buffers handed out and not given back. */
  outstanding = 0;
  /** Floats in the buffers handed out, and the most there were at once since `resetPeak()`. */
  floatsOut = 0;
  peakFloats = 0;

  constructor(readonly kernels: HeapKernels) {}

  /** A buffer of exactly `size` floats (contents undefined; its version moves on). */
  take(size: number): HeapBuffer {
    const list = this.free.get(size);
    const b = list?.pop() ?? this.kernels.alloc(size);
    b.version++;
    this.outstanding++;
    this.floatsOut += size;
    if (this.floatsOut > this.peakFloats) this.peakFloats = this.floatsOut;
    return b;
  }

  give(b: HeapBuffer): void {
    let list = this.free.get(b.size);
    if (!list) this.free.set(b.size, (list = []));
    list.push(b);
    this.outstanding--;
    this.floatsOut -= b.size;
  }

  /** Starts a new high-water mark (memory benches). */
  resetPeak(): void {
    this.peakFloats = this.floatsOut;
  }

  /** Buffers kept for reuse. */
  get pooled(): number {
    let s = 0;
    for (const l of this.free.values()) s += l.length;
    return s;
  }

  /** Frees every pooled buffer (not the outstanding ones). */
  trim(): void {
    for (const l of this.free.values()) for (const b of l) this.kernels.free(b);
    this.free.clear();
  }
}
