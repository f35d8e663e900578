/**
 * A candidate of bench/modeCovering.ts (`--methods fab`), not the default (docs/flows.md says
 * what was measured):
 * Flow Annealed Importance Sampling Bootstrap with a prioritised replay buffer (Midgley et al.
 * 2023, "Flow annealed importance sampling bootstrap", ICLR, https://arxiv.org/abs/2208.01893),
 * on the flow engine.
 *
 * FAB minimises the α = 2 divergence D_2(p‖q) = log ∫ p²/q, whose gradient −E_{p²/q}[∇ log q] needs
 * samples of p²/q. Each iteration
 *   1. runs AIS from q toward p²/q through K densities q^{1−2β} p̃^{2β}, β = k/K, one HMC
 *      transition each, in the flow's latent space (as NeuTra): there q is N(0, I) and the path is
 *      log N(z) + 2β log w(z), w = p̃(f(z)) / q(f(z)), so each leapfrog step is one differentiated
 *      *sampling* pass (∇_z log w from the engine's input gradient). The AIS log weight is
 *      Σ_k 2(β_k − β_{k−1}) log w(z_{k−1});
 *   2. appends the end points (x, log W, log q) to a FIFO buffer;
 *   3. takes `gradSteps` Adam steps on minibatches drawn from the buffer ∝ W (prioritised replay),
 *      on −mean(w_adj · log q(x)) with w_adj = q_old(x)/q(x) clipped (the weight correction for
 *      a q that moved since x was stored, the α = 2 case of their Alg. 3), and updates the drawn
 *      entries' log W and log q_old.
 */
import type { Flow } from '../src/flows/flow.js';
import type { Target } from '../src/targets/target.js';
import { targetValueAndGrad } from '../src/targets/batch.js';
import { Adam, gradientNorm } from '../src/flows/train/adam.js';
import { learningRateAt } from '../src/flows/train/reverseKL.js';
import { WeightedPoints } from '../src/flows/train/weightedLikelihood.js';
import { Cooperative } from '../src/core/cooperative.js';
import { RandomStream } from '../src/core/random.js';

export interface FabOptions {
  /** AIS particles per iteration (default 256). */
  batchSize?: number;
  /** Intermediate densities K (default 4). */
  aisSteps?: number;
  /** Leapfrog steps per HMC transition (default 5). */
  leapfrog?: number;
  /** Adam steps per AIS batch (default 4), on buffer minibatches of `trainBatch` (default 512). */
  gradSteps?: number;
  trainBatch?: number;
  /** Buffer capacity in points (default 50 000) and the fill before training starts (2 560). */
  bufferSize?: number;
  bufferMin?: number;
  learningRate?: number;
  wAdjustClip?: number;
  clipNorm?: number;
  seed?: number | string;
  maxSeconds: number;
  signal?: AbortSignal;
}

export interface FabResult {
  iterations: number;
  gradSteps: number;
  seconds: number;
  /** Per iteration (subsampled): mean HMC acceptance, and Kish ESS/N of the AIS weights. */
  history: { iteration: number; acceptance: number; aisEss: number }[];
}

