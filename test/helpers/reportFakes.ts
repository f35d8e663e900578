/** Small fakes for report and CLI tests: a 2-D banana-like target and seeded Draws. */
import * as tf from '@tensorflow/tfjs';
import { makeDraws, type Draws } from '../../src/core/draws.js';
import { RandomStream } from '../../src/core/random.js';
import type { Target } from '../../src/targets/target.js';
import type { SummaryRow } from '../../src/report/summaryRow.js';

export function fakeBanana(name = 'banana'): Target {
  const logDensity = (x: Float64Array) => -0.5 * (x[0] ** 2 / 4 + (x[1] - 0.5 * x[0] ** 2 + 1) ** 2);
  return {
    name,
    dim: 2,
    description: 'a banana-shaped test density',
    params: { b: 0.5 },
    logDensity,
    gradLogDensity(x, out) {
      const r = x[1] - 0.5 * x[0] ** 2 + 1;
      out[0] = -x[0] / 4 + r * x[0];
      out[1] = -r;
      return logDensity(x);
    },
    logProb: (x) => tf.tidy(() => {
      const [a, b] = tf.split(x, 2, 1);
      const r = tf.add(tf.sub(b, tf.mul(0.5, tf.square(a))), 1);
      return tf.mul(-0.5, tf.add(tf.div(tf.square(a), 4), tf.square(r))).reshape([-1]) as tf.Tensor1D;
    }),
    sampleExact(n, rng) {
      const out = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        const a = 2 * rng.normal();
        out[2 * i] = a;
        out[2 * i + 1] = 0.5 * a * a - 1 + rng.normal();
      }
      return out;
    },
    plotBounds: [[-5, 5], [-3, 8]],
  };
}

/** Exact banana draws dressed as a sampler's output. */
export function fakeDraws(sampler: string, seed: number, chains = 2, draws = 300): Draws {
  const rng = new RandomStream(seed);
  const values = fakeBanana().sampleExact!(chains * draws, rng);
  return makeDraws({ sampler, chains, draws, dim: 2, values, wallTimeMs: 100, densityEvals: chains * draws, gradEvals: 0, acceptance: 1 });
}

export function fakeRow(sampler: string, i: number): SummaryRow {
  return {
    sampler,
    essBulk: 100 * (i + 1),
    essTail: 90,
    rhat: 1.001,
    essPerSecond: 50 * (i + 1),
    essPer1000Evals: 3,
    kl: 0.01 * (i + 1),
    khat: i === 0 ? 0.3 : null,
    wallTimeS: 1,
    trainTimeS: 0,
    densityEvals: 1000,
    gradEvals: 0,
    acceptance: 0.5,
    divergences: null,
  };
}
