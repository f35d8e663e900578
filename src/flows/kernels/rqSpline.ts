/**
 * The monotone rational-quadratic spline transformer (Durkan, Bekasov, Murray & Papamakarios 2019,
 * "Neural Spline Flows", https://arxiv.org/abs/1906.04032, §3.1 and App. A; after Gregory &
 * Delbourgo 1982). Inside [−B, B] a piecewise rational-quadratic with K bins whose widths,
 * heights and K−1 interior knot derivatives come from unconstrained parameters; the identity
 * outside (the boundary knots have derivative 1, so the map is C¹ at ±B).
 *
 * θ is [n or 1, (3K−1)·D], parameter-major: for coordinate j, the K width parameters, then K
 * heights, then K−1 derivatives, parameter p in column p·D + j. Inputs [x, θ], outputs
 * [y, logDet [n, 1]].
 *
 * tfjs form: src/flows/kernels/rqSplineTfjs.ts (tfjs differentiates it). Heap form: below, per
 * element in float64, with the backward written out:
 *   ξ = (x − x_k)/w_k, s = h_k/w_k, q = ξ(1 − ξ), E = d_{k+1} + d_k − 2s, den = s + E q,
 *   A = s ξ² + d_k q,  y = y_k + h_k A / den   (Durkan et al. eq. 4),
 *   N = d_{k+1} ξ² + 2 s q + d_k (1 − ξ)²,  log g' = 2 log s + log N − 2 log den   (eq. 5),
 * and the inverse by the root 2c / (−b − √(b² − 4ac)) (their App. A), which never cancels.
 * The inverse's backward reuses the forward's partial derivatives at the solved point (implicit
 * differentiation: dx = (dy − ∂_θ g dθ)/g').
 */
import * as tf from '@tensorflow/tfjs';
import type { Kernel, Shape } from '../engine/ops.js';
import type { HeapBackwardIO, HeapForwardIO } from '../engine/heap/kernel.js';
import { checkTransformerShapes, type TransformerAttrs } from './transformerShapes.js';
import { rqSplineForward, rqSplineInverse, splitSplineParams, identityDerivativeParam } from './rqSplineTfjs.js';

export { identityDerivativeParam };

export interface RqSplineAttrs extends TransformerAttrs {
  bins: number;
  bound: number;
  minBinWidth: number;
  minBinHeight: number;
  minDerivative: number;
}

/** Knots and bin geometry of one element, float64 (scratch reused across elements). */
class SplineScratch {
  readonly sw: Float64Array;
  readonly sh: Float64Array;
  readonly xs: Float64Array; // left knots in x, K + 1 (xs[K] = B)
  readonly ys: Float64Array;
  /** The share of 2B the softmaxes spread (what the minimum bin sizes leave), set by `knots`. */
  cw = 0;
  ch = 0;
  constructor(readonly K: number) {
    this.sw = new Float64Array(K);
    this.sh = new Float64Array(K);
    this.xs = new Float64Array(K + 1);
    this.ys = new Float64Array(K + 1);
  }
}

const scratches = new Map<number, SplineScratch>();
function scratch(K: number): SplineScratch {
  let s = scratches.get(K);
  if (!s) scratches.set(K, (s = new SplineScratch(K)));
  return s;
}

function softmaxInto(H: Float32Array, o: number, stride: number, K: number, out: Float64Array): void {
  let mx = -Infinity;
  for (let k = 0, i = o; k < K; k++, i += stride) {
    const v = H[i];
    out[k] = v;
    if (v > mx) mx = v;
  }
  let z = 0;
  for (let k = 0; k < K; k++) z += out[k] = Math.exp(out[k] - mx);
  const inv = 1 / z;
  for (let k = 0; k < K; k++) out[k] *= inv;
}

