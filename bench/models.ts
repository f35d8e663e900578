/**
 * Written-once models against hand-written float64 densities with hand-derived gradients on the
 * same posteriors (eight schools, kidiq regression, GARCH(1,1) recursion), in one run:
 * - value + gradient evaluations per second at one point (the MCMC path), and their ratio;
 * - rows per second of the batched float64 path (flow training) against the hand-written
 *   gradient row by row, and against a batched tfjs logProb + tf.valueAndGrad (float32) written
 *   by hand for the same posterior: the fastest a tfjs version of the model could be.
 * Both sides are checked to agree before timing, and timed in alternating slices (best slice of
 * each). Run alone: `npx tsx bench/models.ts`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { loadModelTarget } from '../src/models/load.js';
import type { ModelTarget } from '../src/models/model.js';
import { RandomStream } from '../src/core/random.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOG_2PI = Math.log(2 * Math.PI);
const sigm = (x: number) => 1 / (1 + Math.exp(-x));

type Hand = (u: Float64Array, g: Float64Array) => number;

/** eight schools non-centred, unconstrained (theta_trans[8], mu, log tau), Stan's ~ form. */
function eightSchools(d: { J: number; y: number[]; sigma: number[] }): Hand {
  return (u, g) => {
    const J = d.J, mu = u[J], tau = Math.exp(u[J + 1]);
    let lp = u[J + 1];
    let gmu = 0, gtau = 0;
    for (let j = 0; j < J; j++) {
      const t = u[j];
      lp -= 0.5 * t * t;
      const th = mu + tau * t;
      const s = d.sigma[j];
      const z = (d.y[j] - th) / s;
      lp -= 0.5 * z * z;
      const dth = z / s;
      g[j] = -t + dth * tau;
      gmu += dth;
      gtau += dth * t;
    }
    lp -= (0.5 * mu * mu) / 25;
    gmu -= mu / 25;
    const r = tau / 5;
    lp -= Math.log1p(r * r);
    gtau -= (2 * r) / (5 * (1 + r * r));
    g[J] = gmu;
    g[J + 1] = gtau * tau + 1;
    return lp;
  };
}

/** kidiq interaction regression: beta[4], log sigma. */
function kidiq(d: { N: number; kid_score: number[]; mom_hs: number[]; mom_iq: number[] }): Hand {
  const y = Float64Array.from(d.kid_score), hs = Float64Array.from(d.mom_hs), iq = Float64Array.from(d.mom_iq);
  return (u, g) => {
    const [b0, b1, b2, b3] = u;
    const ls = u[4], s = Math.exp(ls);
    let ss = 0, g0 = 0, g1 = 0, g2 = 0, g3 = 0;
    for (let i = 0; i < d.N; i++) {
      const inter = hs[i] * iq[i];
      const r = y[i] - (b0 + b1 * hs[i] + b2 * iq[i] + b3 * inter);
      ss += r * r;
      g0 += r;
      g1 += r * hs[i];
      g2 += r * iq[i];
      g3 += r * inter;
    }
    const is2 = 1 / (s * s);
    const q = s / 2.5;
    const lp = -0.5 * ss * is2 - d.N * ls - Math.log1p(q * q) + ls;
    g[0] = g0 * is2;
    g[1] = g1 * is2;
    g[2] = g2 * is2;
    g[3] = g3 * is2;
    g[4] = ss * is2 - d.N - (2 * q * q) / (1 + q * q) + 1;
    return lp;
  };
}

/** GARCH(1,1): mu, log alpha0, logit alpha1, logit(beta1 / (1 − alpha1)); forward-mode sensitivities of σ². */
function garch(d: { T: number; y: number[]; sigma1: number }): Hand {
  const y = Float64Array.from(d.y);
  return (u, g) => {
    const mu = u[0], a0 = Math.exp(u[1]), s1 = sigm(u[2]), a1 = s1, s2 = sigm(u[3]), b1 = (1 - a1) * s2;
    let lp = u[1] + Math.log(s1) + Math.log(1 - s1) + Math.log(1 - a1) + Math.log(s2) + Math.log(1 - s2);
    let gmu = 0, ga0 = 0, ga1 = 0, gb1 = 0;
    let v = d.sigma1 * d.sigma1;
    let dmu = 0, da0 = 0, da1 = 0, db1 = 0;
    {
      const z = (y[0] - mu) / d.sigma1;
      lp += -0.5 * z * z - Math.log(d.sigma1);
      gmu += z / d.sigma1;
    }
    for (let t = 1; t < d.T; t++) {
      const e = y[t - 1] - mu;
      const nv = a0 + a1 * e * e + b1 * v;
      const ndmu = -2 * a1 * e + b1 * dmu, nda0 = 1 + b1 * da0, nda1 = e * e + b1 * da1, ndb1 = v + b1 * db1;
      const r = y[t] - mu;
      lp += (-0.5 * r * r) / nv - 0.5 * Math.log(nv);
      const dv = (0.5 * r * r) / (nv * nv) - 0.5 / nv;
      gmu += r / nv + dv * ndmu;
      ga0 += dv * nda0;
      ga1 += dv * nda1;
      gb1 += dv * ndb1;
      dmu = ndmu; da0 = nda0; da1 = nda1; db1 = ndb1; v = nv;
    }
    g[0] = gmu;
    g[1] = ga0 * a0 + 1;
    // alpha1 = s1, beta1 = (1 − s1) s2; Jacobian terms log s1 + 2 log(1 − s1) + log s2 + log(1 − s2).
    g[2] = (ga1 - gb1 * s2) * s1 * (1 - s1) + (1 - s1) - 2 * s1;
    g[3] = gb1 * (1 - a1) * s2 * (1 - s2) + (1 - s2) - s2;
    return lp;
  };
}

