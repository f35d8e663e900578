/**
 * The many-well target of Midgley et al. (2023, "Flow annealed importance sampling bootstrap",
 * ICLR; fab-torch's ManyWellEnergy with a = −0.5, b = −6, c = 1): D/2 independent copies of the
 * 2-D double well
 *   log p̃(x1, x2) = −x1⁴ + 6 x1² + 0.5 x1 − 0.5 x2²,
 * so 2^(D/2) modes (2¹⁶ in the paper's 32-D). Coordinates pair up as (x_{2k+1}, x_{2k+2}).
 *
 * Everything about it is exact up to 1-D quadrature of the double-well factor
 * w(x) = exp(−x⁴ + 6x² + 0.5x): log Z = (D/2) (log ∫w + ½ log 2π); the well weights
 * P(x1 > 0) and the moments of x1 likewise; exact draws of x1 by rejection from a piecewise
 * constant envelope that bounds w on every cell of a fine grid (the envelope takes w's maximum on
 * the cell, at an end or at a stationary point of the quartic), so they are exact, not binned.
 */
import * as tf from '@tensorflow/tfjs';
import { ParameterError } from '../core/errors.js';
import type { ModeStructure, Target } from './target.js';
import { LOG_2PI, checkBatch, checkDimension, checkPoint, constTensor } from './checks.js';

/** f(x) = log w(x) of one double well's x1. */
function wellLog(x: number): number {
  const x2 = x * x;
  return -x2 * x2 + 6 * x2 + 0.5 * x;
}

/** The three stationary points of f (roots of −4x³ + 12x + 0.5), by bisection. */
function stationaryPoints(): number[] {
  const d = (x: number) => -4 * x * x * x + 12 * x + 0.5;
  const root = (lo: number, hi: number) => {
    for (let k = 0; k < 200; k++) {
      const mid = 0.5 * (lo + hi);
      if (Math.sign(d(mid)) === Math.sign(d(lo))) lo = mid;
      else hi = mid;
    }
    return 0.5 * (lo + hi);
  };
  return [root(-3, -1), root(-1, 1), root(1, 3)];
}

/** Integration range: w(±4.5) / max w < e^{-300}. */
const LO = -4.5;
const HI = 4.5;
const CELLS = 18_000;

interface WellTables {
  logZ1: number;
  /** P(x1 > 0). */
  pPositive: number;
  mean1: number;
  var1: number;
  fMax: number;
  /** Cumulative envelope mass per cell (normalised), and the log envelope height per cell. */
  cum: Float64Array;
  logM: Float64Array;
  stationary: number[];
}

let tables: WellTables | null = null;

/** Quadrature (composite Simpson on 2·CELLS intervals) and the sampling envelope, computed once. */
function wellTables(): WellTables {
  if (tables) return tables;
  const stationary = stationaryPoints();
  const fMax = Math.max(...stationary.map(wellLog));
  const m = 2 * CELLS;
  const h = (HI - LO) / m;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let sPos = 0;
  for (let i = 0; i <= m; i++) {
    const x = LO + i * h;
    const c = i === 0 || i === m ? 1 : i % 2 === 1 ? 4 : 2;
    const w = c * Math.exp(wellLog(x) - fMax);
    s0 += w;
    s1 += w * x;
    s2 += w * x * x;
    // x = 0 is a grid node (m even, symmetric range): Simpson on [0, HI] with its own end weight.
    if (i >= m / 2) sPos += (i === m / 2 ? 1 : c) * Math.exp(wellLog(x) - fMax);
  }
  const z = (s0 * h) / 3;
  const mean1 = (s1 * h) / 3 / z;
  const var1 = (s2 * h) / 3 / z - mean1 * mean1;
  const pPositive = (sPos * h) / 3 / z;
  const cellW = (HI - LO) / CELLS;
  const logM = new Float64Array(CELLS);
  const cum = new Float64Array(CELLS);
  let acc = 0;
  for (let c = 0; c < CELLS; c++) {
    const a = LO + c * cellW;
    const b = a + cellW;
    let top = Math.max(wellLog(a), wellLog(b));
    for (const s of stationary) if (s >= a && s <= b) top = Math.max(top, wellLog(s));
    logM[c] = top - fMax;
    acc += Math.exp(logM[c]) * cellW;
    cum[c] = acc;
  }
  for (let c = 0; c < CELLS; c++) cum[c] /= acc;
  tables = { logZ1: fMax + Math.log(z), pPositive, mean1, var1, fMax, cum, logM, stationary };
  return tables;
}

export interface ManyWellOptions {
  /** Dimension, even (default 32: 16 double wells). */
  dim?: number;
}

