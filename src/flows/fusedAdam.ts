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
  private t = 0;

  constructor(vars: tf.Variable[], opts: FusedAdamOptions = {}) {
    this.learningRate = opts.learningRate ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
    if (!(this.learningRate > 0)) throw new ParameterError(`adam: learning rate must be positive, got ${this.learningRate}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) {
      throw new ParameterError(`adam: betas must be in [0, 1), got ${this.beta1}, ${this.beta2}`);
    }
    if (vars.length === 0) throw new ParameterError('adam: no variables to optimise');
    this.vars = [...vars];
    this.sizes = vars.map((x) => x.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.flat = total <= (opts.flatMaxSize ?? 50_000);
    const shapes = this.flat ? [[total]] : vars.map((x) => x.shape);
    this.m = shapes.map((sh) => tf.variable(tf.zeros(sh), false));
    this.v = shapes.map((sh) => tf.variable(tf.zeros(sh), false));
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

  /** Applies one Adam step given gradients in the order of the constructor's variables. */
  applyGradients(grads: tf.Tensor[]): void {
    if (grads.length !== this.vars.length) {
      throw new ParameterError(`adam: ${grads.length} gradients for ${this.vars.length} variables`);
    }
    this.t++;
    const bc1 = 1 - Math.pow(this.beta1, this.t);
    const bc2 = 1 - Math.pow(this.beta2, this.t);
    // lr/bc1 · m / (sqrt(v)/sqrt(bc2) + ε) = (lr sqrt(bc2)/bc1) · m / (sqrt(v) + ε sqrt(bc2))
    const stepSize = (this.learningRate * Math.sqrt(bc2)) / bc1;
    const epsHat = this.epsilon * Math.sqrt(bc2);
    tf.tidy(() => {
      if (!this.flat) {
        this.vars.forEach((x, i) => x.assign(tf.sub(x, this.moments(i, grads[i], stepSize, epsHat))));
        return;
      }
      const g = grads.length === 1 ? tf.reshape(grads[0], [-1]) : tf.concat(grads.map((x) => tf.reshape(x, [-1])));
      const step = this.moments(0, g, stepSize, epsHat);
      const parts = this.vars.length === 1 ? [step] : tf.split(step, this.sizes);
      this.vars.forEach((x, i) => x.assign(tf.sub(x, tf.reshape(parts[i], x.shape))));
    });
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
