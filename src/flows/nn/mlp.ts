/**
 * A plain ReLU MLP conditioner (the network of a coupling layer, Dinh et al. 2017): inputs →
 * hidden widths → `outputBlocks` blocks of `blockWidth` outputs (block b, unit j at column
 * b·blockWidth + j). He-scaled hidden weights; output weights x0.01 so a fresh layer sits at its
 * output biases (e.g. the transformer's identity).
 */
import { Param } from '../params.js';
import type { Ops } from '../engine/ops.js';
import { ParameterError, checkPositiveInt } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';

export interface MlpConfig {
  inputs: number;
  hidden: number[];
  blockWidth: number;
  outputBlocks: number;
  outputBias?: (block: number) => number;
  seed?: number | string;
  name?: string;
}

export class Mlp {
  readonly weights: Param[] = [];
  readonly biases: Param[] = [];

  constructor(config: MlpConfig) {
    const inputs = checkPositiveInt('mlp inputs', config.inputs);
    if (!Array.isArray(config.hidden)) throw new ParameterError('mlp: hidden must be a list of widths, e.g. [64, 64]');
    const hidden = config.hidden.map((h) => checkPositiveInt('mlp hidden width', h));
    const width = checkPositiveInt('mlp block width', config.blockWidth);
    const blocks = checkPositiveInt('mlp output blocks', config.outputBlocks);
    const name = config.name ?? 'mlp';
    const rng = new RandomStream(config.seed ?? 0);
    const sizes = [inputs, ...hidden, blocks * width];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l];
      const fanOut = sizes[l + 1];
      const last = l + 2 === sizes.length;
      const scale = (last ? 0.01 : 1) * Math.sqrt(2 / fanIn);
      const w = new Float32Array(fanIn * fanOut);
      for (let k = 0; k < w.length; k++) w[k] = scale * rng.normal();
      const b = new Float32Array(fanOut);
      if (last && config.outputBias) {
        for (let blk = 0; blk < blocks; blk++) b.fill(config.outputBias(blk), blk * width, (blk + 1) * width);
      }
      this.weights.push(new Param(`${name}.W${l}`, fanIn, fanOut, w, { decay: true }));
      this.biases.push(new Param(`${name}.b${l}`, 1, fanOut, b));
    }
  }

  params(): Param[] {
    return this.weights.flatMap((w, l) => [w, this.biases[l]]);
  }

  apply<V>(ops: Ops<V>, x: V): V {
    return ops.mlp(
      x,
      this.weights.map((w, l) => ({ weight: ops.param(w), bias: ops.param(this.biases[l]) })),
    );
  }
}
