/**
 * A contractive MLP g: R^D → R^D for invertible residual blocks x + g(x) (Behrmann et al. 2019,
 * "Invertible residual networks", https://arxiv.org/abs/1811.00995):
 *   g(x) = W̃_L φ(… φ(x W̃_1 + b_1) …) + b_L,
 * with every weight spectrally normalised to ‖W̃_l‖₂ ≤ c = lipschitz^(1/L)
 * (src/flows/kernels/spectralNorm.ts) and 1-Lipschitz activations φ
 * (src/flows/kernels/lipschitzActivation.ts), so Lip(g) ≤ Π_l ‖W̃_l‖₂ ≤ lipschitz < 1.
 *
 * σ = ‖W‖₂ comes from power iteration on the current weights, in float64, run to convergence
 * whenever the weights changed (warm-started from the previous estimate, so a training step costs
 * a few iterations), rather than i-ResNet's one iteration per step: the bound then holds for the
 * weights actually used, not for an estimate that lags them.
 *
 * Besides g(x), the MLP gives Jacobian–vector products J_g(x)·t (as rows, t [n or 1, D]):
 *   J_g t = ((t W̃_1 ⊙ φ'(h_1)) W̃_2 ⊙ φ'(h_2) …) W̃_L,
 * written as ordinary forward ops. That is what lets a first-order tape (the heap engine)
 * differentiate a log-det built from them: no vector–Jacobian product is ever differentiated.
 */
import { Param } from '../params.js';
import type { Ops } from '../engine/ops.js';
import { spectralNormKernel } from '../kernels/spectralNorm.js';
import { lipschitzActivationKernel, LIPSCHITZ_ACTIVATIONS, type LipschitzActivation } from '../kernels/lipschitzActivation.js';
import { ParameterError, checkPositiveInt } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';

export interface LipschitzMlpConfig {
  /** Input and output width D. */
  dim: number;
  hidden: number[];
  /** Bound of Lip(g), in (0, 1). */
  lipschitz: number;
  activation?: LipschitzActivation;
  /** Scale of the last layer's initial weights relative to He scale (default 0.1: g starts small). */
  outputScale?: number;
  seed?: number | string;
  name?: string;
}

/** The leading singular triple of a row-major R x C matrix. */
export interface SpectralEstimate {
  sigma: number;
  u: Float64Array;
  v: Float64Array;
  iterations: number;
}

/** Relative increment of σ at which power iteration stops, and its iteration caps (cold, warm). */
export const POWER_TOL = 1e-8;
export const POWER_MAX = 500;
export const POWER_MAX_WARM = 20;

/**
 * Power iteration on WᵀW from `start` (or a fixed vector). σ_k = ‖Wᵀu_k‖ rises monotonically to
 * ‖W‖₂; it stops when σ grows by less than POWER_TOL relative (the remaining error is that
 * increment over 1 − (σ₂/σ₁)², so ~1e-7 for a gap σ₂/σ₁ of 0.95), or after POWER_MAX iterations.
 * σ ≤ ‖W‖₂ always: an unconverged estimate errs towards a slightly larger Lipschitz constant.
 */