export function manyWell(options: ManyWellOptions = {}): Target {
  if (options == null || typeof options !== 'object') throw new ParameterError('manyWell: options must be an object');
  const dim = checkDimension('dim', options.dim ?? 32, 2);
  if (dim % 2 !== 0) throw new ParameterError(`invalid parameter dim = ${dim}: the many-well needs an even dimension (pairs of coordinates)`);
  const wells = dim / 2;
  const name = 'manywell';
  const t = wellTables();
  const logZ = wells * (t.logZ1 + 0.5 * LOG_2PI);
  const mean = new Float64Array(dim);
  const variance = new Float64Array(dim).fill(1);
  for (let k = 0; k < wells; k++) {
    mean[2 * k] = t.mean1;
    variance[2 * k] = t.var1;
  }
  // Coefficients for the tfjs path: Σ_j (−e_j x⁴ + (6 e_j − 0.5 (1 − e_j)) x² + 0.5 e_j x).
  let coefs: { quart: tf.Tensor; quad: tf.Tensor; lin: tf.Tensor } | null = null;
  const getCoefs = () => {
    coefs ??= {
      quart: constTensor(Array.from({ length: dim }, (_, j) => (j % 2 === 0 ? -1 : 0)), [1, dim]),
      quad: constTensor(Array.from({ length: dim }, (_, j) => (j % 2 === 0 ? 6 : -0.5)), [1, dim]),
      lin: constTensor(Array.from({ length: dim }, (_, j) => (j % 2 === 0 ? 0.5 : 0)), [1, dim]),
    };
    return coefs;
  };
  // Modes: the sign pattern of the x1 of every well (bit k set when well k's x1 > 0). Their
  // weights are products of P(x1 > 0) and its complement; listed only up to 2^20 modes.
  const modes: ModeStructure | undefined =
    wells <= 20
      ? {
          count: 2 ** wells,
          weights: Float64Array.from({ length: 2 ** wells }, (_, m) => {
            let w = 1;
            for (let k = 0; k < wells; k++) w *= (m >> k) & 1 ? t.pPositive : 1 - t.pPositive;
            return w;
          }),
          assign(x) {
            checkPoint(name, dim, x);
            let m = 0;
            for (let k = 0; k < wells; k++) if (x[2 * k] > 0) m |= 1 << k;
            return m;
          },
        }
      : undefined;
  const cellW = (HI - LO) / CELLS;
  const sampleX1 = (rng: { uniform(): number }): number => {
    for (;;) {
      const u = rng.uniform();
      let lo = 0;
      let hi = CELLS - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (t.cum[mid] < u) lo = mid + 1;
        else hi = mid;
      }
      const x = LO + (lo + rng.uniform()) * cellW;
      if (Math.log(rng.uniform()) < wellLog(x) - t.fMax - t.logM[lo]) return x;
    }
  };
  return {
    name,
    dim,
    description: `many-well of Midgley et al. (2023): ${wells} double wells −x1⁴ + 6x1² + 0.5x1 − 0.5x2², 2^${wells} modes`,
    params: { dim },
    logZ,
    mean,
    variance,
    plotBounds: Array.from({ length: dim }, (_, j) => (j % 2 === 0 ? [-3, 3] : [-4, 4]) as [number, number]),
    ...(modes ? { modes } : {}),
    initialPoint: () => {
      const x = new Float64Array(dim);
      for (let k = 0; k < wells; k++) x[2 * k] = t.stationary[2];
      return x;
    },
    logDensity(x) {
      checkPoint(name, dim, x);
      let s = 0;
      for (let k = 0; k < wells; k++) s += wellLog(x[2 * k]) - 0.5 * x[2 * k + 1] * x[2 * k + 1];
      return s;
    },
    gradLogDensity(x, out) {
      checkPoint(name, dim, x);
      let s = 0;
      for (let k = 0; k < wells; k++) {
        const a = x[2 * k];
        const b = x[2 * k + 1];
        s += wellLog(a) - 0.5 * b * b;
        out[2 * k] = -4 * a * a * a + 12 * a + 0.5;
        out[2 * k + 1] = -b;
      }
      return s;
    },
    logProb(x) {
      checkBatch(name, dim, x);
      const c = getCoefs();
      return tf.tidy(() => {
        const x2 = tf.square(x);
        const terms = tf.add(tf.add(tf.mul(tf.square(x2), c.quart), tf.mul(x2, c.quad)), tf.mul(x, c.lin));
        return tf.sum(terms, 1) as tf.Tensor1D;
      });
    },
    sampleExact(n, rng) {
      const out = new Float64Array(n * dim);
      for (let r = 0; r < n; r++) {
        for (let k = 0; k < wells; k++) {
          out[r * dim + 2 * k] = sampleX1(rng);
          out[r * dim + 2 * k + 1] = rng.normal();
        }
      }
      return out;
    },
  };
}

/** P(x1 > 0) of one double well (the weight of its right-hand well). */
export function manyWellRightWeight(): number {
  return wellTables().pPositive;
}
