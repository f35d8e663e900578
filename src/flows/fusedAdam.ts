/**
 * Adam (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980) over ALL variables at once: the
 * gradients are flattened into one vector, the moment updates run as ~10 kernels on it, and the
 * step is split back per variable. tf.train.adam runs ~12 kernels *per variable*, which for a
 * 6-layer IAF (36 variables) is ~430 of the ~1150 kernels of a training step at small dimension.
 *
 * The update is PyTorch's (torch.optim.Adam, no weight decay), so runs are comparable with the
 * anchors: θ ← θ − lr · m̂ / (sqrt(v̂) + ε) with m̂ = m / (1 − β1ᵗ), v̂ = v / (1 − β2ᵗ), ε = 1e-8.
 * Masked (always-zero-gradient) entries stay exactly where they are.
 *
 * The flat path pays for it with one concat and one split, and in tfjs-backend-wasm 4.22 every
 * slice of a split copies the *whole* source tensor first (~50 ms to split 627k floats in 36
 * pieces here). So above `flatMaxSize` parameters (default 50k) the moments live per variable
 * and the update runs per variable (12 kernels each), like tf.train.adam. With
 * `installWasmSliceFix()` (src/flows/wasmSliceFix.ts) the split is cheap and `flatMaxSize:
 * Infinity` is fine at any size.
 *
 * JS mode (`inPlace`, the default on the wasm backend): no tfjs kernels at all. The update runs
 * as a plain JS loop that reads each gradient and parameter straight from the wasm heap, with the
 * moments in Float64Arrays, and assigns each variable a freshly written tensor (never writing into
 * the old buffer: the backend caches packed matMul weights per buffer). At small dimension a
 * training step is bound by the number of kernels (~6-10 µs each), and the tensor form above
 * costs ~120 of them for a 36-variable flow.
 */
import * as tf from '@tensorflow/tfjs';
import { ParameterError } from '../core/errors.js';

export interface FusedAdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Largest total parameter count for the single flat update (default 50_000; measured: flat
   * wins by ~10 % at 28k parameters, is a wash or worse at 123k, loses badly at 627k). */
  flatMaxSize?: number;
  /** Run the update as a JS loop over the wasm heap (default: true on the wasm backend; ignored
   * on other backends). */
  inPlace?: boolean;
}

/** The wasm-backend method the JS mode uses (a public method of BackendWasm in 4.22). */
interface WasmHeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function wasmHeapBackend(): WasmHeapBackend | null {
  if (tf.getBackend() !== 'wasm') return null;
  const be = tf.backend() as unknown as Partial<WasmHeapBackend>;
  return typeof be.typedArrayFromHeap === 'function' ? (be as WasmHeapBackend) : null;
}

/** PyTorch's Adam defaults (torch.optim.Adam), used by both training paths. */
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** The numbers of Adam step t (1-based) with gradients multiplied by `scale`. */
export interface AdamCoefficients {
  beta1: number;
  beta2: number;
  /** (1 − β1)·scale and (1 − β2)·scale²: the moment updates m = β1 m + c1 g, v = β2 v + c2 g². */
  c1: number;
  c2: number;
  /** θ −= stepSize · m / (√v + epsHat) is PyTorch's θ −= lr · m̂ / (√v̂ + ε). */
  stepSize: number;
  epsHat: number;
}

export function adamCoefficients(lr: number, t: number, beta1: number, beta2: number, epsilon: number, scale = 1): AdamCoefficients {
  const bc1 = 1 - Math.pow(beta1, t);
  const bc2 = 1 - Math.pow(beta2, t);
  // lr/bc1 · m / (√v/√bc2 + ε) = (lr √bc2/bc1) · m / (√v + ε √bc2)
  return { beta1, beta2, c1: (1 - beta1) * scale, c2: (1 - beta2) * scale * scale, stepSize: (lr * Math.sqrt(bc2)) / bc1, epsHat: epsilon * Math.sqrt(bc2) };
}

export class FusedAdam {
  /** Mutable, so that a schedule can set it before each step. */
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly vars: tf.Variable[];
  private readonly sizes: number[];
  /** Flat moments (one each) or per-variable moments. */
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  readonly flat: boolean;
  /** True when the update runs as a JS loop over the wasm heap (then `flat` is irrelevant). */
  readonly inPlace: boolean;
  private readonly mJs: Float64Array | null;
  private readonly vJs: Float64Array | null;
  private t = 0;

