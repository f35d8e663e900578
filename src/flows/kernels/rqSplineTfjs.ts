/**
 * Monotonic rational-quadratic spline, elementwise, as tfjs ops (Durkan, Bekasov, Murray &
 * Papamakarios 2019, "Neural Spline Flows", https://arxiv.org/abs/1906.04032, Sec. 3.1 and
 * App. A; after Gregory & Delbourgo 1982).
 *
 * Inside [-B, B] the map is a piecewise rational-quadratic with K bins whose widths, heights and
 * K-1 interior knot derivatives come from unconstrained parameters; outside it is the identity
 * (linear tails), so the boundary knots get derivative 1 and the map is C¹ at ±B.
 *
 * Shapes: `x` is any shape S; `widths` and `heights` are S + [K]; `derivatives` S + [K-1]. The
 * log-derivative comes back elementwise (shape S); a bijector sums it over its event axis.
 *
 * The bin of each element is found with K-1 comparisons that build a one-hot mask (no gather):
 * at small dimension the kernel count, not FLOPs, sets the speed in tfjs, and a one-hot product
 * keeps every op differentiable with respect to the spline parameters.
 *
 * Example:
 * ```ts
 * const x = tf.tensor1d([-4, 0.3, 2]);
 * const w = tf.randomNormal([3, 8]), h = tf.randomNormal([3, 8]), d = tf.randomNormal([3, 7]);
 * const { y, logDet } = rqSplineForward(x, w, h, d, { bound: 3 });   // y[0] = -4 (identity tail)
 * const back = rqSplineInverse(y, w, h, d, { bound: 3 });             // back.y ≈ x
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { DimensionError, ParameterError } from '../../core/errors.js';

export interface RqSplineOptions {
  /** Half-width B of the spline's box [-B, B]; identity outside. Default 3. */
  bound?: number;
  /** Lower limit of each bin's width as a fraction of 2B (Durkan et al. use 1e-3). */
  minBinWidth?: number;
  /** Lower limit of each bin's height as a fraction of 2B. */
  minBinHeight?: number;
  /** Lower limit of the knot derivatives. */
  minDerivative?: number;
}

export interface RqSplineResult {
  /** The transformed values, shape of the input. */
  y: tf.Tensor;
  /** Elementwise log|dy/dx| of the map applied (the inverse map's for `rqSplineInverse`). */
  logDet: tf.Tensor;
}

interface Resolved {
  bound: number;
  minBinWidth: number;
  minBinHeight: number;
  minDerivative: number;
}

/** softplus(c) = 1 - minDerivative: the unconstrained value that gives derivative exactly 1. */
export function identityDerivativeParam(minDerivative = 1e-3): number {
  const t = 1 - minDerivative;
  return Math.log(Math.expm1(t));
}

function resolve(opts: RqSplineOptions, k: number): Resolved {
  const r = {
    bound: opts.bound ?? 3,
    minBinWidth: opts.minBinWidth ?? 1e-3,
    minBinHeight: opts.minBinHeight ?? 1e-3,
    minDerivative: opts.minDerivative ?? 1e-3,
  };
  if (!(r.bound > 0) || !Number.isFinite(r.bound)) {
    throw new ParameterError(`rq-spline: bound must be a positive finite number, got ${r.bound}`);
  }
  if (!(r.minBinWidth >= 0) || r.minBinWidth * k >= 1) {
    throw new ParameterError(`rq-spline: minBinWidth ${r.minBinWidth} x ${k} bins must be in [0, 1)`);
  }
  if (!(r.minBinHeight >= 0) || r.minBinHeight * k >= 1) {
    throw new ParameterError(`rq-spline: minBinHeight ${r.minBinHeight} x ${k} bins must be in [0, 1)`);
  }
  if (!(r.minDerivative >= 0) || r.minDerivative >= 1) {
    throw new ParameterError(`rq-spline: minDerivative must be in [0, 1), got ${r.minDerivative}`);
  }
  return r;
}

function checkShapes(x: tf.Tensor, w: tf.Tensor, h: tf.Tensor, d: tf.Tensor): number {
  const k = w.shape[w.rank - 1];
  const want = [...x.shape, k].join(',');
  if (k < 2) throw new ParameterError(`rq-spline: need at least 2 bins, got ${k}`);
  if (w.shape.join(',') !== want) {
    throw new DimensionError(`rq-spline: widths must have shape [${want}], got [${w.shape.join(',')}]`);
  }
  if (h.shape.join(',') !== want) {
    throw new DimensionError(`rq-spline: heights must have shape [${want}], got [${h.shape.join(',')}]`);
  }
  const wantD = [...x.shape, k - 1].join(',');
  if (d.shape.join(',') !== wantD) {
    throw new DimensionError(`rq-spline: derivatives must have shape [${wantD}] (K-1 interior knots), got [${d.shape.join(',')}]`);
  }
  return k;
}

