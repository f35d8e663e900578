/**
 * A small iterative radix-2 complex FFT (Cooley & Tukey 1965) on separate real/imaginary
 * Float64Arrays. O(M log M) for M a power of two; twiddle and bit-reversal tables are cached
 * per size because diagnostics call it many times at the same length.
 */
import { ParameterError } from '../core/errors.js';

interface Plan {
  cos: Float64Array;
  sin: Float64Array;
  rev: Uint32Array;
}

const plans = new Map<number, Plan>();

/** Smallest power of two >= n (n >= 1). */
export function nextPow2(n: number): number {
  let m = 1;
  while (m < n) m *= 2;
  return m;
}

function plan(m: number): Plan {
  let p = plans.get(m);
  if (p) return p;
  const half = m >> 1;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / m);
    sin[k] = Math.sin((2 * Math.PI * k) / m);
  }
  const rev = new Uint32Array(m);
  let bits = 0;
  while (1 << bits < m) bits++;
  for (let i = 0; i < m; i++) {
    let r = 0;
    for (let b = 0, v = i; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
    rev[i] = r;
  }
  p = { cos, sin, rev };
  // Keep the cache small: a run uses a handful of sizes.
  if (plans.size > 16) plans.clear();
  plans.set(m, p);
  return p;
}

/**
 * In-place FFT of (re, im), length a power of two. `inverse` uses the conjugate twiddles and
 * does NOT divide by the length (as R's `fft(z, inverse = TRUE)`).
 */
export function fftInPlace(re: Float64Array, im: Float64Array, inverse = false): void {
  const m = re.length;
  if (im.length !== m) throw new ParameterError(`fft: real part has length ${m}, imaginary part ${im.length}`);
  if (m === 0 || (m & (m - 1)) !== 0) throw new ParameterError(`fft: length must be a power of two, got ${m}`);
  if (m === 1) return;
  const { cos, sin, rev } = plan(m);
  for (let i = 0; i < m; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let size = 2; size <= m; size *= 2) {
    const halfSize = size >> 1;
    const step = m / size;
    for (let start = 0; start < m; start += size) {
      for (let k = 0, t = 0; k < halfSize; k++, t += step) {
        const wr = cos[t];
        const wi = sign * sin[t];
        const a = start + k;
        const b = a + halfSize;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}