export function spectralNorm(w: ArrayLike<number>, R: number, C: number, start: Float64Array | null = null, maxIterations = POWER_MAX): SpectralEstimate {
  let v = new Float64Array(C);
  if (start && start.length === C && start.some((x) => x !== 0)) v.set(start);
  else for (let j = 0; j < C; j++) v[j] = 1 + 0.5 * Math.sin(1 + 2 * j);
  normalize(v);
  const u = new Float64Array(R);
  let sigma = 0;
  let k = 0;
  for (; k < maxIterations; k++) {
    for (let i = 0; i < R; i++) {
      let s = 0;
      for (let j = 0; j < C; j++) s += w[i * C + j] * v[j];
      u[i] = s;
    }
    if (normalize(u) === 0) return { sigma: 0, u, v: new Float64Array(C), iterations: k + 1 };
    const b = new Float64Array(C);
    for (let i = 0; i < R; i++) {
      const ui = u[i];
      for (let j = 0; j < C; j++) b[j] += w[i * C + j] * ui;
    }
    const next = normalize(b);
    v = b;
    const done = k > 0 && next - sigma <= POWER_TOL * next;
    sigma = next;
    if (done) break;
  }
  return { sigma, u, v, iterations: k + 1 };
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function normalize(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  const norm = Math.sqrt(s);
  if (norm > 0) for (let i = 0; i < a.length; i++) a[i] /= norm;
  return norm;
}

/** The values a forward pass leaves for Jacobian–vector products. */
export interface LipschitzMlpPass<V> {
  out: V;
  /** φ'(h_l) of each hidden layer, [n, h_l]. */
  slopes: V[];
}

export class LipschitzMlp {
  readonly dim: number;
  readonly hidden: number[];
  readonly lipschitz: number;
  readonly activation: LipschitzActivation;
  /** Bound of each layer's spectral norm: lipschitz^(1/L). */
  readonly layerBound: number;
  readonly weights: Param[] = [];
  readonly biases: Param[] = [];
  /**
   * The last weights each estimate was made for and the estimate: a warm start for the next
   * one, and the same u, v (hence the same numbers) on every call while the weights stand still.
   */
  private readonly cache: ({ w: Float32Array; est: SpectralEstimate } | null)[];

  constructor(config: LipschitzMlpConfig) {
    this.dim = checkPositiveInt('residual block dim', config.dim);
    if (!Array.isArray(config.hidden) || config.hidden.length === 0) throw new ParameterError('residual block: hidden must be a non-empty list of widths, e.g. [64, 64]');
    this.hidden = config.hidden.map((h) => checkPositiveInt('residual block hidden width', h));
    this.lipschitz = config.lipschitz;
    if (!(this.lipschitz > 0 && this.lipschitz < 1)) throw new ParameterError(`residual block: lipschitz must be in (0, 1) for the block to be invertible, got ${String(config.lipschitz)}`);
    this.activation = config.activation ?? 'lipswish';
    if (!LIPSCHITZ_ACTIVATIONS.includes(this.activation)) throw new ParameterError(`residual block: activation must be ${LIPSCHITZ_ACTIVATIONS.join(' or ')}, got '${String(config.activation)}'`);
    const outputScale = config.outputScale ?? 0.1;
    const name = config.name ?? 'iresnet';
    const sizes = [this.dim, ...this.hidden, this.dim];
    const L = sizes.length - 1;
    this.layerBound = Math.pow(this.lipschitz, 1 / L);
    const rng = new RandomStream(config.seed ?? 0);
    for (let l = 0; l < L; l++) {
      const fanIn = sizes[l];
      const fanOut = sizes[l + 1];
      const scale = (l === L - 1 ? outputScale : 1) * Math.sqrt(2 / fanIn);
      const w = new Float32Array(fanIn * fanOut);
      for (let k = 0; k < w.length; k++) w[k] = scale * rng.normal();
      this.weights.push(new Param(`${name}.W${l}`, fanIn, fanOut, w));
      this.biases.push(new Param(`${name}.b${l}`, 1, fanOut, new Float32Array(fanOut)));
    }
    this.cache = this.weights.map(() => null);
  }

  params(): Param[] {
    return this.weights.flatMap((w, l) => [w, this.biases[l]]);
  }

  /** The spectrally normalised weights W̃_l for this call. */
  normalized<V>(ops: Ops<V>): V[] {
    return this.weights.map((p, l) => {
      const w = ops.param(p);
      const est = this.estimate(l, ops.read(w));
      return ops.apply(spectralNormKernel, [w, ops.constant(est.u, 1, p.rows), ops.constant(est.v, 1, p.cols)], { c: this.layerBound })[0];
    });
  }

  /** The spectral estimate of weight l at values `w`. */
  estimate(l: number, w: Float32Array): SpectralEstimate {
    const c = this.cache[l];
    if (c && sameValues(c.w, w)) return c.est;
    const p = this.weights[l];
    const est = c ? spectralNorm(w, p.rows, p.cols, c.est.v, POWER_MAX_WARM) : spectralNorm(w, p.rows, p.cols);
    this.cache[l] = { w: Float32Array.from(w), est };
    return est;
  }

  /** g(x) with the slopes φ'(h_l) that `jvp` needs. */
  apply<V>(ops: Ops<V>, x: V, w: V[]): LipschitzMlpPass<V> {
    const slopes: V[] = [];
    let a = x;
    for (let l = 0; l < w.length; l++) {
      const h = ops.mlp(a, [{ weight: w[l], bias: ops.param(this.biases[l]) }]);
      if (l === w.length - 1) return { out: h, slopes };
      const [phi, slope] = ops.apply(lipschitzActivationKernel, [h], { kind: this.activation });
      slopes.push(slope);
      a = phi;
    }
    throw new Error('unreachable');
  }

  /** J_g(x)·t as rows: t [n or 1, D] → [n, D], at the x whose `slopes` are given. */
  jvp<V>(ops: Ops<V>, t: V, w: V[], slopes: V[]): V {
    let a = t;
    for (let l = 0; l < w.length; l++) {
      a = ops.mlp(a, [{ weight: w[l], bias: null }]);
      if (l < slopes.length) a = ops.mul(a, slopes[l]);
    }
    return a;
  }
}
