/**
 * Stable argsort of a Float64Array in O(N) by LSD radix sort on the IEEE-754 bits, mapped to
 * unsigned keys that order like the numbers (negative values: all bits flipped; non-negative:
 * sign bit flipped): two 16-bit passes on the high word, then runs of equal high words
 * ordered by the low word. Used for ranks and order statistics, where a
 * comparator sort of 400 000 indices would dominate the cost of a summary. NaN must not occur
 * (callers validate); -0 sorts just before +0, which only matters for exact ties.
 */
export function argsort(x: Float64Array): Uint32Array {
  const n = x.length;
  const words = new Uint32Array(x.buffer.slice(x.byteOffset, x.byteOffset + n * 8));
  // little-endian: words[2i] is the low word, words[2i + 1] the high word
  const lo = new Uint32Array(n);
  const hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let h = words[2 * i + 1];
    let l = words[2 * i];
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else {
      h = (h | 0x80000000) >>> 0;
    }
    hi[i] = h;
    lo[i] = l;
  }
  let idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  let tmp = new Uint32Array(n);
  const count = new Uint32Array(65536);
  // Two passes on the high word (sign, exponent, top 20 mantissa bits) ...
  for (const shift of [0, 16]) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(hi[i] >>> shift) & 0xffff]++;
    if (count[(hi[0] >>> shift) & 0xffff] === n) continue; // every key has the same digit
    let sum = 0;
    for (let b = 0; b < 65536; b++) {
      const c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const j = idx[i];
      tmp[count[(hi[j] >>> shift) & 0xffff]++] = j;
    }
    const t = idx;
    idx = tmp;
    tmp = t;
  }
  // ... then runs with equal high words (short for continuous data) are ordered by the low
  // word: insertion sort for short runs, a comparator sort for long ones. Both stable.
  let i = 0;
  while (i < n) {
    const h = hi[idx[i]];
    let j = i + 1;
    while (j < n && hi[idx[j]] === h) j++;
    if (j - i > 1) {
      if (j - i <= 32) {
        for (let a = i + 1; a < j; a++) {
          const v = idx[a];
          const key = lo[v];
          let b = a - 1;
          while (b >= i && lo[idx[b]] > key) {
            idx[b + 1] = idx[b];
            b--;
          }
          idx[b + 1] = v;
        }
      } else {
        const run = Array.from(idx.subarray(i, j)).sort((p, q) => lo[p] - lo[q] || p - q);
        idx.set(run, i);
      }
    }
    i = j;
  }
  return idx;
}

/**
 * Sorted values and average ranks (1-based; ties get the mean of their ranks, R's
 * `rank(ties.method = 'average')`) from one argsort.
 */
export function sortAndRank(x: Float64Array): { sorted: Float64Array; ranks: Float64Array } {
  const n = x.length;
  const order = argsort(x);
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = x[order[i]];
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && sorted[j] === sorted[i]) j++;
    const r = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) ranks[order[k]] = r;
    i = j;
  }
  return { sorted, ranks };
}