/** Fills the knots of the element whose parameters start at θ column offset `o` (stride D). */
function knots(H: Float32Array, o: number, D: number, a: RqSplineAttrs, s: SplineScratch): void {
  const K = a.bins;
  const B = a.bound;
  const sw = s.sw;
  const sh = s.sh;
  const xs = s.xs;
  const ys = s.ys;
  softmaxInto(H, o, D, K, sw);
  softmaxInto(H, o + K * D, D, K, sh);
  const cw = (s.cw = 2 * B * (1 - a.minBinWidth * K));
  const ch = (s.ch = 2 * B * (1 - a.minBinHeight * K));
  const mw = 2 * B * a.minBinWidth;
  const mh = 2 * B * a.minBinHeight;
  let xa = -B;
  let ya = -B;
  for (let k = 0; k < K; k++) {
    xs[k] = xa;
    ys[k] = ya;
    xa += mw + cw * sw[k];
    ya += mh + ch * sh[k];
  }
  xs[K] = B;
  ys[K] = B;
}

/** The derivative at knot m (boundary knots have 1): only the bin's two are ever needed. */
function knotDerivative(H: Float32Array, o: number, D: number, a: RqSplineAttrs, m: number): number {
  const K = a.bins;
  if (m === 0 || m === K) return 1;
  const u = H[o + (2 * K + m - 1) * D];
  return a.minDerivative + (u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u)));
}

/** The bin holding v: the number of interior knots strictly below it (as the tfjs form). */
function bin(knotsArr: Float64Array, K: number, v: number): number {
  let k = 0;
  for (let i = 1; i < K; i++) if (knotsArr[i] < v) k++;
  return k;
}

/** The forward value at relative position ξ in bin k, its log-derivative, and the partials. */
interface Local {
  y: number;
  ld: number;
  /** ∂y/∂ξ, ∂y/∂s, ∂y/∂h_k (direct), ∂y/∂d_k, ∂y/∂d_{k+1}. */
  yXi: number;
  yS: number;
  yH: number;
  yDk: number;
  yDk1: number;
  /** ∂log g'/∂ξ, ∂/∂s, ∂/∂d_k, ∂/∂d_{k+1}. */
  lXi: number;
  lS: number;
  lDk: number;
  lDk1: number;
}

const local: Local = { y: 0, ld: 0, yXi: 0, yS: 0, yH: 0, yDk: 0, yDk1: 0, lXi: 0, lS: 0, lDk: 0, lDk1: 0 };

function evalLocal(xi: number, yk: number, hk: number, s: number, dk: number, dk1: number, partials: boolean): Local {
  const q = xi * (1 - xi);
  const E = dk1 + dk - 2 * s;
  const den = s + E * q;
  const A = s * xi * xi + dk * q;
  const N = dk1 * xi * xi + 2 * s * q + dk * (1 - xi) * (1 - xi);
  local.y = yk + (hk * A) / den;
  local.ld = 2 * Math.log(s) + Math.log(N) - 2 * Math.log(den);
  if (!partials) return local;
  const den2 = den * den;
  const Axi = 2 * s * xi + dk * (1 - 2 * xi);
  const denXi = E * (1 - 2 * xi);
  local.yXi = (hk * (Axi * den - A * denXi)) / den2;
  local.yS = (hk * (xi * xi * den - A * (1 - 2 * q))) / den2;
  local.yH = A / den;
  local.yDk = (hk * q * (den - A)) / den2;
  local.yDk1 = (-hk * A * q) / den2;
  const Nxi = 2 * dk1 * xi + 2 * s * (1 - 2 * xi) - 2 * dk * (1 - xi);
  local.lXi = Nxi / N - (2 * denXi) / den;
  local.lS = 2 / s + (2 * q) / N - (2 * (1 - 2 * q)) / den;
  local.lDk = ((1 - xi) * (1 - xi)) / N - (2 * q) / den;
  local.lDk1 = (xi * xi) / N - (2 * q) / den;
  return local;
}

/** ξ of the inverse in bin k for the output v (Durkan et al. App. A). */
function solveXi(v: number, yk: number, hk: number, s: number, dk: number, dk1: number): number {
  const dy = v - yk;
  const E = dk1 + dk - 2 * s;
  const a = hk * (s - dk) + dy * E;
  const b = hk * dk - dy * E;
  const c = -s * dy;
  const disc = Math.max(0, b * b - 4 * a * c);
  const xi = (2 * c) / (-b - Math.sqrt(disc));
  return Math.min(1, Math.max(0, xi));
}

