/**
 * Adam (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980) in PyTorch's form (torch.optim.Adam),
 * so runs are comparable with the PyTorch anchors:
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,  θ ← θ − lr · m̂ / (√v̂ + ε),
 * with m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ). With `weightDecay` λ > 0 it is AdamW (Loshchilov &
 * Hutter 2019, decoupled weight decay, as torch.optim.AdamW): θ ← θ(1 − lr·λ) before the step,
 * on the parameters marked `decay` (the conditioners' weight matrices) only. One implementation
 * for every engine: a JS loop over the flow's parameter store (src/flows/params.ts), moments in
 * float32 like PyTorch's. A masked gradient entry is exactly 0, so its moments stay 0 and its
 * step is exactly 0 (and decay keeps a 0 at 0). A parameter the loss did not reach gets no step
 * and no decay (PyTorch skips parameters whose gradient is None).
 */
import type { Param, ParamStore } from '../params.js';
import { ParameterError } from '../../core/errors.js';

/** PyTorch's Adam defaults. */
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay λ (AdamW); default 0, plain Adam. */
  weightDecay?: number;
}

/** What a checkpoint keeps of the optimiser. */
export interface AdamState {
  t: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly params: Param[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;

  constructor(
    private readonly store: ParamStore,
    options: AdamOptions = {},
  ) {
    this.beta1 = options.beta1 ?? ADAM_DEFAULTS.beta1;
    this.beta2 = options.beta2 ?? ADAM_DEFAULTS.beta2;
    this.epsilon = options.epsilon ?? ADAM_DEFAULTS.epsilon;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.weightDecay >= 0 && Number.isFinite(this.weightDecay))) throw new ParameterError(`adam: weightDecay must be a finite number >= 0, got ${this.weightDecay}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) {
      throw new ParameterError(`adam: betas must be in [0, 1), got ${this.beta1}, ${this.beta2}`);
    }
    this.params = store.trainable();
    if (this.params.length === 0) throw new ParameterError('adam: the flow has no trainable parameters');
    this.m = this.params.map((p) => new Float32Array(p.size));
    this.v = this.params.map((p) => new Float32Array(p.size));
  }

  /** Steps taken. */
  get steps(): number {
    return this.t;
  }

  /** One step with learning rate `lr` on the gradients times `scale` (gradient clipping). */
  step(grads: Map<Param, Float64Array>, lr: number, scale = 1): void {
    this.t++;
    const { beta1: b1, beta2: b2 } = this;
    const bc1 = 1 - Math.pow(b1, this.t);
    const bc2 = 1 - Math.pow(b2, this.t);
    // lr/bc1 · m / (√v/√bc2 + ε) = (lr √bc2/bc1) · m / (√v + ε √bc2)
    const stepSize = (lr * Math.sqrt(bc2)) / bc1;
    const epsHat = this.epsilon * Math.sqrt(bc2);
    const c1 = (1 - b1) * scale;
    const c2 = (1 - b2) * scale * scale;
    const shrink = 1 - lr * this.weightDecay;
    this.params.forEach((p, i) => {
      const g = grads.get(p);
      if (!g) return;
      if (shrink !== 1 && p.decay) scaleInPlace(this.store.data(p), shrink);
      adamLoop(this.store.data(p), g, this.m[i], this.v[i], b1, b2, c1, c2, stepSize, epsHat);
      this.store.touch(p);
    });
  }

  state(): AdamState {
    return { t: this.t, m: this.m.map((a) => a.slice()), v: this.v.map((a) => a.slice()) };
  }

  restore(s: AdamState): void {
    if (s.m.length !== this.m.length || s.m.some((a, i) => a.length !== this.m[i].length)) throw new ParameterError('adam: saved state does not match the flow');
    this.t = s.t;
    s.m.forEach((a, i) => this.m[i].set(a));
    s.v.forEach((a, i) => this.v[i].set(a));
  }
}

// A plain function with local accumulators: V8 keeps the numbers unboxed.
function adamLoop(theta: Float32Array, g: Float64Array, m: Float32Array, v: Float32Array, b1: number, b2: number, c1: number, c2: number, stepSize: number, epsHat: number): void {
  for (let k = 0; k < g.length; k++) {
    const gk = g[k];
    const mk = b1 * m[k] + c1 * gk;
    const vk = b2 * v[k] + c2 * gk * gk;
    m[k] = mk;
    v[k] = vk;
    theta[k] -= (stepSize * mk) / (Math.sqrt(vk) + epsHat);
  }
}

function scaleInPlace(a: Float32Array, f: number): void {
  for (let k = 0; k < a.length; k++) a[k] *= f;
}

/** The global L2 norm of a set of gradients. */
export function gradientNorm(grads: Map<Param, Float64Array>): number {
  let s = 0;
  for (const g of grads.values()) s += sumSquares(g);
  return Math.sqrt(s);
}

function sumSquares(a: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * a[k];
  return s;
}