/** Batched tfjs versions (float32), written by hand: the upper bound of any tfjs compilation. */
function tfjsKidiq(d: { kid_score: number[]; mom_hs: number[]; mom_iq: number[] }): (x: tf.Tensor2D) => tf.Tensor1D {
  const N = d.kid_score.length;
  const X = tf.keep(tf.tensor2d(d.mom_hs.flatMap((h, i) => [1, h, d.mom_iq[i], h * d.mom_iq[i]]), [N, 4]));
  const Y = tf.keep(tf.tensor1d(d.kid_score));
  return (x) => tf.tidy(() => {
    const beta = x.slice([0, 0], [-1, 4]);
    const ls = x.slice([0, 4], [-1, 1]).reshape([-1]);
    const mu = tf.matMul(beta, X, false, true);
    const r = tf.sub(Y, mu).div(tf.exp(ls).expandDims(1));
    const q = tf.exp(ls).div(2.5);
    return tf.sub(tf.mul(-0.5, tf.sum(tf.square(r), 1)), tf.mul(N - 1, ls)).sub(tf.log1p(tf.square(q))) as tf.Tensor1D;
  });
}
function tfjsGarch(d: { T: number; y: number[]; sigma1: number }): (x: tf.Tensor2D) => tf.Tensor1D {
  return (x) => tf.tidy(() => {
    const n = x.shape[0];
    const mu = x.slice([0, 0], [-1, 1]).reshape([n]);
    const a0 = tf.exp(x.slice([0, 1], [-1, 1]).reshape([n]));
    const s1 = tf.sigmoid(x.slice([0, 2], [-1, 1]).reshape([n]));
    const s2 = tf.sigmoid(x.slice([0, 3], [-1, 1]).reshape([n]));
    const b1 = tf.mul(tf.sub(1, s1), s2);
    let lp = tf.add(tf.log(a0), tf.add(tf.add(tf.log(s1), tf.mul(2, tf.log(tf.sub(1, s1)))), tf.add(tf.log(s2), tf.log(tf.sub(1, s2)))));
    let v: tf.Tensor = tf.fill([n], d.sigma1 * d.sigma1);
    lp = tf.add(lp, tf.mul(-0.5, tf.square(tf.div(tf.sub(d.y[0], mu), d.sigma1))));
    for (let t = 1; t < d.T; t++) {
      v = tf.add(tf.add(a0, tf.mul(s1, tf.square(tf.sub(d.y[t - 1], mu)))), tf.mul(b1, v));
      lp = tf.add(lp, tf.sub(tf.mul(-0.5, tf.div(tf.square(tf.sub(d.y[t], mu)), v)), tf.mul(0.5, tf.log(v))));
    }
    return lp as tf.Tensor1D;
  });
}

/** Calls per second of f over `seconds` (after a warm-up). */
function rate(f: () => void, seconds: number): number {
  const until = performance.now() + 200;
  while (performance.now() < until) f();
  let k = 0;
  const t0 = performance.now();
  const stop = t0 + seconds * 1000;
  while (performance.now() < stop) {
    for (let i = 0; i < 10; i++) f();
    k += 10;
  }
  return k / ((performance.now() - t0) / 1000);
}

/**
 * Calls per second of each of `fs`, measured in alternating slices of `seconds / rounds` and
 * taking each one's best slice: on a shared VM the load changes within seconds, and alternating
 * gives both sides of a ratio the same chances.
 */
function bestRates(fs: (() => void)[], seconds: number, rounds = 10): number[] {
  const best = fs.map(() => 0);
  for (let r = 0; r < rounds; r++) fs.forEach((f, i) => (best[i] = Math.max(best[i], rate(f, seconds / rounds))));
  return best;
}