/**
 * Knot positions along one axis: bin sizes from a softmax with a floor, scaled to 2B; left knots
 * by an exclusive cumulative sum from -B. Returns the left knots, the sizes (both [.., K]) and
 * the K-1 interior knots.
 */
function knots(unnorm: tf.Tensor, k: number, minBin: number, bound: number): { left: tf.Tensor; size: tf.Tensor; inner: tf.Tensor } {
  const size = tf.add(2 * bound * minBin, tf.mul(2 * bound * (1 - minBin * k), tf.softmax(unnorm)));
  // Explicit axis: tfjs-backend-wasm 4.22's Cumsum reads out of bounds with axis -1.
  const left = tf.sub(tf.cumsum(size, size.rank - 1, true), bound);
  const begin = sliceBegin(left.rank);
  begin[left.rank - 1] = 1;
  const inner = tf.slice(left, begin, sliceSize(left.shape, k - 1));
  return { left, size, inner };
}

function sliceBegin(rank: number): number[] {
  return new Array<number>(rank).fill(0);
}
function sliceSize(shape: number[], last: number): number[] {
  return [...shape.slice(0, -1).map(() => -1), last];
}

/** One-hot [.., K] of the bin that holds each value: the count of interior knots below it. */
function binMask(v: tf.Tensor, inner: tf.Tensor, k: number): tf.Tensor {
  const idx = tf.sum(tf.step(tf.sub(tf.expandDims(v, -1), inner)), -1);
  return tf.oneHot(tf.cast(idx, 'int32'), k);
}

function pick(mask: tf.Tensor, a: tf.Tensor): tf.Tensor {
  return tf.sum(tf.mul(mask, a), -1);
}

interface SplineParts {
  inside: tf.Tensor;
  vc: tf.Tensor;
  xk: tf.Tensor;
  wk: tf.Tensor;
  yk: tf.Tensor;
  hk: tf.Tensor;
  dk: tf.Tensor;
  dk1: tf.Tensor;
}

function parts(v: tf.Tensor, widths: tf.Tensor, heights: tf.Tensor, derivs: tf.Tensor, r: Resolved, k: number, byHeight: boolean): SplineParts {
  const wKn = knots(widths, k, r.minBinWidth, r.bound);
  const hKn = knots(heights, k, r.minBinHeight, r.bound);
  const d = tf.add(r.minDerivative, tf.softplus(derivs));
  // Boundary knots have derivative 1 (C¹ with the identity tails).
  const padL: [number, number][] = d.shape.map(() => [0, 0] as [number, number]);
  const padR = padL.map((p) => [...p] as [number, number]);
  padL[d.rank - 1] = [1, 0];
  padR[d.rank - 1] = [0, 1];
  const dLeft = tf.pad(d, padL, 1);
  const dRight = tf.pad(d, padR, 1);
  // GreaterEqual has a (zero) gradient in tfjs; LessEqual and LogicalAnd have none.
  const inside = tf.greaterEqual(r.bound, tf.abs(v));
  // Clamp so that tails never feed extreme values into the rational function.
  const vc = tf.clipByValue(v, -r.bound, r.bound);
  const mask = binMask(vc, byHeight ? hKn.inner : wKn.inner, k);
  return {
    inside,
    vc,
    xk: pick(mask, wKn.left),
    wk: pick(mask, wKn.size),
    yk: pick(mask, hKn.left),
    hk: pick(mask, hKn.size),
    dk: pick(mask, dLeft),
    dk1: pick(mask, dRight),
  };
}

/** Shared pieces of the rational-quadratic at relative position xi (Durkan et al. eq. 4). */
function rqTerms(p: SplineParts, xi: tf.Tensor, s: tf.Tensor) {
  const omxi = tf.sub(1, xi);
  const xo = tf.mul(xi, omxi);
  const den = tf.add(s, tf.mul(tf.sub(tf.add(p.dk1, p.dk), tf.add(s, s)), xo));
  return { omxi, xo, den };
}

/** log dy/dx of the rational-quadratic (Durkan et al. eq. 5). */
function logDerivative(p: SplineParts, xi: tf.Tensor, s: tf.Tensor, t: ReturnType<typeof rqTerms>): tf.Tensor {
  const numD = tf.add(tf.add(tf.mul(p.dk1, tf.square(xi)), tf.mul(tf.add(s, s), t.xo)), tf.mul(p.dk, tf.square(t.omxi)));
  // log(s² numD / den²)
  return tf.log(tf.div(tf.mul(tf.square(s), numD), tf.square(t.den)));
}

