/**
 * Block-sparse forward pass of a MADE (Germain et al. 2015) on the heap: the zero blocks its
 * masks create are never multiplied. Used by the heap engine's `mlp` when no gradient is
 * recorded and the caller gave the MADE degrees (sampling and density evaluation).
 *
 * A MADE keeps a weight from degree a into a hidden unit of degree b iff b ≥ a, and into an
 * output of degree d iff d > b. Sort the hidden units into G groups of consecutive degrees: the
 * block from group g' to group g is all zero whenever g' > g. Each layer is then computed group
 * by group, h_g = relu(Σ_{g' ≤ g} h_{g'} · W[g', g] + b_g): one XNNPACK matMul per non-zero block,
 * each group's activations in their own contiguous buffer, partial sums added by XNNPACK's add.
 * The outputs are grouped the same way by the degree of their coordinate, then written back to
 * the row-major output. G(G − 1)/2 of G² blocks are skipped. The inputs are not grouped (one
 * dense block per hidden group: splitting them would need a strided copy).
 *
 * The blocks are copies of the weights, made once per weight version and freed with the weight
 * (or when it changes), so a sampling call packs each block once for all its chunks.
 */
import type { DenseLayer } from '../ops.js';
import type { HeapBuffer, HeapKernels } from './kernels.js';
import type { BufferPool } from './pool.js';
import type { HVal } from './session.js';

/**
 * Number of degree groups: about one per 42 hidden units, at most 6 and at most dim − 1 (narrower
 * blocks lose more to per-call overhead than they save: docs/flows-performance.md).
 */
export function groupCount(dim: number, hidden: number[]): number {
  if (hidden.length === 0) return 1;
  return Math.max(1, Math.min(6, Math.max(1, dim - 1), Math.round(Math.min(...hidden) / 42)));
}

interface BlockTerm {
  /** Input group (−1: the whole input). */
  from: number;
  K: number;
  W: HeapBuffer;
}

interface BlockOut {
  N: number;
  bias: HeapBuffer | null;
  terms: BlockTerm[];
}

interface BlockPlan {
  versions: number[];
  groups: number;
  layers: BlockOut[][];
  /** Output columns (in the MADE's output layout) of each output group, in block order. */
  outCols: Int32Array[];
  buffers: HeapBuffer[];
}

const plans = new WeakMap<HeapBuffer, BlockPlan>();

function freePlan(k: HeapKernels, plan: BlockPlan): void {
  for (const b of plan.buffers) k.free(b);
  plan.buffers.length = 0;
}

function buildPlan(k: HeapKernels, layers: DenseLayer<HVal>[], degrees: { input: number[]; hidden: number[][]; outputBlocks: number }, G: number): BlockPlan {
  const D = degrees.input.length;
  const top = Math.max(1, D - 1);
  const groupOf = (deg: number) => Math.min(G - 1, Math.max(0, Math.ceil((deg * G) / top) - 1));
  const unitGroups = degrees.hidden.map((deg) => Array.from({ length: G }, (_, g) => deg.flatMap((d, u) => (groupOf(d) === g ? [u] : []))));
  const coordGroups: number[][] = Array.from({ length: G }, () => []);
  for (let j = 0; j < D; j++) coordGroups[degrees.input[j] <= 1 ? 0 : groupOf(degrees.input[j] - 1)].push(j);
  const outCols = coordGroups.map((c) => Int32Array.from(Array.from({ length: degrees.outputBlocks }, (_, b) => c.map((j) => b * D + j)).flat()));
  const buffers: HeapBuffer[] = [];
  const gather = (src: Float32Array, N: number, rows: number[], cols: ArrayLike<number>): HeapBuffer => {
    const buf = k.alloc(rows.length * cols.length);
    buffers.push(buf);
    const dst = k.f32(buf);
    let i = 0;
    for (const r of rows) for (let c = 0; c < cols.length; c++) dst[i++] = src[r * N + cols[c]];
    return buf;
  };
  const L = layers.length;
  const out: BlockOut[][] = [];
  try {
    for (let l = 0; l < L; l++) {
      const W = k.f32(layers[l].weight.buf).slice();
      const bias = layers[l].bias ? k.f32(layers[l].bias!.buf).slice() : null;
      const N = layers[l].weight.cols;
      const cols: ArrayLike<number>[] = l < L - 1 ? unitGroups[l] : outCols;
      out.push(
        cols.map((c, g) => {
          if (c.length === 0) return { N: 0, bias: null, terms: [] };
          const rowsets = l === 0 ? [{ from: -1, rows: Array.from({ length: D }, (_, i) => i) }] : unitGroups[l - 1].map((rows, gi) => ({ from: gi, rows }));
          const terms = rowsets.filter(({ from, rows }) => rows.length > 0 && from <= g).map(({ from, rows }) => ({ from, K: rows.length, W: gather(W, N, rows, c) }));
          return { N: c.length, bias: bias ? gather(bias, N, [0], c) : null, terms };
        }),
      );
    }
  } catch (e) {
    for (const b of buffers) k.free(b);
    throw e;
  }
  return { versions: layers.flatMap((d) => [d.weight.buf.version, d.bias?.buf.version ?? -1]), groups: G, layers: out, outCols, buffers };
}

