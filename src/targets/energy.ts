/**
 * The four 2-D energy functions of Rezende & Mohamed (2015, "Variational inference with
 * normalizing flows", ICML, Table 1), p̃(z) = exp(-U(z)):
 *   U1 = ½((‖z‖ - 2)/0.4)² - log(e^{-½((z1-2)/0.6)²} + e^{-½((z1+2)/0.6)²})
 *   U2 = ½((z2 - w1)/0.4)²
 *   U3 = -log(e^{-½((z2-w1)/0.35)²} + e^{-½((z2-w1+w2)/0.35)²})
 *   U4 = -log(e^{-½((z2-w1)/0.4)²} + e^{-½((z2-w1+w3)/0.35)²})
 * with w1 = sin(πz1/2), w2 = 3 e^{-½((z1-1)/0.6)²}, w3 = 3 σ((z1-1)/0.3).
 *
 * As written, U2–U4 do not decay along z1 (p̃ is not integrable); the paper only shows them on
 * [-4, 4]². We add a wall ½((|z1| - 4)₊/0.4)² to U2–U4: zero inside the box, so the shapes are
 * the paper's, and Gaussian decay (sd 0.4) outside, so log Z is finite and flows and samplers
 * see a proper density. It is C¹, so gradient samplers are fine. log Z has no closed form,
 * except for U2 with the wall: every z1-slice integrates to 0.4√(2π), so
 * Z = 0.4√(2π)·(8 + 0.4√(2π)) (the 8 from the box, the rest from the two half-Gaussian walls).
 * Grid quadrature gives log Z = 1.8775016 (U1), 2.2001669 (U2), 2.7597827 (U3), 2.8287756 (U4).
 */
import * as tf from '@tensorflow/tfjs';
import { ParameterError } from '../core/errors.js';
import type { Target } from './target.js';
import { checkBatch, checkPoint } from './checks.js';

export type EnergyName = 'u1' | 'u2' | 'u3' | 'u4';

const BOX = 4;
const WALL_SD = 0.4;
const HALF_PI = Math.PI / 2;

/** log(e^a + e^b) and the weight e^a/(e^a + e^b), stably. */
function logAddExp(a: number, b: number): [number, number] {
  const m = Math.max(a, b);
  if (m === -Infinity) return [-Infinity, 0.5];
  const ea = Math.exp(a - m);
  const eb = Math.exp(b - m);
  return [m + Math.log(ea + eb), ea / (ea + eb)];
}

/** log p̃ = -U and its gradient (into g when given). */
type Energy = (z1: number, z2: number, g: Float64Array | null) => number;

/** The wall term -½((|z1| - 4)₊/0.4)², added to g[0]. */
function wall(z1: number, g: Float64Array | null): number {
  const over = Math.abs(z1) - BOX;
  if (over <= 0) return 0;
  if (g) g[0] -= (Math.sign(z1) * over) / (WALL_SD * WALL_SD);
  return -0.5 * (over / WALL_SD) ** 2;
}

const energies: Record<EnergyName, Energy> = {
  u1(z1, z2, g) {
    const r = Math.hypot(z1, z2);
    const t = (r - 2) / 0.4;
    const a = -0.5 * ((z1 - 2) / 0.6) ** 2;
    const b = -0.5 * ((z1 + 2) / 0.6) ** 2;
    const [lse, pa] = logAddExp(a, b);
    if (g) {
      // The ring term has a cone at the origin; its subgradient there is taken as 0.
      const dr = r > 0 ? -t / 0.4 / r : 0;
      g[0] = dr * z1 + (pa * -(z1 - 2) + (1 - pa) * -(z1 + 2)) / 0.36;
      g[1] = dr * z2;
    }
    return -0.5 * t * t + lse;
  },
  u2(z1, z2, g) {
    const w1 = Math.sin(HALF_PI * z1);
    const r = (z2 - w1) / 0.4;
    if (g) {
      g[0] = (r / 0.4) * HALF_PI * Math.cos(HALF_PI * z1);
      g[1] = -r / 0.4;
    }
    return -0.5 * r * r + wall(z1, g);
  },
  u3(z1, z2, g) {
    const w1 = Math.sin(HALF_PI * z1);
    const e = Math.exp(-0.5 * ((z1 - 1) / 0.6) ** 2);
    const w2 = 3 * e;
    const ra = (z2 - w1) / 0.35;
    const rb = (z2 - w1 + w2) / 0.35;
    const [lse, pa] = logAddExp(-0.5 * ra * ra, -0.5 * rb * rb);
    if (g) {
      const dw1 = HALF_PI * Math.cos(HALF_PI * z1);
      const dw2 = (-w2 * (z1 - 1)) / 0.36;
      g[0] = pa * (ra / 0.35) * dw1 + (1 - pa) * (-rb / 0.35) * (dw2 - dw1);
      g[1] = pa * (-ra / 0.35) + (1 - pa) * (-rb / 0.35);
    }
    return lse + wall(z1, g);
  },
  u4(z1, z2, g) {
    const w1 = Math.sin(HALF_PI * z1);
    const s = 1 / (1 + Math.exp(-(z1 - 1) / 0.3));
    const w3 = 3 * s;
    const ra = (z2 - w1) / 0.4;
    const rb = (z2 - w1 + w3) / 0.35;
    const [lse, pa] = logAddExp(-0.5 * ra * ra, -0.5 * rb * rb);
    if (g) {
      const dw1 = HALF_PI * Math.cos(HALF_PI * z1);
      const dw3 = (3 * s * (1 - s)) / 0.3;
      g[0] = pa * (ra / 0.4) * dw1 + (1 - pa) * (-rb / 0.35) * (dw3 - dw1);
      g[1] = pa * (-ra / 0.4) + (1 - pa) * (-rb / 0.35);
    }
    return lse + wall(z1, g);
  },
};

