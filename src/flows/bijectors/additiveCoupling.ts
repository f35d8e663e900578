/**
 * The additive residual coupling block of i-RevNet (Jacobsen, Smeulders & Oyallon 2018,
 * "i-RevNet: deep invertible networks", https://arxiv.org/abs/1802.07088; after RevNet, Gomez et
 * al. 2017, and NICE, Dinh et al. 2015): the input is split in two halves x = [x₁ | x₂] and
 *   y = [x₂ | x₁ + F(x₂)],
 * with F any network (here a ReLU MLP, src/flows/nn/mlp.ts). The swap makes the next block
 * transform the other half. The inverse is exact in closed form, x₂ = y₁, x₁ = y₂ − F(y₁), and
 * the Jacobian has determinant ±1 (a shear times a permutation): log|det| = 0, so the block only
 * moves mass; scaling comes from other layers (ActNorm, affine).
 *
 * Because the input is recomputed from the output exactly, a chain of such blocks need not keep
 * its activations for back-propagation: src/flows/train/reversibleGradient.ts reconstructs each
 * block's input on the way back and holds one block's tape at a time (docs/residual-flows.md
 * measures what that saves).
 *
 * x₁ is the first ⌈D/2⌉ coordinates, x₂ the rest; D ≥ 2.
 */
import type { Ops } from '../engine/ops.js';
import type { Param } from '../params.js';
import { Mlp } from '../nn/mlp.js';
import { zeroLogDet, type Bijector, type BijectorResult } from './bijector.js';
import { ParameterError, checkPositiveInt } from '../../core/errors.js';

export interface AdditiveCouplingConfig {
  dim: number;
  /** Hidden widths of F (default [64, 64]). */
  hidden?: number[];
  seed?: number | string;
}

export class AdditiveCoupling implements Bijector {
  readonly type = 'additive-coupling';
  readonly dim: number;
  readonly cost = { forward: 'parallel', inverse: 'parallel' } as const;
  readonly net: Mlp;
  /** Width of x₁ (⌈D/2⌉) and of x₂. */
  readonly first: number;
  readonly second: number;
  private readonly hidden: number[];
  private readonly seed: number | string;

  constructor(config: AdditiveCouplingConfig) {
    if (config == null || typeof config !== 'object') throw new ParameterError('additive-coupling: config { dim, ... } is required');
    this.dim = checkPositiveInt('additive-coupling dim', config.dim);
    if (this.dim < 2) throw new ParameterError('additive-coupling: needs dim >= 2 (the block splits the coordinates in two halves)');
    this.first = Math.ceil(this.dim / 2);
    this.second = this.dim - this.first;
    this.hidden = [...(config.hidden ?? [64, 64])];
    this.seed = config.seed ?? 0;
    this.net = new Mlp({ inputs: this.second, hidden: this.hidden, blockWidth: this.first, outputBlocks: 1, seed: this.seed, name: 'additive' });
  }

  params(): Param[] {
    return this.net.params();
  }

  forward<V>(ops: Ops<V>, x: V): BijectorResult<V> {
    const x1 = ops.cols(x, 0, this.first);
    const x2 = ops.cols(x, this.first, this.second);
    return { y: ops.concatCols([x2, ops.add(x1, this.net.apply(ops, x2))]), logDet: zeroLogDet(ops) };
  }

  inverse<V>(ops: Ops<V>, y: V): BijectorResult<V> {
    const y1 = ops.cols(y, 0, this.second);
    const y2 = ops.cols(y, this.second, this.first);
    return { y: ops.concatCols([ops.sub(y2, this.net.apply(ops, y1)), y1]), logDet: zeroLogDet(ops) };
  }

  getConfig(): Record<string, unknown> {
    return { dim: this.dim, hidden: [...this.hidden], seed: this.seed };
  }
}
