/**
 * Contract test run over every bijector: round trip, forward/inverse log-dets cancel,
 * log|det J| against a brute-force Jacobian (rows by tf.grad, determinant in float64), the
 * MADE autoregressive property (triangular Jacobian in the ordering), no tensor leaks.
 * Deterministic (fixed seeds, no statistics): tolerances are float32 round-off.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { RandomStream } from '../src/core/random.js';
import type { Bijector } from '../src/flows/bijector.js';
import { AffineDiagonal } from '../src/flows/affine.js';
import { IafAffine } from '../src/flows/iaf.js';
import { FastIafAffine } from '../src/flows/fastIaf.js';
import { Permute } from '../src/flows/permute.js';
import { Chain } from '../src/flows/chain.js';
import { Made, madeMasks } from '../src/flows/made.js';
import { Flow } from '../src/flows/flow.js';
import { createDefaultFlow } from '../src/flows/defaults.js';
import { DimensionError, ParameterError } from '../src/core/errors.js';
import { checkBijectorContract, randomizeVariables, points } from './helpers/bijectorContract.js';

beforeAll(async () => {
  await initBackend('wasm');
});

interface Case {
  name: string;
  make: () => Bijector;
  /** For autoregressive bijectors: y_i may depend on z_j only if pos[j] <= pos[i]. */
  order?: number[];
}

const D = 5;
const cases: Case[] = [
  { name: 'affine-diagonal', make: () => new AffineDiagonal({ dim: D, loc: [1, -2, 0.5, 0, 3], scale: [0.5, 2, 1, 3, 0.2] }) },
  { name: 'permute', make: () => new Permute({ perm: [2, 0, 4, 1, 3] }) },
  { name: 'iaf-affine', make: () => new IafAffine({ dim: D, hidden: [16, 12], seed: 1 }), order: [1, 2, 3, 4, 5] },
  { name: 'iaf-affine fused', make: () => new FastIafAffine({ dim: D, hidden: [16, 12], seed: 1 }), order: [1, 2, 3, 4, 5] },
  { name: 'iaf-affine (shuffled order)', make: () => new IafAffine({ dim: D, hidden: [8], order: [3, 1, 5, 2, 4], seed: 2 }), order: [3, 1, 5, 2, 4] },
  { name: 'iaf-affine (dim 1)', make: () => new IafAffine({ dim: 1, hidden: [4], seed: 3 }), order: [1] },
  {
    name: 'chain',
    make: () => new Chain([new AffineDiagonal({ dim: D }), new IafAffine({ dim: D, hidden: [8, 8], seed: 4 }), Permute.reverse(D), new IafAffine({ dim: D, hidden: [8], seed: 5 })]),
  },
];

describe.each(cases)('bijector contract: $name', ({ make, order }) => {
  it('round trip, cancelling log-dets, brute-force Jacobian, triangularity, no leaks', () => {
    const b = make();
    randomizeVariables(b.trainableVariables(), 'w', 0.4, [b]);
    checkBijectorContract(b, { order });
  });
});