type Tensors = (z1: tf.Tensor1D, z2: tf.Tensor1D) => tf.Tensor1D;

function tfWall(z1: tf.Tensor1D): tf.Tensor1D {
  return tf.square(tf.relu(tf.sub(tf.abs(z1), BOX)).div(WALL_SD)).mul(-0.5);
}
const tfLogAddExp = (a: tf.Tensor1D, b: tf.Tensor1D) => tf.logSumExp(tf.stack([a, b], 1), 1) as tf.Tensor1D;
const tfW1 = (z1: tf.Tensor1D) => tf.sin(z1.mul(HALF_PI));
const halfSq = (t: tf.Tensor, s: number) => tf.square(t.div(s)).mul(-0.5) as tf.Tensor1D;

const tfEnergies: Record<EnergyName, Tensors> = {
  // ‖z‖ with a 1e-12 floor under the root: the float32 gradient of sqrt at 0 is otherwise NaN.
  u1: (z1, z2) =>
    halfSq(tf.sqrt(tf.square(z1).add(tf.square(z2)).add(1e-12)).sub(2), 0.4).add(
      tfLogAddExp(halfSq(z1.sub(2), 0.6), halfSq(z1.add(2), 0.6)),
    ),
  u2: (z1, z2) => halfSq(z2.sub(tfW1(z1)), 0.4).add(tfWall(z1)),
  u3: (z1, z2) => {
    const d = z2.sub(tfW1(z1));
    const w2 = tf.exp(halfSq(z1.sub(1), 0.6)).mul(3);
    return tfLogAddExp(halfSq(d, 0.35), halfSq(d.add(w2), 0.35)).add(tfWall(z1));
  },
  u4: (z1, z2) => {
    const d = z2.sub(tfW1(z1));
    const w3 = tf.sigmoid(z1.sub(1).div(0.3)).mul(3);
    return tfLogAddExp(halfSq(d, 0.4), halfSq(d.add(w3), 0.35)).add(tfWall(z1));
  },
};

const descriptions: Record<EnergyName, string> = {
  u1: 'Rezende & Mohamed (2015) U1: a ring of radius 2 split into two halves',
  u2: 'Rezende & Mohamed (2015) U2: a sine-shaped ridge (wall beyond |z1| = 4)',
  u3: 'Rezende & Mohamed (2015) U3: a sine ridge with a bump branch (wall beyond |z1| = 4)',
  u4: 'Rezende & Mohamed (2015) U4: a sine ridge with a step branch (wall beyond |z1| = 4)',
};

/** One of the Rezende & Mohamed (2015) energies as a 2-D target: log p̃ = -U (+ wall for U2–U4). */
export function energy(which: EnergyName): Target {
  const key = typeof which === 'string' ? (which.toLowerCase() as EnergyName) : which;
  const f = energies[key];
  if (!f || !Object.prototype.hasOwnProperty.call(energies, key)) {
    throw new ParameterError(`unknown energy '${String(which)}': use u1, u2, u3 or u4`);
  }
  const tff = tfEnergies[key];
  const name = key;
  return {
    name,
    dim: 2,
    description: descriptions[key],
    params: {},
    ...(key === 'u2' ? { logZ: Math.log(WALL_SD * Math.sqrt(2 * Math.PI) * (2 * BOX + WALL_SD * Math.sqrt(2 * Math.PI))) } : {}),
    plotBounds: [
      [-4, 4],
      [-4, 4],
    ],
    initialPoint: () => Float64Array.from(key === 'u1' ? [2, 0] : [0, 0]),
    logDensity(x) {
      checkPoint(name, 2, x);
      return f(x[0], x[1], null);
    },
    gradLogDensity(x, out) {
      checkPoint(name, 2, x);
      out[0] = 0;
      out[1] = 0;
      return f(x[0], x[1], out);
    },
    logProb(x) {
      checkBatch(name, 2, x);
      return tf.tidy(() => {
        const [z1, z2] = tf.unstack(x, 1) as [tf.Tensor1D, tf.Tensor1D];
        return tff(z1, z2);
      });
    },
  };
}