export interface ModelBenchRow {
  posterior: string;
  dim: number;
  instructions: number;
  gradPerSecModel: number;
  gradPerSecHand: number;
  ratio: number;
  batchRowsPerSecModel: number;
  batchRowsPerSecHand: number;
  batchRatio: number;
  batchRowsPerSecTfjs: number | null;
  maxRelDiff: number;
}

export async function benchModels(opts: { seconds?: number } = {}): Promise<ModelBenchRow[]> {
  await initBackend();
  const seconds = opts.seconds ?? 2;
  const rows: ModelBenchRow[] = [];
  const cases: { name: string; hand: (d: never) => Hand; tfjs?: (d: never) => (x: tf.Tensor2D) => tf.Tensor1D }[] = [
    { name: 'eight_schools_noncentered', hand: eightSchools },
    { name: 'kidiq_interaction', hand: kidiq, tfjs: tfjsKidiq },
    { name: 'garch11', hand: garch, tfjs: tfjsGarch },
  ];
  for (const c of cases) {
    const dir = join(ROOT, 'examples', 'posteriors', c.name);
    const data = JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8'));
    const t: ModelTarget = await loadModelTarget(join(dir, 'model.mjs'), join(dir, 'data.json'));
    const hand = c.hand(data as never);
    const dim = t.dim;
    // 64 points near the posterior (small draws around the reference means would do; these are seeded normals at scale 0.3).
    const rng = new RandomStream(`bench-models/${c.name}`);
    const x0 = t.unconstrain(Object.fromEntries(t.layout.map((p) => [p.name, refMean(dir, p.name, p.shape)])));
    const pts = Array.from({ length: 64 }, () => Float64Array.from(x0, (v) => v + 0.05 * rng.normal()));
    let maxRel = 0;
    const g1 = new Float64Array(dim), g2 = new Float64Array(dim);
    const lp0 = hand(pts[0], g1) - t.gradLogDensity(pts[0], g2);
    for (const p of pts) {
      const a = hand(p, g1), b = t.gradLogDensity(p, g2);
      maxRel = Math.max(maxRel, Math.abs(a - b - lp0) / Math.max(1, Math.abs(a)));
      for (let j = 0; j < dim; j++) maxRel = Math.max(maxRel, Math.abs(g1[j] - g2[j]) / Math.max(1, Math.abs(g1[j])));
    }
    let k = 0;
    let k2 = 0;
    const [gm, gh] = bestRates([() => t.gradLogDensity(pts[k++ & 63], g2), () => hand(pts[k2++ & 63], g1)], seconds);
    const n = 1024;
    const xb = new Float64Array(n * dim);
    for (let r = 0; r < n; r++) xb.set(pts[r & 63], r * dim);
    const lp = new Float64Array(n), gb = new Float64Array(n * dim);
    const [bm, bh] = bestRates(
      [
        () => t.valueAndGradBatch!(xb, n, lp, gb),
        () => {
          for (let r = 0; r < n; r++) {
            lp[r] = hand(xb.subarray(r * dim, (r + 1) * dim), g1);
            gb.set(g1, r * dim);
          }
        },
      ],
      seconds,
    ).map((v) => n * v);
    let bt: number | null = null;
    if (c.tfjs) {
      const f = c.tfjs(data as never);
      const xt = tf.tensor2d(Float32Array.from(xb), [n, dim]);
      bt = n * rate(() => {
        const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => f(z as tf.Tensor2D))(xt);
        value.dataSync();
        grad.dataSync();
        tf.dispose([value, grad]);
      }, seconds);
      xt.dispose();
    }
    rows.push({
      posterior: c.name, dim, instructions: t.program.instructionCount,
      gradPerSecModel: gm, gradPerSecHand: gh, ratio: gm / gh,
      batchRowsPerSecModel: bm, batchRowsPerSecHand: bh, batchRatio: bm / bh, batchRowsPerSecTfjs: bt, maxRelDiff: maxRel,
    });
    console.log(`${c.name}: one point ${gm.toExponential(2)}/s vs hand ${gh.toExponential(2)}/s (ratio ${(gm / gh).toFixed(2)}); batch ${bm.toExponential(2)} rows/s vs hand ${bh.toExponential(2)} (ratio ${(bm / bh).toFixed(2)})${bt ? `, tfjs ${bt.toExponential(2)} rows/s` : ''}; max rel diff ${maxRel.toExponential(1)}`);
  }
  return rows;
}

function refMean(dir: string, name: string, shape: readonly number[]): number | number[] {
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')).variables as Record<string, { mean: number }>;
  if (shape.length === 0) return ref[name]?.mean ?? 0.1;
  return Array.from({ length: shape[0] }, (_, i) => ref[`${name}[${i + 1}]`]?.mean ?? 0.1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { writeResults } = await import('./run.js');
  const t0 = performance.now();
  const res = await benchModels();
  console.log(await writeResults('models', res, (performance.now() - t0) / 1000));
}
