/**
 * exp, log and the sine and cosine of a full turn's fraction, computed from IEEE-754 +, −, ×, ÷
 * alone, so they give the same bits in every JavaScript engine.
 *
 * Why: `Math.exp`, `Math.cos`, ... are only required to be approximately right, and engines
 * differ: Node 20's V8 and Chromium 156's V8 disagree in the last bit for about one argument in
 * several (Math.cos(0.1), Math.exp(1.7)); the newer one rounds correctly. One such bit in a
 * momentum draw or an acceptance probability sends an MCMC chain down another path, so a seed
 * would give other draws in a browser or under another Node. The random streams and the MCMC
 * kernels use these functions instead; the basic operations are correctly rounded everywhere.
 *
 * Accuracy: within about 1 ulp of the exact value (test/core.portableMath.test.ts checks them
 * against Math.* over the ranges that matter). Algorithms: argument reduction by a two-part
 * ln 2 and polynomials (Cody & Waite 1980, "Software Manual for the Elementary Functions");
 * for log, log(1 + f) = 2 atanh(f / (2 + f)) on a mantissa in [√½, √2).
 */

const LN2_HI = 6.93147180369123816490e-1; // ln 2 rounded to 32 significant bits: k·LN2_HI is exact
const LN2_LO = 1.90821492927058770002e-10; // ln 2 − LN2_HI
const INV_LN2 = 1.4426950408889634;
const EXP_MAX = 709.782712893384; // above: overflow
const EXP_MIN = -745.1332191019412; // below: underflows to 0

/** 2^k for k in [−1074, 1023] (all exact: repeated doubling and halving). */
const POW2 = (() => {
  const t = new Float64Array(2098);
  t[1074] = 1;
  for (let k = 1; k <= 1023; k++) t[1074 + k] = t[1073 + k] * 2;
  for (let k = 1; k <= 1074; k++) t[1074 - k] = t[1075 - k] / 2;
  return t;
})();

// 1/n!, n = 2..13: the Taylor series of e^r, enough for |r| ≤ ln2/2 (the next term is < 1e-17).
const E2 = 1 / 2;
const E3 = 1 / 6;
const E4 = 1 / 24;
const E5 = 1 / 120;
const E6 = 1 / 720;
const E7 = 1 / 5040;
const E8 = 1 / 40320;
const E9 = 1 / 362880;
const E10 = 1 / 3628800;
const E11 = 1 / 39916800;
const E12 = 1 / 479001600;
const E13 = 1 / 6227020800;

/** e^x, the same bits in every engine. */
export function exp(x: number): number {
  if (!(x <= EXP_MAX)) return x > EXP_MAX ? Infinity : NaN;
  if (x < EXP_MIN) return 0;
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  // Horner on 1/n!, n = 13..1, unrolled.
  const s =
    1 + r * (E2 + r * (E3 + r * (E4 + r * (E5 + r * (E6 + r * (E7 + r * (E8 + r * (E9 + r * (E10 + r * (E11 + r * (E12 + r * E13)))))))))));
  const er = 1 + r * s;
  // Scale by 2^k in at most two exact-power steps (k may be 1024, or below the normal range).
  if (k > 1023) return er * 2 * POW2[1074 + k - 1];
  if (k < -1022) return er * POW2[1074 + k + 60] * POW2[1074 - 60];
  return er * POW2[1074 + k];
}

const SQRT2 = Math.SQRT2; // a constant, not a computation: the same everywhere
const TWO54 = 18014398509481984;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // index of the high word

// 2/(2n+1), n = 1..11: log(1+f) = 2s + s·Σ (2/(2n+1)) s^(2n), s = f/(2+f), |s| ≤ 0.1716.
const L1 = 2 / 3;
const L2 = 2 / 5;
const L3 = 2 / 7;
const L4 = 2 / 9;
const L5 = 2 / 11;
const L6 = 2 / 13;
const L7 = 2 / 15;
const L8 = 2 / 17;
const L9 = 2 / 19;
const L10 = 2 / 21;
const L11 = 2 / 23;

/** Natural logarithm, the same bits in every engine. */
export function log(x: number): number {
  if (!(x > 0)) return x === 0 ? -Infinity : NaN;
  if (x === Infinity) return x;
  // x = 2^e·m with m in [√½, √2), read off the bits (exact).
  let e = 0;
  if (x < 2.2250738585072014e-308) {
    x *= TWO54; // subnormal: make it normal, exactly
    e = -54;
  }
  f64[0] = x;
  const hi = u32[HI];
  e += (hi >>> 20) - 1023;
  u32[HI] = (hi & 0x000fffff) | 0x3ff00000; // mantissa in [1, 2)
  let m = f64[0];
  if (m > SQRT2) {
    m /= 2;
    e += 1;
  }
  const f = m - 1; // exact (Sterbenz)
  const s = f / (2 + f);
  const z = s * s;
  const R = z * (L1 + z * (L2 + z * (L3 + z * (L4 + z * (L5 + z * (L6 + z * (L7 + z * (L8 + z * (L9 + z * (L10 + z * L11))))))))));
  // 2s = f − s·f, so log(1+f) = f − s·(f − R); f is exact and the correction small.
  const logm = f - s * (f - R);
  return e * LN2_HI + (logm + e * LN2_LO);
}

/** x^y for x > 0 as e^(y log x): deterministic, within a few ulp (for schedules, not for powers of data). */
export function powPositive(x: number, y: number): number {
  return exp(y * log(x));
}

const HALF_PI = 1.5707963267948966;

/** sin(a) and cos(a) for 0 ≤ a ≤ π/4 by their Taylor series (next terms < 1e-18). */
function sinSmall(a: number): number {
  const z = a * a;
  return a * (1 + z * (-1 / 6 + z * (1 / 120 + z * (-1 / 5040 + z * (1 / 362880 + z * (-1 / 39916800 + z * (1 / 6227020800 + z * (-1 / 1307674368000 + z * (1 / 355687428096000)))))))));
}
function cosSmall(a: number): number {
  const z = a * a;
  return 1 + z * (-1 / 2 + z * (1 / 24 + z * (-1 / 720 + z * (1 / 40320 + z * (-1 / 3628800 + z * (1 / 479001600 + z * (-1 / 87178291200 + z * (1 / 20922789888000))))))));
}

/** sin(π/2·f) and cos(π/2·f) for 0 ≤ f < 1 into out[0], out[1]. */
function quarterTurn(f: number, out: Float64Array): void {
  if (f <= 0.5) {
    const a = f * HALF_PI;
    out[0] = sinSmall(a);
    out[1] = cosSmall(a);
  } else {
    const a = (1 - f) * HALF_PI; // 1 − f is exact
    out[0] = cosSmall(a);
    out[1] = sinSmall(a);
  }
}

/**
 * sin(2πu) and cos(2πu) for 0 ≤ u < 1 (what Box–Muller needs), into out[0] and out[1]. The
 * argument stays in turns, so the reduction to a quarter turn is exact.
 */
export function sinCosTurn(u: number, out: Float64Array): Float64Array {
  const t = u * 4; // exact
  const q = Math.floor(t);
  quarterTurn(t - q, out); // t − q is exact
  const s = out[0];
  const c = out[1];
  switch (q & 3) {
    case 0:
      break;
    case 1:
      out[0] = c;
      out[1] = -s;
      break;
    case 2:
      out[0] = -s;
      out[1] = -c;
      break;
    default:
      out[0] = -c;
      out[1] = s;
  }
  return out;
}
