/**
 * The bijector contract (test/helpers/bijectorContract.ts) over every layer family of UDL §16.3
 * and every transformer, on both engines: round trip, cancelling log-dets, log|det J| against a
 * brute-force Jacobian and finite differences, triangularity where claimed, heap against tfjs
 * autodiff (values and every gradient), no leaks. Then the MADE masks and the Flow itself.
 * Deterministic (fixed seeds, no statistics): tolerances are float32 round-off.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { RandomStream } from '../src/core/random.js';
import type { Bijector } from '../src/flows/bijectors/bijector.js';
import { AffineDiagonal, ActNorm } from '../src/flows/bijectors/affineDiagonal.js';
import { Autoregressive } from '../src/flows/bijectors/autoregressive.js';
import { Coupling } from '../src/flows/bijectors/coupling.js';
import { Elementwise } from '../src/flows/bijectors/elementwise.js';
import { LuLinear } from '../src/flows/bijectors/luLinear.js';
import { Permute } from '../src/flows/bijectors/permute.js';
import { AdditiveCoupling } from '../src/flows/bijectors/additiveCoupling.js';
import { IResNetBlock } from '../src/flows/bijectors/iresnet.js';
import { MultiScale } from '../src/flows/bijectors/multiScale.js';
import { Made, madeMasks } from '../src/flows/nn/made.js';
import { Flow } from '../src/flows/flow.js';
import { createDefaultFlow } from '../src/flows/builder.js';
import { DimensionError, ParameterError } from '../src/core/errors.js';
import { checkBijectorContract, randomizeParams } from './helpers/bijectorContract.js';

beforeAll(async () => {
  await initBackend('wasm');
});

interface Case {
  name: string;
  make: () => Bijector;
  order?: number[];
  diagonal?: boolean;
  pointSd?: number;
}

const D = 5;
const shuffled = [3, 1, 5, 2, 4];
const spline = { kind: 'rq-spline' as const, bins: 5, bound: 2.5 };
const pwl = { kind: 'pw-linear' as const, bins: 6, bound: 2.5 };
const cases: Case[] = [
  { name: 'affine-diagonal', make: () => new AffineDiagonal({ dim: D, loc: [1, -2, 0.5, 0, 3], scale: [0.5, 2, 1, 3, 0.2] }), diagonal: true },
  { name: 'actnorm', make: () => new ActNorm({ dim: D }), diagonal: true },
  { name: 'permute', make: () => new Permute({ perm: [2, 0, 4, 1, 3] }) },
  { name: 'lu-linear', make: () => new LuLinear({ dim: D, perm: 'random', seed: 3 }) },
  { name: 'lu-linear (dim 1)', make: () => new LuLinear({ dim: 1 }) },
  { name: 'iaf gated-affine', make: () => new Autoregressive({ dim: D, hidden: [16, 12], seed: 1 }), order: [1, 2, 3, 4, 5] },
  { name: 'iaf gated-affine (shuffled order)', make: () => new Autoregressive({ dim: D, hidden: [8], order: shuffled, seed: 2 }), order: shuffled },
  { name: 'iaf gated-affine (dim 1)', make: () => new Autoregressive({ dim: 1, hidden: [4], seed: 3 }), order: [1] },
  { name: 'iaf affine', make: () => new Autoregressive({ dim: D, hidden: [12], transformer: { kind: 'affine' }, seed: 4 }), order: [1, 2, 3, 4, 5] },
  { name: 'maf affine', make: () => new Autoregressive({ dim: D, hidden: [12, 10], direction: 'maf', transformer: { kind: 'affine' }, order: shuffled, seed: 5 }), order: shuffled },
  { name: 'maf gated-affine', make: () => new Autoregressive({ dim: D, hidden: [12], direction: 'maf', seed: 6 }), order: [1, 2, 3, 4, 5] },
  { name: 'iaf rq-spline', make: () => new Autoregressive({ dim: D, hidden: [12], transformer: spline, seed: 7 }), order: [1, 2, 3, 4, 5], pointSd: 1.5 },
  { name: 'maf rq-spline', make: () => new Autoregressive({ dim: D, hidden: [12, 8], direction: 'maf', transformer: spline, order: shuffled, seed: 8 }), order: shuffled, pointSd: 1.5 },
  { name: 'iaf pw-linear', make: () => new Autoregressive({ dim: D, hidden: [12], transformer: pwl, seed: 9 }), order: [1, 2, 3, 4, 5], pointSd: 1.5 },
  { name: 'coupling affine (alternate)', make: () => new Coupling({ dim: D, hidden: [16, 16], seed: 10 }) },
  { name: 'coupling affine (random, parity 1)', make: () => new Coupling({ dim: D, hidden: [8], partition: 'random', parity: 1, seed: 11 }) },
  { name: 'coupling rq-spline (half)', make: () => new Coupling({ dim: D, hidden: [12], partition: 'half', transformer: spline, seed: 12 }), pointSd: 1.5 },
  { name: 'coupling pw-linear', make: () => new Coupling({ dim: D, hidden: [12], transformer: pwl, seed: 13 }), pointSd: 1.5 },
  { name: 'coupling (dim 2)', make: () => new Coupling({ dim: 2, hidden: [8], seed: 14 }) },
  { name: 'maf affine, bounded conditioner inputs', make: () => new Autoregressive({ dim: D, hidden: [12], direction: 'maf', transformer: { kind: 'affine' }, inputBound: 0.5, seed: 18 }) },
  { name: 'coupling rq-spline, bounded conditioner inputs', make: () => new Coupling({ dim: D, hidden: [12], transformer: spline, inputBound: 0.5, seed: 17 }), pointSd: 1.5 },
  { name: 'elementwise rq-spline', make: () => new Elementwise({ dim: D, transformer: spline }), diagonal: true, pointSd: 1.5 },
  { name: 'elementwise pw-linear', make: () => new Elementwise({ dim: D, transformer: pwl }), diagonal: true, pointSd: 1.5 },
  { name: 'elementwise affine', make: () => new Elementwise({ dim: D, transformer: { kind: 'affine' } }), diagonal: true },
  { name: 'additive coupling (i-RevNet)', make: () => new AdditiveCoupling({ dim: D, hidden: [12, 12], seed: 15 }) },
  { name: 'additive coupling (dim 2)', make: () => new AdditiveCoupling({ dim: 2, hidden: [8], seed: 16 }) },
  { name: 'iresnet lipswish (explicit density side)', make: () => new IResNetBlock({ dim: D, hidden: [16, 12], lipschitz: 0.7, seed: 17 }) },
  { name: 'iresnet elu (explicit sampling side)', make: () => new IResNetBlock({ dim: D, hidden: [12], lipschitz: 0.5, activation: 'elu', explicit: 'sampling', seed: 18 }) },
  { name: 'iresnet (dim 1)', make: () => new IResNetBlock({ dim: 1, hidden: [8], lipschitz: 0.6, seed: 19 }) },
  {
    name: 'multi-scale (5 → 3)',
    make: () => new MultiScale({ dim: D, seed: 20, levels: [[{ type: 'actnorm' }, { type: 'coupling', hidden: [8] }, { type: 'lu-linear' }], [{ type: 'coupling', hidden: [8], parity: 1 }, { type: 'affine-diagonal' }]] }),
  },
  {
    name: 'multi-scale (7 → 4 → 2, with an iresnet level)',
    make: () =>
      new MultiScale({
        dim: 7,
        seed: 21,
        levels: [[{ type: 'coupling', hidden: [8] }, { type: 'elementwise', transformer: { kind: 'affine' } }], [{ type: 'iresnet', hidden: [8], lipschitz: 0.6 }, { type: 'lu-linear' }], [{ type: 'coupling', hidden: [6] }]],
      }),
  },
  { name: 'multi-scale (dim 1, one level)', make: () => new MultiScale({ dim: 1, levels: [[{ type: 'elementwise', transformer: spline }, { type: 'affine-diagonal' }]] }), diagonal: true },
];

describe.each(cases)('bijector contract: $name', ({ make, order, diagonal, pointSd }) => {
  it('round trip, cancelling log-dets, brute-force Jacobian, triangularity, heap = tfjs, no leaks', () => {
    checkBijectorContract(make(), { order, diagonal, pointSd });
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
    expect(() => new Made({ dim: 3, hidden: [4], order: [1, 1, 2], outputBlocks: 2 })).toThrow(ParameterError);
  });
});

describe('Flow', () => {
  it("sample's log q equals logProb at the same points, and the seed fixes the draws", () => {
    const flow = createDefaultFlow(4, { layers: 3, hidden: [16, 16], seed: 7 });
    randomizeParams(flow, 'flow', 0.3);
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
    expect(() => new Flow([new AffineDiagonal({ dim: 2 }), new AffineDiagonal({ dim: 3 })])).toThrow(/bijector 0 .*dim 2.*bijector 1.*dim 3/);
    expect(() => new Coupling({ dim: 1, hidden: [4] })).toThrow(/proper, non-empty subset/);
    expect(() => new Coupling({ dim: 2, hidden: [4], inputBound: 0 })).toThrow(/coupling inputBound = 0: must be positive and finite/);
    expect(() => new Autoregressive({ dim: 2, hidden: [4], inputBound: Infinity })).toThrow(/autoregressive inputBound = Infinity/);
    expect(() => new Permute({ perm: [0, 0] })).toThrow(ParameterError);
    bad.dispose();
    flow.dispose();
  });
});