export async function trainFab(flow: Flow, target: Target, o: FabOptions): Promise<FabResult> {
  const D = flow.dim;
  const n = o.batchSize ?? 256;
  const K = o.aisSteps ?? 4;
  const L = o.leapfrog ?? 5;
  const gradSteps = o.gradSteps ?? 4;
  const tb = o.trainBatch ?? 512;
  const cap = o.bufferSize ?? 50_000;
  const minFill = o.bufferMin ?? 2_560;
  const clipW = o.wAdjustClip ?? 10;
  const peak = o.learningRate ?? 3e-3;
  const rng = new RandomStream(o.seed ?? 0).derive('fab');
  const engine = flow.activeEngine();
  const adam = new Adam(flow.store);
  const sampling = flow.samplingProgram();
  const density = flow.densityProgram();
  const coop = new Cooperative(o.signal, undefined, 100, 1);
  const maxMs = o.maxSeconds * 1000;
  const t0 = performance.now();
  const stepSizes = new Float64Array(K).fill(0.5 / Math.pow(D, 0.25));
  const bx = new Float64Array(cap * D);
  const bLogW = new Float64Array(cap);
  const bLogQ = new Float64Array(cap);
  let size = 0;
  let next = 0;
  const history: FabResult['history'] = [];
  let gradTotal = 0;

  /** log w(z) = log p̃(f(z)) − log q(f(z)) per row and its gradient in z; x and log q too. */
  const logw = (z: Float64Array) => {
    let logp: Float64Array = new Float64Array(0);
    let x = new Float64Array(0);
    let logq = new Float64Array(0);
    const r = engine.differentiate(
      flow.store,
      sampling,
      [{ values: z, rows: n, cols: D, requiresGrad: true }],
      ([xs, lq]) => {
        const t = targetValueAndGrad(target, xs, n, D);
        logp = t.logp;
        x = Float64Array.from(xs);
        logq = Float64Array.from(lq);
        for (let i = 0; i < t.grad.length; i++) if (!Number.isFinite(t.grad[i])) t.grad[i] = 0;
        return [t.grad, new Float64Array(n).fill(-1)];
      },
      { paramGrads: false },
    );
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = logp[i] - logq[i];
      v[i] = Number.isFinite(u) ? u : -Infinity;
    }
    return { v, g: r.inputGrads[0]!, x, logq };
  };

  let it = 0;
  for (; performance.now() - t0 < maxMs && !o.signal?.aborted; it++) {
    // 1. AIS toward p²/q in latent space.
    const z = rng.fillNormal(new Float64Array(n * D));
    let cur = logw(z);
    const logW = new Float64Array(n);
    let acc = 0;
    for (let k = 1; k <= K; k++) {
      const b = k / K;
      for (let i = 0; i < n; i++) logW[i] += (2 / K) * cur.v[i];
      const eps = stepSizes[k - 1];
      const p0 = rng.fillNormal(new Float64Array(n * D));
      const z1 = Float64Array.from(z);
      const p1 = Float64Array.from(p0);
      let now = cur;
      const kick = (h: number) => {
        for (let q = 0; q < n * D; q++) p1[q] += h * (2 * b * now.g[q] - z1[q]);
      };
      kick(0.5 * eps);
      for (let s = 0; s < L; s++) {
        for (let q = 0; q < n * D; q++) z1[q] += eps * p1[q];
        now = logw(z1);
        kick(s === L - 1 ? 0.5 * eps : eps);
      }
      let accK = 0;
      for (let i = 0; i < n; i++) {
        let h0 = -2 * b * cur.v[i];
        let h1 = -2 * b * now.v[i];
        for (let j = 0; j < D; j++) {
          const q = i * D + j;
          h0 += 0.5 * (z[q] * z[q] + p0[q] * p0[q]);
          h1 += 0.5 * (z1[q] * z1[q] + p1[q] * p1[q]);
        }
        const a = Number.isFinite(h1) ? Math.min(1, Math.exp(h0 - h1)) : 0;
        accK += a / n;
        if (rng.uniform() < a) {
          for (let j = 0; j < D; j++) z[i * D + j] = z1[i * D + j];
          cur.v[i] = now.v[i];
          for (let j = 0; j < D; j++) {
            cur.g[i * D + j] = now.g[i * D + j];
            cur.x[i * D + j] = now.x[i * D + j];
          }
          cur.logq[i] = now.logq[i];
        }
      }
      stepSizes[k - 1] *= Math.exp(accK - 0.65);
      acc += accK / K;
    }
    // 2. Into the buffer.
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(logW[i]) || !Number.isFinite(cur.logq[i])) continue;
      bx.set(cur.x.subarray(i * D, (i + 1) * D), next * D);
      bLogW[next] = logW[i];
      bLogQ[next] = cur.logq[i];
      next = (next + 1) % cap;
      size = Math.min(size + 1, cap);
    }
    let s1 = 0;
    let s2 = 0;
    let m = -Infinity;
    for (const v of logW) m = Math.max(m, v);
    for (const v of logW) {
      s1 += Math.exp(v - m);
      s2 += Math.exp(2 * (v - m));
    }
    if (it % 10 === 0) history.push({ iteration: it, acceptance: acc, aisEss: (s1 * s1) / s2 / n });
    // 3. Prioritised replay.
    if (size >= minFill) {
      for (let g = 0; g < gradSteps; g++) {
        const buf = new WeightedPoints(bx.subarray(0, size * D), D, bLogW.subarray(0, size));
        const idx = Int32Array.from({ length: tb }, () => buf.draw(rng));
        const xb = new Float64Array(tb * D);
        idx.forEach((i, r) => xb.set(bx.subarray(i * D, (i + 1) * D), r * D));
        let newQ: Float32Array = new Float32Array(0);
        const r = engine.differentiate(flow.store, density, [{ values: xb, rows: tb, cols: D }], ([, lq]) => {
          newQ = lq;
          return [null, Float64Array.from(idx, (i, row) => -Math.min(clipW, Math.exp(bLogQ[i] - lq[row])) / tb)];
        });
        const norm = gradientNorm(r.paramGrads);
        const elapsed = performance.now() - t0;
        const lr = learningRateAt(gradTotal, 1e9, peak, 'constant', 100, 1) * (elapsed < maxMs ? 1 : 0);
        if (Number.isFinite(norm)) adam.step(r.paramGrads, lr, norm > (o.clipNorm ?? 100) ? (o.clipNorm ?? 100) / norm : 1);
        idx.forEach((i, row) => {
          if (!Number.isFinite(newQ[row])) return;
          bLogW[i] += bLogQ[i] - newQ[row];
          bLogQ[i] = newQ[row];
        });
        gradTotal++;
      }
    }
    await coop.tick();
  }
  return { iterations: it, gradSteps: gradTotal, seconds: (performance.now() - t0) / 1000, history };
}