  constructor(vars: tf.Variable[], opts: FusedAdamOptions = {}) {
    this.learningRate = opts.learningRate ?? 1e-3;
    this.beta1 = opts.beta1 ?? ADAM_DEFAULTS.beta1;
    this.beta2 = opts.beta2 ?? ADAM_DEFAULTS.beta2;
    this.epsilon = opts.epsilon ?? ADAM_DEFAULTS.epsilon;
    if (!(this.learningRate > 0)) throw new ParameterError(`adam: learning rate must be positive, got ${this.learningRate}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) {
      throw new ParameterError(`adam: betas must be in [0, 1), got ${this.beta1}, ${this.beta2}`);
    }
    if (vars.length === 0) throw new ParameterError('adam: no variables to optimise');
    this.vars = [...vars];
    this.sizes = vars.map((x) => x.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.flat = total <= (opts.flatMaxSize ?? 50_000);
    // (The backend object is looked up per call, not kept as a field: code that walks this object
    // as a tensor container, like tf.tidy's return value, would crawl the whole wasm module.)
    this.inPlace = opts.inPlace !== false && wasmHeapBackend() !== null;
    if (this.inPlace) {
      if (vars.some((x) => x.dtype !== 'float32')) throw new ParameterError('adam: in-place mode needs float32 variables');
      this.mJs = new Float64Array(total);
      this.vJs = new Float64Array(total);
      this.m = [];
      this.v = [];
      return;
    }
    this.mJs = this.vJs = null;
    const shapes = this.flat ? [[total]] : vars.map((x) => x.shape);
    this.m = tf.tidy(() => shapes.map((sh) => tf.variable(tf.zeros(sh), false)));
    this.v = tf.tidy(() => shapes.map((sh) => tf.variable(tf.zeros(sh), false)));
  }

  private heap(): WasmHeapBackend | null {
    return this.inPlace ? wasmHeapBackend() : null;
  }

  /**
   * The global L2 norm of `grads` (one per variable, in the constructor's order), read back as a
   * number: a JS loop over the heap in in-place mode, else 2 kernels per gradient.
   */
  globalNorm(grads: tf.Tensor[]): number {
    this.checkCount(grads);
    const heap = this.heap();
    if (heap) {
      let s = 0;
      for (const g of grads) {
        const a = heap.typedArrayFromHeap(g);
        for (let k = 0; k < a.length; k++) s += a[k] * a[k];
      }
      return Math.sqrt(s);
    }
    const n = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
    const out = n.dataSync()[0];
    n.dispose();
    return out;
  }

  private checkCount(grads: tf.Tensor[]): void {
    if (grads.length !== this.vars.length) {
      throw new ParameterError(`adam: ${grads.length} gradients for ${this.vars.length} variables`);
    }
  }

  /** Number of steps taken. */
  get iterations(): number {
    return this.t;
  }

  /**
   * One step on `loss` (a scalar function of the variables). Returns the loss value as a tensor
   * when `returnLoss`, else null (saves a kernel and a tensor).
   */
  minimize(loss: () => tf.Scalar, returnLoss = false): tf.Scalar | null {
    const { value, grads } = tf.variableGrads(loss, this.vars);
    // A variable the loss does not reach gets no entry: treat its gradient as zero.
    const missing: tf.Tensor[] = [];
    this.applyGradients(
      this.vars.map((x) => {
        if (grads[x.name]) return grads[x.name];
        const z = tf.zerosLike(x);
        missing.push(z);
        return z;
      }),
    );
    tf.dispose(grads);
    tf.dispose(missing);
    if (returnLoss) return value;
    value.dispose();
    return null;
  }

  /**
   * Applies one Adam step given gradients in the order of the constructor's variables, each
   * multiplied by `scale` first (gradient clipping without extra kernels).
   */
  applyGradients(grads: tf.Tensor[], scale = 1): void {
    this.checkCount(grads);
    this.t++;
    const c = adamCoefficients(this.learningRate, this.t, this.beta1, this.beta2, this.epsilon, scale);
    const { stepSize, epsHat } = c;
    const heap = this.heap();
    if (heap) {
      this.stepInPlace(heap, grads, c);
      return;
    }
    tf.tidy(() => {
      const scaled = scale === 1 ? grads : grads.map((g) => tf.mul(g, scale));
      if (!this.flat) {
        this.vars.forEach((x, i) => x.assign(tf.sub(x, this.moments(i, scaled[i], stepSize, epsHat))));
        return;
      }
      const g = scaled.length === 1 ? tf.reshape(scaled[0], [-1]) : tf.concat(scaled.map((x) => tf.reshape(x, [-1])));
      const step = this.moments(0, g, stepSize, epsHat);
      const parts = this.vars.length === 1 ? [step] : tf.split(step, this.sizes);
      this.vars.forEach((x, i) => x.assign(tf.sub(x, tf.reshape(parts[i], x.shape))));
    });
  }

  private stepInPlace(heap: WasmHeapBackend, grads: tf.Tensor[], c: AdamCoefficients): void {
    const m = this.mJs!;
    const v = this.vJs!;
    const { beta1: b1, beta2: b2, c1, c2, stepSize, epsHat } = c;
    let off = 0;
    for (let i = 0; i < this.vars.length; i++) {
      const x = this.vars[i];
      const out = new Float32Array(x.size);
      // Views are taken per variable: the tensor created below may grow the heap and detach them.
      const p = heap.typedArrayFromHeap(x);
      const g = heap.typedArrayFromHeap(grads[i]);
      if (g.length !== p.length) throw new ParameterError(`adam: gradient ${i} has ${g.length} entries for a variable of ${p.length}`);
      for (let k = 0; k < p.length; k++) {
        const gk = g[k];
        const j = off + k;
        const mk = b1 * m[j] + c1 * gk;
        const vk = b2 * v[j] + c2 * gk * gk;
        m[j] = mk;
        v[j] = vk;
        // Masked entries (g ≡ 0, m = v = 0) get a step of exactly 0.
        out[k] = p[k] - (stepSize * mk) / (Math.sqrt(vk) + epsHat);
      }
      off += p.length;
      // A NEW buffer, never a write into the old one: the wasm backend caches XNNPACK operators
      // with packed weights per buffer (freed when the buffer is), so an in-place write would
      // leave matMuls using stale weights.
      const t = tf.tensor(out, x.shape, 'float32');
      x.assign(t);
      t.dispose();
    }
  }

  /** Updates moment slot i with gradient g and returns the step to subtract. */
  private moments(i: number, g: tf.Tensor, stepSize: number, epsHat: number): tf.Tensor {
    const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
    const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    this.m[i].assign(m);
    this.v[i].assign(v);
    return tf.div(tf.mul(m, stepSize), tf.add(tf.sqrt(v), epsHat));
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
