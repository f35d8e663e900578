/**
 * MADE: Masked Autoencoder for Distribution Estimation (Germain et al. 2015,
 * https://arxiv.org/abs/1502.03509). A multilayer perceptron whose weight matrices are multiplied
 * by fixed 0/1 masks so that output block j depends only on the inputs that come *before* j in an
 * ordering. Here the outputs are two blocks of `dim` units, `m` and `s`, the shift and the gate
 * pre-activation of an affine autoregressive layer (Kingma et al. 2016).
 *
 * Degrees (Germain et al. §4): input i gets degree `order[i]` in 1..D; hidden units get degrees
 * in 1..D-1 assigned cyclically (deterministic, so a saved flow rebuilds the same masks); a
 * weight from degree a into a hidden unit of degree b is kept iff b >= a, and into an output of
 * degree d iff d > b. With D = 1 there is nothing to condition on and the outputs are constants.
 *
 * Speed note (tfjs 4.22, wasm): matMul with a transpose flag is ~10x slower than a plain matMul,
 * and the default gradient of matMul uses those flags. `maskedDense` therefore has its own
 * gradient that transposes explicitly, which made reverse-KL training ~4x faster here.
 */
import * as tf from '@tensorflow/tfjs';
import { ParameterError, checkPositiveInt } from '../core/errors.js';
import { RandomStream } from '../core/random.js';

/** Degrees of the inputs: `order[i]` in 1..dim is the position of input i in the ordering. */
export function naturalOrder(dim: number): number[] {
  return Array.from({ length: dim }, (_, i) => i + 1);
}

/** Hidden degrees in 1..max(1, dim-1), cyclic. */
export function hiddenDegrees(dim: number, units: number): number[] {
  const top = Math.max(1, dim - 1);
  return Array.from({ length: units }, (_, k) => (k % top) + 1);
}

/**
 * The masks of a MADE with the given input order and hidden widths, as row-major Float32Arrays
 * shaped [fanIn, fanOut]. The last mask maps to `outputBlocks` copies of the `dim` outputs
 * (block b, unit j at column b * dim + j).
 */
export function madeMasks(order: number[], hidden: number[], outputBlocks = 2): { shape: [number, number]; mask: Float32Array }[] {
  const dim = order.length;
  const masks: { shape: [number, number]; mask: Float32Array }[] = [];
  let prev = order;
  for (const h of hidden) {
    const deg = hiddenDegrees(dim, h);
    const m = new Float32Array(prev.length * h);
    for (let a = 0; a < prev.length; a++) for (let b = 0; b < h; b++) m[a * h + b] = deg[b] >= prev[a] ? 1 : 0;
    masks.push({ shape: [prev.length, h], mask: m });
    prev = deg;
  }
  const out = outputBlocks * dim;
  const m = new Float32Array(prev.length * out);
  for (let a = 0; a < prev.length; a++) {
    for (let blk = 0; blk < outputBlocks; blk++) {
      for (let j = 0; j < dim; j++) m[a * out + blk * dim + j] = order[j] > prev[a] ? 1 : 0;
    }
  }
  masks.push({ shape: [prev.length, out], mask: m });
  return masks;
}

/**
 * y = x (W ⊙ M) + b with a hand-written gradient that uses explicit transposes (see the file
 * header). `mask` is a constant captured by the closure: no gradient flows into it, and the
 * weight gradient is masked so that Adam's moments of masked-out weights stay exactly zero.
 */
export function maskedDense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, mask: tf.Tensor2D | null): tf.Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi, bi] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const weff = (mask ? tf.mul(wi, mask) : wi) as tf.Tensor2D;
    save([xi, weff]);
    const value = tf.add(tf.matMul(xi as tf.Tensor2D, weff), bi) as tf.Tensor2D;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as tf.Tensor2D[];
        const dx = tf.matMul(dy as tf.Tensor2D, tf.transpose(ws));
        const dwRaw = tf.matMul(tf.transpose(xs), dy as tf.Tensor2D);
        const dw = mask ? tf.mul(dwRaw, mask) : dwRaw;
        const db = tf.sum(dy, 0);
        return [dx, dw, db];
      },
    };
  });
  return f(x, w, b) as tf.Tensor2D;
}