/**
 * Adds the local cotangents (on x_k, w_k, y_k, h_k, d_k, d_{k+1}) to the raw parameters of one
 * element whose knots `s` holds: through the softmax of widths and heights (cumulative sums give
 * the left knots) and the softplus of the interior derivatives.
 */
function backToParams(H: Float32Array, go: number, D: number, a: RqSplineAttrs, s: SplineScratch, k: number, gxk: number, gwk: number, gyk: number, ghk: number, gdk: number, gdk1: number, o: number): void {
  const K = a.bins;
  const sw = s.sw;
  const sh = s.sh;
  // The cotangent of bin width i is gwk at i = k plus gxk for every i < k (the left knot
  // x_k = −B + Σ_{i<k} w_i); likewise for the heights. Through the softmax: σ_i (g_i − Σ σ_j g_j).
  let below = 0;
  let belowH = 0;
  for (let i = 0; i < k; i++) {
    below += sw[i];
    belowH += sh[i];
  }
  const dotW = sw[k] * gwk + below * gxk;
  const dotH = sh[k] * ghk + belowH * gyk;
  const cw = s.cw;
  const ch = s.ch;
  for (let i = 0, iw = go, ih = go + K * D; i < K; i++, iw += D, ih += D) {
    const gw = i < k ? gxk : i === k ? gwk : 0;
    const gh = i < k ? gyk : i === k ? ghk : 0;
    H[iw] += cw * sw[i] * (gw - dotW);
    H[ih] += ch * sh[i] * (gh - dotH);
  }
  // Interior derivative m (1..K−1) is minD + softplus(u_{m−1}) (d/du = sigmoid(u));
  // boundaries have no parameter.
  if (k >= 1) H[go + (2 * K + k - 1) * D] += gdk / (1 + Math.exp(-H[o + (2 * K + k - 1) * D]));
  if (k + 1 <= K - 1) H[go + (2 * K + k) * D] += gdk1 / (1 + Math.exp(-H[o + (2 * K + k) * D]));
}