/**
 * y = g(x) elementwise and log|g'(x)|. Differentiable with respect to x and all three parameter
 * tensors. Cost: about 50 kernels regardless of size.
 */
export function rqSplineForward(
  x: tf.Tensor,
  widths: tf.Tensor,
  heights: tf.Tensor,
  derivatives: tf.Tensor,
  opts: RqSplineOptions = {},
): RqSplineResult {
  const k = checkShapes(x, widths, heights, derivatives);
  const r = resolve(opts, k);
  return tf.tidy(() => {
    const p = parts(x, widths, heights, derivatives, r, k, false);
    const xi = tf.div(tf.sub(p.vc, p.xk), p.wk);
    const s = tf.div(p.hk, p.wk);
    const t = rqTerms(p, xi, s);
    const num = tf.mul(p.hk, tf.add(tf.mul(s, tf.square(xi)), tf.mul(p.dk, t.xo)));
    const ySpline = tf.add(p.yk, tf.div(num, t.den));
    const y = tf.where(p.inside, ySpline, x);
    const logDet = tf.where(p.inside, logDerivative(p, xi, s, t), tf.zerosLike(x));
    return { y, logDet };
  });
}

/**
 * x = g⁻¹(y) elementwise and log|(g⁻¹)'(y)| = -log|g'(x)|. Solves the quadratic of Durkan et al.
 * (eq. 6-8) with the root written as 2c / (-b - sqrt(b² - 4ac)) (their App. A): with c ≤ 0 and
 * b > 0 both terms of the denominator have one sign, so nothing cancels even as a → 0.
 */
export function rqSplineInverse(
  y: tf.Tensor,
  widths: tf.Tensor,
  heights: tf.Tensor,
  derivatives: tf.Tensor,
  opts: RqSplineOptions = {},
): RqSplineResult {
  const k = checkShapes(y, widths, heights, derivatives);
  const r = resolve(opts, k);
  return tf.tidy(() => {
    const p = parts(y, widths, heights, derivatives, r, k, true);
    const s = tf.div(p.hk, p.wk);
    const dy = tf.sub(p.vc, p.yk);
    const slopeSum = tf.sub(tf.add(p.dk1, p.dk), tf.add(s, s));
    const a = tf.add(tf.mul(p.hk, tf.sub(s, p.dk)), tf.mul(dy, slopeSum));
    const b = tf.sub(tf.mul(p.hk, p.dk), tf.mul(dy, slopeSum));
    const c = tf.neg(tf.mul(s, dy));
    const disc = tf.relu(tf.sub(tf.square(b), tf.mul(4, tf.mul(a, c))));
    // b > 0 always (Durkan et al. App. A), so -b - sqrt(disc) < 0 and never cancels.
    const xiRaw = tf.div(tf.mul(2, c), tf.sub(tf.neg(b), tf.sqrt(disc)));
    const xi = tf.clipByValue(xiRaw, 0, 1);
    const xSpline = tf.add(tf.mul(xi, p.wk), p.xk);
    const x = tf.where(p.inside, xSpline, y);
    const logDet = tf.where(p.inside, tf.neg(logDerivative(p, xi, s, rqTerms(p, xi, s))), tf.zerosLike(y));
    return { y: x, logDet };
  });
}

/**
 * Splits a conditioner output [n, D·(3K-1)] laid out as D blocks of (K widths, K heights, K-1
 * derivatives) — or [n, 3K-1, D] parameter-major when `layout` is 'param-major' — into the three
 * tensors the spline takes, shaped [n, D, K], [n, D, K], [n, D, K-1].
 */
export function splitSplineParams(
  params: tf.Tensor2D,
  dim: number,
  bins: number,
  layout: 'dim-major' | 'param-major' = 'param-major',
): { widths: tf.Tensor3D; heights: tf.Tensor3D; derivatives: tf.Tensor3D } {
  const per = 3 * bins - 1;
  if (params.shape[1] !== dim * per) {
    throw new DimensionError(`rq-spline params: expected ${dim} x ${per} = ${dim * per} columns, got ${params.shape[1]}`);
  }
  return tf.tidy(() => {
    const n = params.shape[0];
    const r: tf.Tensor3D =
      layout === 'dim-major'
        ? tf.reshape(params, [n, dim, per])
        : tf.transpose(tf.reshape(params, [n, per, dim]), [0, 2, 1]);
    const [widths, heights, derivatives] = tf.split(r, [bins, bins, bins - 1], 2) as tf.Tensor3D[];
    return { widths, heights, derivatives };
  });
}