export interface MadeConfig {
  dim: number;
  /** Hidden layer widths, e.g. [64, 64]. */
  hidden: number[];
  /** Input degrees (a permutation of 1..dim); natural order by default. */
  order?: number[];
  /** Initial bias of the `s` output block (the gate pre-activation of an IAF layer). */
  sBias?: number;
  /** Seed for the weight initialisation. */
  seed?: number | string;
}

/**
 * A MADE network `z [n, dim] -> { m, s } ([n, dim] each)` with ReLU hidden layers. The weights
 * of the output layer start small (x0.01) so a fresh IAF layer is close to its gated identity.
 */
export class Made {
  readonly dim: number;
  readonly hidden: number[];
  readonly order: number[];
  readonly sBias: number;
  private readonly weights: tf.Variable<tf.Rank.R2>[] = [];
  private readonly biases: tf.Variable<tf.Rank.R1>[] = [];
  private readonly masks: (tf.Tensor2D | null)[] = [];

  constructor(config: MadeConfig) {
    this.dim = checkPositiveInt('made dim', config.dim);
    this.hidden = config.hidden.map((h) => checkPositiveInt('made hidden width', h));
    this.order = config.order ?? naturalOrder(this.dim);
    this.sBias = config.sBias ?? 2;
    const sorted = [...this.order].sort((a, b) => a - b);
    if (this.order.length !== this.dim || sorted.some((v, i) => v !== i + 1)) {
      throw new ParameterError(`made order must be a permutation of 1..${this.dim}, got [${this.order.join(', ')}]`);
    }
    const rng = new RandomStream(config.seed ?? 0);
    const specs = madeMasks(this.order, this.hidden, 2);
    specs.forEach((spec, l) => {
      const [fanIn, fanOut] = spec.shape;
      const last = l === specs.length - 1;
      // He-uniform-like scale on the *unmasked* fan-in (about half the inputs survive a mask).
      let alive = 0;
      for (let k = 0; k < spec.mask.length; k++) alive += spec.mask[k];
      const effFanIn = Math.max(1, alive / fanOut);
      const scale = (last ? 0.01 : 1) * Math.sqrt(2 / effFanIn);
      const w = new Float32Array(fanIn * fanOut);
      for (let k = 0; k < w.length; k++) w[k] = scale * rng.normal();
      const b = new Float32Array(fanOut);
      if (last) for (let j = this.dim; j < 2 * this.dim; j++) b[j] = this.sBias;
      this.weights.push(tf.tidy(() => tf.variable(tf.tensor2d(w, [fanIn, fanOut]))));
      this.biases.push(tf.tidy(() => tf.variable(tf.tensor1d(b))));
      let allOnes = true;
      for (let k = 0; k < spec.mask.length; k++) if (spec.mask[k] !== 1) allOnes = false;
      this.masks.push(allOnes ? null : tf.tensor2d(spec.mask, [fanIn, fanOut]));
    });
  }

  /** The pre-split output [n, 2 dim]: columns 0..dim-1 are m, dim..2dim-1 are s. */
  raw(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor2D = z;
      const L = this.weights.length;
      for (let l = 0; l < L; l++) {
        h = maskedDense(h, this.weights[l], this.biases[l], this.masks[l]);
        if (l < L - 1) h = tf.relu(h);
      }
      return h;
    });
  }

  apply(z: tf.Tensor2D): { m: tf.Tensor2D; s: tf.Tensor2D } {
    return tf.tidy(() => {
      const out = this.raw(z);
      const [m, s] = tf.split(out, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      return { m, s };
    });
  }

  /** The dense layers' variables in order: weight [fanIn, fanOut] and bias [fanOut] of each. */
  denseVariables(): { weight: tf.Variable<tf.Rank.R2>; bias: tf.Variable<tf.Rank.R1> }[] {
    return this.weights.map((weight, l) => ({ weight, bias: this.biases[l] }));
  }

  trainableVariables(): tf.Variable[] {
    const v: tf.Variable[] = [];
    for (let l = 0; l < this.weights.length; l++) v.push(this.weights[l], this.biases[l]);
    return v;
  }

  getConfig(): Record<string, unknown> {
    return { dim: this.dim, hidden: [...this.hidden], order: [...this.order], sBias: this.sBias };
  }

  dispose(): void {
    for (const w of this.weights) w.dispose();
    for (const b of this.biases) b.dispose();
    for (const m of this.masks) m?.dispose();
  }
}
