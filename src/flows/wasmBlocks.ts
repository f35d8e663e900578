/**
 * Block-sparse sampling pass of a fused IAF layer (`FastIafAffine`) on the wasm kernels: the
 * MADE's zero blocks are never multiplied.
 *
 * A MADE (Germain et al. 2015) keeps a weight from degree a to a hidden unit of degree b iff
 * b ≥ a, and to an output of degree d iff d > b, so about half of every weight matrix is masked
 * to zero. Sort the hidden units by degree into G groups of consecutive degrees: the block from
 * group g' to group g is then all zero whenever g' > g, and a dense matMul wastes those FLOPs.
 * Here every layer is computed group by group,
 *   h_g = relu(Σ_{g' ≤ g} h_{g'} · W[g', g] + b_g),
 * one XNNPACK matMul per non-zero block (the activations of each group are their own contiguous
 * buffer; the partial sums are added with XNNPACK's add, then ReLU). The outputs [m | s] are
 * grouped the same way by the degree of their coordinate. With G groups this skips
 * G(G − 1)/2 of G² blocks of the hidden and output matrices (G = 4: 6 of 16, 33 % fewer FLOPs
 * for the anchors' 50-D flow; docs/flows-performance.md has the measured speed).
 *
 * The inputs z are not grouped (one dense block per hidden group): splitting them would need a
 * strided copy, for a matrix that is small anyway.
 *
 * This is for sampling only: the blocks are copies of the layer's weights, made once per call,
 * whose packed XNNPACK operators are reused across the call's chunks (stable ids). Training uses
 * the dense program (src/flows/wasmFlow.ts), whose backward pass needs dense activations.
 */
import { hiddenDegrees } from './made.js';
import type { FastIafAffine } from './fastIaf.js';
import { WasmKernels, type HeapBuffer } from './wasmKernels.js';
import { gatedUpdate } from './wasmFlowOps.js';

/** One non-zero block: rows from input group `from` (−1: the whole input z) into an output group. */
interface BlockTerm {
  from: number;
  K: number;
  W: HeapBuffer;
}

/** One output group of a dense layer: its width, bias and non-zero blocks. */
interface BlockOut {
  N: number;
  bias: HeapBuffer | null;
  terms: BlockTerm[];
}

/** Activation buffers of one chunk size. */
export interface BlockWork {
  n: number;
  /** acts[l][g]: hidden layer l, group g, [n, width]. */
  acts: (HeapBuffer | null)[][];
  out: (HeapBuffer | null)[];
  sig: (HeapBuffer | null)[];
  tmp: HeapBuffer;
}

/**
 * Number of degree groups: about one per 42 hidden units, at most 6 and at most dim − 1. Narrower
 * blocks lose more to per-call overhead and XNNPACK efficiency than they save (measured over
 * 10k draws: H = 128 (D = 10) is best with 3 groups, 1.87e5/s against 1.62e5 dense; H = 256
 * (D = 50) with 4-6, 4.1e4/s against 3.3e4; 8 groups are slower for both).
 */
export function groupCount(dim: number, hidden: number[]): number {
  if (hidden.length === 0) return 1;
  return Math.max(1, Math.min(6, Math.max(1, dim - 1), Math.round(Math.min(...hidden) / 42)));
}

export class BlockedIaf {
  readonly dim: number;
  readonly groups: number;
  /** Per dense layer (z → hidden, hidden → hidden, ..., hidden → [m | s]), per output group. */
  private readonly layers: BlockOut[][];
  /** The coordinates whose m and s are in output group g (in that order within the group). */
  readonly coords: Int32Array[];
  private readonly k: WasmKernels;
  private readonly buffers: HeapBuffer[] = [];

  /**
   * The blocked form of `layer` with its current weights in `groups` degree groups, or null when
   * blocking gains nothing (no hidden layer, narrow layers, or dim ≤ 2: every hidden unit has the
   * same degree).
   */
  static fromLayer(kernels: WasmKernels, layer: FastIafAffine, groups = groupCount(layer.dim, layer.made.hidden)): BlockedIaf | null {
    const G = Math.min(groups, Math.max(1, layer.dim - 1));
    if (layer.made.hidden.length === 0 || G < 2) return null;
    return new BlockedIaf(kernels, layer, G);
  }

