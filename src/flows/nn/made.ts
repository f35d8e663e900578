/**
 * MADE: Masked Autoencoder for Distribution Estimation (Germain et al. 2015,
 * https://arxiv.org/abs/1502.03509), the conditioner of autoregressive layers. A ReLU MLP whose
 * weights are multiplied by fixed 0/1 masks so that output block b, unit j depends only on the
 * inputs that come *before* j in an ordering.
 *
 * Degrees (Germain et al. §4): input i gets degree `order[i]` in 1..D; hidden units get degrees
 * in 1..D−1 assigned cyclically (deterministic, so a saved flow rebuilds the same masks); a
 * weight from degree a into a hidden unit of degree b is kept iff b ≥ a, and into an output of
 * degree d iff d > b. With D = 1 there is nothing to condition on and the outputs are constants.
 *
 * The weights are stored pre-masked and their gradients masked (the mask is the parameter's
 * `gradMask`), so the forward pass needs no mask multiply and the masked weights stay exactly 0.
 * The output weights start small (x0.01) so a fresh layer is close to the transformer's value at
 * the output biases (e.g. the identity).
 */
import { Param } from '../params.js';
import type { Ops } from '../engine/ops.js';
import { ParameterError, checkPositiveInt } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';

/** Degrees of the inputs: `order[i]` in 1..dim is the position of input i in the ordering. */
export function naturalOrder(dim: number): number[] {
  return Array.from({ length: dim }, (_, i) => i + 1);
}

/** The reversed order dim..1. */
export function reversedOrder(dim: number): number[] {
  return Array.from({ length: dim }, (_, i) => dim - i);
}

/** Hidden degrees in 1..max(1, dim−1), cyclic. */
export function hiddenDegrees(dim: number, units: number): number[] {
  const top = Math.max(1, dim - 1);
  return Array.from({ length: units }, (_, k) => (k % top) + 1);
}

/**
 * The masks of a MADE with the given input order and hidden widths, row-major [fanIn, fanOut].
 * The last mask maps to `outputBlocks` copies of the `dim` outputs (block b, unit j at column
 * b·dim + j).
 */
export function madeMasks(order: number[], hidden: number[], outputBlocks: number): { shape: [number, number]; mask: Float32Array }[] {
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

/** Checks that `order` is a permutation of 1..dim. */
export function checkOrder(what: string, order: number[], dim: number): number[] {
  const sorted = [...order].sort((a, b) => a - b);
  if (order.length !== dim || sorted.some((v, i) => v !== i + 1)) {
    throw new ParameterError(`${what}: order must be a permutation of 1..${dim}, got [${order.join(', ')}]`);
  }
  return [...order];
}

export interface MadeConfig {
  dim: number;
  /** Hidden layer widths, e.g. [64, 64] (may be empty). */
  hidden: number[];
  /** Input degrees (a permutation of 1..dim); natural order by default. */
  order?: number[];
  /** Number of output blocks (parameters per coordinate of the transformer). */
  outputBlocks: number;
  /** Initial bias of each output block (default 0). */
  outputBias?: (block: number) => number;
  /** Seed of the weight initialisation (default 0). */
  seed?: number | string;
  /** Name prefix of the parameters. */
  name?: string;
}

export class Made {
  readonly dim: number;
  readonly hidden: number[];
  readonly order: number[];
  readonly outputBlocks: number;
  readonly weights: Param[] = [];
  readonly biases: Param[] = [];
  readonly masks: (Param | null)[] = [];
  private readonly degrees: { input: number[]; hidden: number[][]; outputBlocks: number };

  constructor(config: MadeConfig) {
    this.dim = checkPositiveInt('made dim', config.dim);
    if (!Array.isArray(config.hidden)) throw new ParameterError('made: hidden must be a list of widths, e.g. [64, 64]');
    this.hidden = config.hidden.map((h) => checkPositiveInt('made hidden width', h));
    this.order = checkOrder('made', config.order ?? naturalOrder(this.dim), this.dim);
    this.outputBlocks = checkPositiveInt('made output blocks', config.outputBlocks);
    const name = config.name ?? 'made';
    const rng = new RandomStream(config.seed ?? 0);
    const specs = madeMasks(this.order, this.hidden, this.outputBlocks);
    specs.forEach((spec, l) => {
      const [fanIn, fanOut] = spec.shape;
      const last = l === specs.length - 1;
      // He-like scale on the *unmasked* fan-in (about half the inputs survive a mask).
      let alive = 0;
      for (let k = 0; k < spec.mask.length; k++) alive += spec.mask[k];
      const scale = (last ? 0.01 : 1) * Math.sqrt(2 / Math.max(1, alive / fanOut));
      const w = new Float32Array(fanIn * fanOut);
      for (let k = 0; k < w.length; k++) {
        const v = scale * rng.normal(); // (drawn for masked entries too: the same draws as unmasked init)
        w[k] = spec.mask[k] === 0 ? 0 : v;
      }
      const b = new Float32Array(fanOut);
      if (last && config.outputBias) {
        for (let blk = 0; blk < this.outputBlocks; blk++) {
          const v = config.outputBias(blk);
          for (let j = 0; j < this.dim; j++) b[blk * this.dim + j] = v;
        }
      }
      const allOnes = spec.mask.every((v) => v === 1);
      const mask = allOnes ? null : Param.constant(`${name}.mask${l}`, fanIn, fanOut, spec.mask);
      this.masks.push(mask);
      this.weights.push(new Param(`${name}.W${l}`, fanIn, fanOut, w, { gradMask: mask, decay: true }));
      this.biases.push(new Param(`${name}.b${l}`, 1, fanOut, b));
    });
    this.degrees = { input: this.order, hidden: this.hidden.map((h) => hiddenDegrees(this.dim, h)), outputBlocks: this.outputBlocks };
  }

  /** Every parameter, the trainable ones in the order W0, b0, W1, b1, ... (saved-file order). */
  params(): Param[] {
    const out: Param[] = [];
    for (let l = 0; l < this.weights.length; l++) {
      if (this.masks[l]) out.push(this.masks[l]!);
      out.push(this.weights[l], this.biases[l]);
    }
    return out;
  }

  /** The outputs [n, outputBlocks·dim] of the inputs x [n, dim]. */
  apply<V>(ops: Ops<V>, x: V): V {
    return ops.mlp(
      x,
      this.weights.map((w, l) => ({ weight: ops.param(w), bias: ops.param(this.biases[l]) })),
      { degrees: this.degrees },
    );
  }

  getConfig(): { hidden: number[]; order: number[] } {
    return { hidden: [...this.hidden], order: [...this.order] };
  }
}