describe('MADE masks', () => {
  it('output block j depends only on inputs earlier in the ordering, for many dims and depths', () => {
    for (const dim of [1, 2, 3, 7]) {
      for (const hidden of [[3], [5, 4], [9, 2, 6]]) {
        const rng = new RandomStream(`ord${dim}/${hidden.join('-')}`);
        const order = Array.from({ length: dim }, (_, i) => i + 1);
        for (let i = dim - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        // Connectivity by boolean matrix products of the masks: path[a][out] > 0 iff output `out` can see input a.
        const masks = madeMasks(order, hidden, 2);
        let reach: number[][] = order.map((_, a) => order.map((__, b) => (a === b ? 1 : 0)));
        let width = dim;
        reach = Array.from({ length: dim }, (_, a) => Array.from({ length: width }, (__, k) => (a === k ? 1 : 0)));
        for (const { shape, mask } of masks) {
          const [fi, fo] = shape;
          const next = Array.from({ length: dim }, () => new Array(fo).fill(0));
          for (let a = 0; a < dim; a++) for (let k = 0; k < fi; k++) if (reach[a][k]) for (let o = 0; o < fo; o++) if (mask[k * fo + o]) next[a][o] = 1;
          reach = next;
          width = fo;
        }
        for (let a = 0; a < dim; a++) {
          for (let blk = 0; blk < 2; blk++) {
            for (let j = 0; j < dim; j++) {
              const sees = reach[a][blk * dim + j] === 1;
              if (order[a] >= order[j]) expect(sees).toBe(false);
            }
          }
        }
        // With a hidden layer at least as wide as dim-1, every allowed connection exists.
        if (hidden.every((h) => h >= dim - 1)) {
          for (let a = 0; a < dim; a++) for (let j = 0; j < dim; j++) if (order[a] < order[j]) expect(reach[a][j]).toBe(1);
        }
      }
    }
  });

  it('rejects a bad ordering with a ParameterError', () => {
    expect(() => new Made({ dim: 3, hidden: [4], order: [1, 1, 2] })).toThrow(ParameterError);
  });
});

describe('Flow', () => {
  it("sample's log q equals logProb at the same points, and the seed fixes the draws", () => {
    const flow = createDefaultFlow(4, { layers: 3, hidden: [16, 16], seed: 7 });
    randomizeVariables(flow.trainableVariables(), 'flow', 0.3, flow.bijectors);
    const before = tf.memory().numTensors;
    const s = flow.sample(50, 11);
    const lp = flow.logProb(s.x);
    const a = s.logq.dataSync();
    const b = lp.dataSync();
    for (let i = 0; i < 50; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-3 * (1 + Math.abs(a[i])));
    const again = flow.sampleArrays(50, 11, 16);
    const xs = s.x.dataSync();
    for (let i = 0; i < xs.length; i++) expect(again.x[i]).toBeCloseTo(xs[i], 5);
    const lq2 = flow.logProbArrays(again.x, 13);
    for (let i = 0; i < 50; i++) expect(Math.abs(lq2[i] - a[i])).toBeLessThan(1e-3 * (1 + Math.abs(a[i])));
    // The widened flow (base N(0, τ² I)): one-pass log q equals the inverse-direction density.
    const w = flow.sample(50, 12, 1.3);
    const wl = flow.logProb(w.x, 1.3);
    const wa = w.logq.dataSync();
    const wb = wl.dataSync();
    for (let i = 0; i < 50; i++) expect(Math.abs(wa[i] - wb[i])).toBeLessThan(1e-3 * (1 + Math.abs(wa[i])));
    tf.dispose([s.x, s.logq, lp, w.x, w.logq, wl]);
    expect(tf.memory().numTensors).toBe(before);
    flow.dispose();
  });

  it('logq integrates like a density: E_q[exp(logp0 - logq)] = 1 for a standard normal p0', () => {
    // Importance identity with a known normaliser; 20000 draws from a flow near N(0, I) have
    // weights with small variance, so the tolerance (0.03) is > 10 standard errors.
    const flow = createDefaultFlow(3, { layers: 2, hidden: [8], seed: 1 });
    const { x, logq } = flow.sampleArrays(20000, 5);
    let s = 0;
    for (let i = 0; i < 20000; i++) {
      let q = 0;
      for (let d = 0; d < 3; d++) q += x[i * 3 + d] ** 2;
      s += Math.exp(-0.5 * q - 1.5 * Math.log(2 * Math.PI) - logq[i]);
    }
    expect(Math.abs(s / 20000 - 1)).toBeLessThan(0.03);
    flow.dispose();
  });

  it('wrong dimensions give DimensionErrors naming the problem', () => {
    const flow = createDefaultFlow(2, { layers: 1, hidden: [4] });
    const bad = tf.zeros([3, 5]) as tf.Tensor2D;
    expect(() => flow.logProb(bad)).toThrow(DimensionError);
    expect(() => new Chain([new AffineDiagonal({ dim: 2 }), new AffineDiagonal({ dim: 3 })])).toThrow(/bijector 0 .*dim 2.*bijector 1.*dim 3/);
    expect(() => new Permute({ perm: [0, 0] })).toThrow(ParameterError);
    bad.dispose();
    flow.dispose();
  });
});