/**
 * out = MLP(x) for a MADE, block by block; false (nothing done) when blocking gains nothing:
 * no hidden layer, or dim ≤ 2 (every hidden unit has the same degree).
 */
export function blockedMlpForward(
  k: HeapKernels,
  pool: BufferPool,
  x: HVal,
  layers: DenseLayer<HVal>[],
  out: HVal,
  degrees: { input: number[]; hidden: number[][]; outputBlocks: number },
): boolean {
  const D = degrees.input.length;
  const G = Math.min(groupCount(D, layers.slice(0, -1).map((d) => d.weight.cols)), Math.max(1, D - 1));
  if (layers.length < 2 || G < 2) return false;
  const key = layers[0].weight.buf;
  let plan = plans.get(key);
  const versions = layers.flatMap((d) => [d.weight.buf.version, d.bias?.buf.version ?? -1]);
  if (!plan || plan.groups !== G || plan.versions.some((v, i) => v !== versions[i])) {
    if (plan) freePlan(k, plan);
    const fresh = buildPlan(k, layers, degrees, G);
    if (!plan) k.whenFreed(key, () => freePlan(k, plans.get(key)!));
    plans.set(key, fresh);
    plan = fresh;
  }
  const n = x.rows;
  const taken: HeapBuffer[] = [];
  const take = (size: number) => {
    const b = pool.take(size);
    taken.push(b);
    return b;
  };
  try {
    let maxN = 1;
    for (const layer of plan.layers) for (const o of layer) maxN = Math.max(maxN, o.N);
    const tmp = take(n * maxN);
    let prev: (HeapBuffer | null)[] = [];
    const L = plan.layers.length;
    for (let l = 0; l < L; l++) {
      const last = l === L - 1;
      const cur = plan.layers[l].map((o) => (o.N > 0 ? take(n * o.N) : null));
      plan.layers[l].forEach((o, g) => {
        if (o.N === 0) return;
        const dst = cur[g]!;
        const src = (t: BlockTerm) => (t.from < 0 ? x.buf : prev[t.from]!);
        const [first, ...rest] = o.terms;
        k.matMul(src(first), first.W, dst, n, first.K, o.N, o.bias, !last && rest.length === 0);
        for (const t of rest) {
          k.matMul(src(t), t.W, tmp, n, t.K, o.N);
          k.add(dst, tmp, dst, n * o.N);
        }
        if (!last && rest.length > 0) k.relu(dst, dst);
      });
      prev = cur;
    }
    // Scatter the output groups back into the MADE's output layout.
    const H = k.heap();
    const C = out.cols;
    const oo = out.off;
    plan.outCols.forEach((cols, g) => {
      const b = prev[g];
      if (!b) return;
      const bo = b.offset >> 2;
      const w = cols.length;
      for (let r = 0; r < n; r++) for (let c = 0; c < w; c++) H[oo + r * C + cols[c]] = H[bo + r * w + c];
    });
    out.buf.version++;
    return true;
  } finally {
    for (const b of taken) pool.give(b);
  }
}
