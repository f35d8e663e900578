/**
 * A k-d tree (Bentley 1975) for k-nearest-neighbour distances in R^d, used by the sample-based
 * KL estimator. Leaves hold up to 16 points stored contiguously; the search visits the near
 * child first and prunes a subtree when the split-plane distance exceeds the current k-th best.
 * Inside leaves the squared distance is abandoned as soon as it exceeds the k-th best, which
 * keeps high-dimensional queries (where pruning helps little) near a cheap brute force.
 */
const LEAF_SIZE = 16;

export class KdTree {
  readonly n: number;
  readonly dim: number;
  /** Points reordered so every leaf is contiguous, row-major n x dim. */
  private readonly pts: Float64Array;
  private readonly splitDim: Int32Array;
  private readonly splitVal: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  private nodes = 0;

  constructor(points: Float64Array, dim: number) {
    this.dim = dim;
    this.n = points.length / dim;
    const idx = Array.from({ length: this.n }, (_, i) => i);
    const maxNodes = 2 * Math.ceil(this.n / (LEAF_SIZE / 2)) + 1;
    this.splitDim = new Int32Array(maxNodes);
    this.splitVal = new Float64Array(maxNodes);
    this.left = new Int32Array(maxNodes);
    this.right = new Int32Array(maxNodes);
    this.start = new Int32Array(maxNodes);
    this.end = new Int32Array(maxNodes);
    this.build(points, idx, 0, this.n);
    this.pts = new Float64Array(points.length);
    for (let i = 0; i < this.n; i++) this.pts.set(points.subarray(idx[i] * dim, idx[i] * dim + dim), i * dim);
  }

  private build(points: Float64Array, idx: number[], lo: number, hi: number): number {
    const node = this.nodes++;
    this.start[node] = lo;
    this.end[node] = hi;
    if (hi - lo <= LEAF_SIZE) {
      this.splitDim[node] = -1;
      return node;
    }
    const d = this.dim;
    // Split on the coordinate of largest spread, at the median.
    let best = 0;
    let bestSpread = -1;
    for (let j = 0; j < d; j++) {
      let mn = Infinity;
      let mx = -Infinity;
      for (let i = lo; i < hi; i++) {
        const v = points[idx[i] * d + j];
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      if (mx - mn > bestSpread) {
        bestSpread = mx - mn;
        best = j;
      }
    }
    const sub = idx.slice(lo, hi).sort((a, b) => points[a * d + best] - points[b * d + best]);
    for (let i = lo; i < hi; i++) idx[i] = sub[i - lo];
    const mid = (lo + hi) >> 1;
    this.splitDim[node] = best;
    this.splitVal[node] = points[idx[mid] * d + best];
    this.left[node] = this.build(points, idx, lo, mid);
    this.right[node] = this.build(points, idx, mid, hi);
    return node;
  }

  /**
   * The k smallest squared distances from `x` to the tree's points, ascending, skipping
   * points at distance exactly 0 when `skipZero` (the query point itself, or duplicates).
   * Entries stay Infinity when fewer than k points qualify.
   */
  kNearestSq(x: Float64Array, k: number, skipZero: boolean): Float64Array {
    const best = new Float64Array(k).fill(Infinity);
    this.search(0, x, best, skipZero);
    return best;
  }

  private search(node: number, x: Float64Array, best: Float64Array, skipZero: boolean): void {
    const d = this.dim;
    const k = best.length;
    const sd = this.splitDim[node];
    if (sd < 0) {
      const pts = this.pts;
      for (let i = this.start[node]; i < this.end[node]; i++) {
        const worst = best[k - 1];
        let s = 0;
        const off = i * d;
        let j = 0;
        for (; j < d; j++) {
          const t = pts[off + j] - x[j];
          s += t * t;
          if (s >= worst) break;
        }
        if (j < d || s >= worst) continue;
        if (skipZero && s === 0) continue;
        // insert into the ascending list
        let p = k - 1;
        while (p > 0 && best[p - 1] > s) {
          best[p] = best[p - 1];
          p--;
        }
        best[p] = s;
      }
      return;
    }
    const diff = x[sd] - this.splitVal[node];
    const near = diff < 0 ? this.left[node] : this.right[node];
    const far = diff < 0 ? this.right[node] : this.left[node];
    this.search(near, x, best, skipZero);
    if (diff * diff <= best[k - 1]) this.search(far, x, best, skipZero);
  }
}