  private constructor(kernels: WasmKernels, layer: FastIafAffine, G: number) {
    this.k = kernels;
    const D = layer.dim;
    this.dim = D;
    this.groups = G;
    const { order, hidden } = layer.made;
    const top = Math.max(1, D - 1);
    // Group g holds the degrees floor(g·top/G)+1 .. floor((g+1)·top/G).
    const groupOf = (deg: number) => Math.min(G - 1, Math.max(0, Math.ceil((deg * G) / top) - 1));
    const unitGroups = hidden.map((h) => {
      const deg = hiddenDegrees(D, h);
      return Array.from({ length: G }, (_, g) => deg.flatMap((d, u) => (groupOf(d) === g ? [u] : [])));
    });
    // Output coordinate j (degree order[j]) reads hidden degrees ≤ order[j] − 1.
    const coordGroups: number[][] = Array.from({ length: G }, () => []);
    for (let j = 0; j < D; j++) coordGroups[order[j] <= 1 ? 0 : groupOf(order[j] - 1)].push(j);
    this.coords = coordGroups.map((c) => Int32Array.from(c));

    const dense = layer.made.denseVariables();
    const L = dense.length;
    const widths = [D, ...hidden, 2 * D];
    try {
      this.layers = [];
      for (let l = 0; l < L; l++) {
        const W = dense[l].weight.dataSync() as Float32Array;
        const b = dense[l].bias.dataSync() as Float32Array;
        const N = widths[l + 1];
        const outCols = l < L - 1 ? unitGroups[l] : coordGroups.map((c) => [...c, ...c.map((j) => D + j)]);
        this.layers.push(
          outCols.map((cols, g) => {
            if (cols.length === 0) return { N: 0, bias: null, terms: [] };
            const rowsets = l === 0 ? [{ from: -1, rows: Array.from({ length: D }, (_, i) => i) }] : unitGroups[l - 1].map((rows, gi) => ({ from: gi, rows }));
            const terms = rowsets
              .filter(({ from, rows }) => rows.length > 0 && from <= g)
              .map(({ from, rows }) => ({ from, K: rows.length, W: this.gather(W, N, rows, cols) }));
            return { N: cols.length, bias: this.gather(b, b.length, [0], cols), terms };
          }),
        );
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** A new buffer holding W[rows, cols] of a row-major matrix with `N` columns. */
  private gather(W: Float32Array, N: number, rows: number[], cols: number[]): HeapBuffer {
    const buf = this.k.alloc(rows.length * cols.length);
    this.buffers.push(buf);
    const dst = this.k.f32(buf);
    let i = 0;
    for (const r of rows) for (const c of cols) dst[i++] = W[r * N + c];
    return buf;
  }

  /** Multiply-adds per row of one forward pass (the dense MADE has Σ K·N). */
  multiplyAddsPerRow(): number {
    let s = 0;
    for (const layer of this.layers) for (const o of layer) for (const t of o.terms) s += t.K * o.N;
    return s;
  }

  createWork(n: number): BlockWork {
    const k = this.k;
    const alloc = (size: number) => (size > 0 ? k.alloc(size) : null);
    let maxN = 1;
    for (const layer of this.layers) for (const o of layer) maxN = Math.max(maxN, o.N);
    return {
      n,
      acts: this.layers.slice(0, -1).map((layer) => layer.map((o) => alloc(n * o.N))),
      out: this.layers[this.layers.length - 1].map((o) => alloc(n * o.N)),
      sig: this.layers[this.layers.length - 1].map((o) => alloc(n * o.N)),
      tmp: k.alloc(n * maxN),
    };
  }

  freeWork(work: BlockWork): void {
    for (const b of [...work.acts.flat(), ...work.out, ...work.sig, work.tmp]) if (b) this.k.free(b);
  }

  /**
   * y = layer(z) for the n = work.n rows of z (row-major [n, dim]), accumulating Σ log σ per row
   * into prod/acc (see `gatedUpdate`).
   */
  forward(z: HeapBuffer, y: HeapBuffer, work: BlockWork, prod: Float64Array, acc: Float64Array): void {
    const k = this.k;
    const { n } = work;
    const L = this.layers.length;
    for (let l = 0; l < L; l++) {
      const last = l === L - 1;
      this.layers[l].forEach((o, g) => {
        if (o.N === 0) return;
        const dst = (last ? work.out[g] : work.acts[l][g])!;
        const src = (t: BlockTerm) => (t.from < 0 ? z : work.acts[l - 1][t.from]!);
        // Packed operators are cached under the blocks' own (unchanging) ids.
        const [first, ...rest] = o.terms;
        if (rest.length === 0) {
          k.matMul(src(first), first.W.id, dst, n, first.K, o.N, o.bias!.id, !last);
          return;
        }
        k.matMul(src(first), first.W.id, dst, n, first.K, o.N, o.bias!.id, false);
        for (const t of rest) {
          k.matMul(src(t), t.W.id, work.tmp, n, t.K, o.N);
          k.add(dst, work.tmp, dst, n * o.N);
        }
        if (!last) k.relu(dst, dst);
      });
    }
    const zo = z.offset >> 2;
    const yo = y.offset >> 2;
    this.coords.forEach((coords, g) => {
      if (coords.length === 0) return;
      k.sigmoid(work.out[g]!, work.sig[g]!);
      gatedUpdate(k.heap(), n, this.dim, coords, zo, work.out[g]!.offset >> 2, work.sig[g]!.offset >> 2, yo, prod, acc);
    });
  }

  dispose(): void {
    for (const b of this.buffers) this.k.free(b);
    this.buffers.length = 0;
  }
}
