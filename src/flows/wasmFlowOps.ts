/**
 * The elementwise parts of a flow's pass on the wasm heap, as plain JS loops over float32
 * buffers (the matMuls are XNNPACK calls: src/flows/wasmFlow.ts and wasmBlocks.ts): the base
 * density, the diagonal affine layer, and the gated IAF update of Kingma et al. (2016) with its
 * backward pass. Offsets are float (not byte) offsets into the heap view `H`.
 */

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The gated update y = σ (z − m) + m for the coordinates `coords` of an [n, D] input z (at float
 * offset zo) into y (yo), with their MADE outputs in one [n, 2c] buffer (c = coords.length):
 * m in columns 0..c−1 and s in c..2c−1 (at oo), σ = sigmoid(out) likewise (at so). Σ log σ per
 * row is accumulated as log(prod[r]) + acc[r]: a product with one log per row (renormalised
 * before float64 underflow), and log σ(s) = s − log(1 + eˢ) directly where σ is too small for
 * float32. `finishLogDet` subtracts it from log q.
 */
export function gatedUpdate(H: Float32Array, n: number, D: number, coords: Int32Array, zo: number, oo: number, so: number, yo: number, prod: Float64Array, acc: Float64Array): void {
  const c = coords.length;
  const c2 = 2 * c;
  for (let r = 0; r < n; r++) {
    let p = prod[r];
    let a = acc[r];
    const zr = zo + r * D;
    const or = oo + r * c2;
    const sr = so + r * c2 + c;
    for (let i = 0; i < c; i++) {
      const j = coords[i];
      const m = H[or + i];
      const sg = H[sr + i];
      H[yo + r * D + j] = sg * (H[zr + j] - m) + m;
      if (sg > 1e-12) {
        p *= sg;
        if (p < 1e-280) {
          a += Math.log(p);
          p = 1;
        }
      } else {
        // (NaN stays NaN: it fails this test and the next line.)
        const s = H[or + c + i];
        a += s - Math.log1p(Math.exp(s));
      }
    }
    prod[r] = p;
    acc[r] = a;
  }
}

/** log q[r] −= Σ log σ accumulated by `gatedUpdate`; resets the accumulators. */
export function finishLogDet(logq: Float64Array, prod: Float64Array, acc: Float64Array): void {
  for (let r = 0; r < logq.length; r++) {
    logq[r] -= acc[r] + Math.log(prod[r]);
    prod[r] = 1;
    acc[r] = 0;
  }
}

/** 0, 1, ..., D − 1. */
export function allCoords(D: number): Int32Array {
  return Int32Array.from({ length: D }, (_, j) => j);
}

/** Adds Σ_j log N(ε_j; 0, τ²) of each row of ε [n, D] (at float offset eo) to log q. */
export function baseLogDensity(H: Float32Array, n: number, D: number, eo: number, baseScale: number, logq: Float64Array): void {
  const c = -D * (HALF_LOG_2PI + Math.log(baseScale));
  const inv2 = 1 / (baseScale * baseScale);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < D; j++) {
      const e = H[eo + r * D + j];
      s += e * e;
    }
    logq[r] = c - 0.5 * s * inv2;
  }
}

/** y = μ + σ z row by row (σ = exp(log σ)), and log q −= Σ log σ. */
export function affineForward(H: Float32Array, n: number, D: number, zo: number, yo: number, loc: Float64Array, logScale: Float64Array, logq: Float64Array): void {
  let ld = 0;
  for (let j = 0; j < D; j++) ld += logScale[j];
  const sc = Float64Array.from(logScale, Math.exp);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < D; j++) H[yo + r * D + j] = loc[j] + sc[j] * H[zo + r * D + j];
    logq[r] -= ld;
  }
}

/**
 * Backward of the gated update for one layer: from dL/dy (`dY`) and dL/dlog q, writes the
 * direct path dL/dz = dy σ into `dZ` and dL/d[m | s] transposed into gᵀ [2D, n]:
 * ∂y/∂m = 1 − σ, ∂y/∂s = σ(1 − σ)(z − m), ∂log|det|/∂s = 1 − σ (weight −dL/dlog q).
 */
export function gatedBackward(H: Float32Array, n: number, D: number, zo: number, oo: number, so: number, go: number, dY: Float64Array, dLogq: Float64Array, dZ: Float64Array): void {
  const D2 = 2 * D;
  for (let r = 0; r < n; r++) {
    const dLD = -dLogq[r];
    for (let j = 0; j < D; j++) {
      const sg = H[so + r * D2 + D + j];
      const m = H[oo + r * D2 + j];
      const dy = dY[r * D + j];
      const om = 1 - sg;
      dZ[r * D + j] = dy * sg;
      H[go + j * n + r] = dy * om;
      H[go + (D + j) * n + r] = om * (sg * (H[zo + r * D + j] - m) * dy + dLD);
    }
  }
}
