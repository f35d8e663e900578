/**
 * Analytic stand-ins for a trained flow, so the flow-assisted samplers can be tested in
 * milliseconds: a Gaussian mixture with draws, exact log q and log q at given points
 * (`FlowProposal`), and an elementwise x = μ + σ ⊙ sinh(z) bijection with its tape
 * (`DifferentiableBijection`).
 */
import { RandomStream } from '../../src/core/random.js';
import type { FlowProposal } from '../../src/samplers/flowMc.js';
import type { DifferentiableBijection } from '../../src/samplers/neutra.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Equal-weight mixture of N(means[k], sd² I); `baseScale` τ widens every component to τ sd. */
export function mixtureProposal(means: number[][], sd: number): FlowProposal & { calls: { sample: number; logProb: number; logProbRows: number } } {
  const dim = means[0].length;
  const k = means.length;
  const calls = { sample: 0, logProb: 0, logProbRows: 0 };
  const logq = (x: Float64Array, off: number, s: number): number => {
    let m = -Infinity;
    const terms = means.map((mu) => {
      let q = 0;
      for (let i = 0; i < dim; i++) q += (x[off + i] - mu[i]) ** 2;
      const t = -q / (2 * s * s) - dim * Math.log(s) - (dim / 2) * LOG_2PI - Math.log(k);
      m = Math.max(m, t);
      return t;
    });
    return m + Math.log(terms.reduce((a, t) => a + Math.exp(t - m), 0));
  };
  return {
    dim,
    calls,
    sampleArrays(n, seed, _batch, baseScale = 1) {
      calls.sample++;
      const rng = seed instanceof RandomStream ? seed : new RandomStream(seed as number);
      const s = sd * baseScale;
      const x = new Float64Array(n * dim);
      const lq = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const mu = means[Math.min(k - 1, Math.floor(rng.uniform() * k))];
        for (let i = 0; i < dim; i++) x[r * dim + i] = mu[i] + s * rng.normal();
        lq[r] = logq(x, r * dim, s);
      }
      return { x, logq: lq };
    },
    logProbArrays(x, _batch, baseScale = 1) {
      const n = x.length / dim;
      calls.logProb++;
      calls.logProbRows += n;
      return Float64Array.from({ length: n }, (_, r) => logq(x, r * dim, sd * baseScale));
    },
  };
}

/** x_i = μ_i + σ_i sinh(z_i): log|det| = Σ log(σ_i cosh z_i); d log|det| / dz_i = tanh z_i. */
export function sinhBijection(mu: number[], sigma: number[]): DifferentiableBijection & { tapes: { open: number } } {
  const dim = mu.length;
  const tapes = { open: 0 };
  return {
    dim,
    tapes,
    forwardTape(z, n) {
      tapes.open++;
      const x = new Float64Array(n * dim);
      const logDet = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < dim; i++) {
          const zi = z[r * dim + i];
          x[r * dim + i] = mu[i] + sigma[i] * Math.sinh(zi);
          logDet[r] += Math.log(sigma[i] * Math.cosh(zi));
        }
      }
      return {
        x,
        logDet,
        backward(dX, dLogDet) {
          const dz = new Float64Array(n * dim);
          for (let r = 0; r < n; r++) {
            for (let i = 0; i < dim; i++) {
              const zi = z[r * dim + i];
              dz[r * dim + i] = dX[r * dim + i] * sigma[i] * Math.cosh(zi) + dLogDet[r] * Math.tanh(zi);
            }
          }
          return dz;
        },
        dispose() {
          tapes.open--;
        },
      };
    },
  };
}