export const rqSplineKernel: Kernel<RqSplineAttrs> = {
  name: 'rq-spline',
  outputShapes(shapes: Shape[], a: RqSplineAttrs): Shape[] {
    const [n, D] = checkTransformerShapes('rq-spline', shapes, 3 * a.bins - 1);
    return [
      [n, D],
      [n, 1],
    ];
  },
  tfjs([x, theta], a) {
    const [n, D] = x.shape;
    const th = theta.shape[0] === n ? theta : (tf.tile(theta, [n, 1]) as tf.Tensor2D);
    const p = splitSplineParams(th, D, a.bins, 'param-major');
    const opts = { bound: a.bound, minBinWidth: a.minBinWidth, minBinHeight: a.minBinHeight, minDerivative: a.minDerivative };
    const r = a.inverse ? rqSplineInverse(x, p.widths, p.heights, p.derivatives, opts) : rqSplineForward(x, p.widths, p.heights, p.derivatives, opts);
    return [r.y as tf.Tensor2D, tf.sum(r.logDet, 1, true) as tf.Tensor2D];
  },
  heap: {
    forward({ H, inputs: [x, theta], outputs: [y, ld], attrs: a }: HeapForwardIO<RqSplineAttrs>) {
      const n = x.rows;
      const D = x.cols;
      const P = 3 * a.bins - 1;
      const ts = theta.rows === 1 ? 0 : P * D;
      const s = scratch(a.bins);
      const B = a.bound;
      for (let r = 0; r < n; r++) {
        let sum = 0;
        for (let j = 0; j < D; j++) {
          const v = H[x.off + r * D + j];
          if (!(Math.abs(v) <= B)) {
            H[y.off + r * D + j] = v;
            continue;
          }
          const o = theta.off + r * ts + j;
          knots(H, o, D, a, s);
          if (!a.inverse) {
            const k = bin(s.xs, a.bins, v);
            const wk = s.xs[k + 1] - s.xs[k];
            const hk = s.ys[k + 1] - s.ys[k];
            const L = evalLocal((v - s.xs[k]) / wk, s.ys[k], hk, hk / wk, knotDerivative(H, o, D, a, k), knotDerivative(H, o, D, a, k + 1), false);
            H[y.off + r * D + j] = L.y;
            sum += L.ld;
          } else {
            const k = bin(s.ys, a.bins, v);
            const wk = s.xs[k + 1] - s.xs[k];
            const hk = s.ys[k + 1] - s.ys[k];
            const sl = hk / wk;
            const dk = knotDerivative(H, o, D, a, k);
            const dk1 = knotDerivative(H, o, D, a, k + 1);
            const xi = solveXi(v, s.ys[k], hk, sl, dk, dk1);
            const L = evalLocal(xi, s.ys[k], hk, sl, dk, dk1, false);
            H[y.off + r * D + j] = xi * wk + s.xs[k];
            sum -= L.ld;
          }
        }
        H[ld.off + r] = sum;
      }
      return null;
    },
    backward({ H, inputs: [x, theta], outputs: [y], outGrads: [gy, gl], inGrads: [dx, dtheta], attrs: a }: HeapBackwardIO<RqSplineAttrs>) {
      const n = x.rows;
      const D = x.cols;
      const P = 3 * a.bins - 1;
      const ts = theta.rows === 1 ? 0 : P * D;
      const s = scratch(a.bins);
      const B = a.bound;
      for (let r = 0; r < n; r++) {
        const cl = gl ? H[gl.off + r] : 0;
        for (let j = 0; j < D; j++) {
          const i = r * D + j;
          const v = H[x.off + i];
          const cOut = gy ? H[gy.off + i] : 0;
          if (!(Math.abs(v) <= B)) {
            if (dx) H[dx.off + i] += cOut;
            continue;
          }
          const o = theta.off + r * ts + j;
          knots(H, o, D, a, s);
          // The forward map's point: v itself (forward) or the solved x (inverse).
          const u = a.inverse ? H[y.off + i] : v;
          const k = a.inverse ? bin(s.ys, a.bins, v) : bin(s.xs, a.bins, v);
          const wk = s.xs[k + 1] - s.xs[k];
          const hk = s.ys[k + 1] - s.ys[k];
          const sl = hk / wk;
          const dk = knotDerivative(H, o, D, a, k);
          const dk1 = knotDerivative(H, o, D, a, k + 1);
          const xi = a.inverse ? solveXi(v, s.ys[k], hk, sl, dk, dk1) : (u - s.xs[k]) / wk;
          const L = evalLocal(xi, s.ys[k], hk, sl, dk, dk1, true);
          // Cotangents of the forward map's (y, log g') at this point.
          let cy: number;
          let cld: number;
          if (!a.inverse) {
            cy = cOut;
            cld = cl;
            if (dx) H[dx.off + i] += (cy * L.yXi + cld * L.lXi) / wk;
          } else {
            const gPrime = Math.exp(L.ld);
            const c = cOut - cl * (L.lXi / wk); // a_x − a_l ∂_x log g' (the output log-det is −log g')
            if (dx) H[dx.off + i] += c / gPrime;
            cy = -c / gPrime;
            cld = -cl;
          }
          if (!dtheta) continue;
          const gXi = cy * L.yXi + cld * L.lXi;
          const gS = cy * L.yS + cld * L.lS;
          const gxk = -gXi / wk;
          const gwk = (-gXi * xi) / wk - (gS * sl) / wk;
          const ghk = cy * L.yH + gS / wk;
          const gyk = cy;
          const gdk = cy * L.yDk + cld * L.lDk;
          const gdk1 = cy * L.yDk1 + cld * L.lDk1;
          backToParams(H, dtheta.off + r * ts + j, D, a, s, k, gxk, gwk, gyk, ghk, gdk, gdk1, o);
        }
      }
    },
  },
};
