/**
 * Fixed permutation of coordinates, y_i = z_perm[i]; volume-preserving (log|det| = 0). Between
 * autoregressive or coupling layers a permutation lets every coordinate condition on every other
 * one somewhere in the chain (Kingma et al. 2016, §5; Papamakarios et al. 2017; Dinh et al. 2017).
 */
import type { Ops } from '../engine/ops.js';
import type { Param } from '../params.js';
import { zeroLogDet, type Bijector, type BijectorResult } from './bijector.js';
import { ParameterError } from '../../core/errors.js';

export class Permute implements Bijector {
  readonly type = 'permute';
  readonly dim: number;
  readonly cost = { forward: 'parallel', inverse: 'parallel' } as const;
  readonly perm: number[];
  private readonly inv: number[];

  constructor(config: { perm: number[] }) {
    const perm = config?.perm;
    if (!Array.isArray(perm) || perm.length === 0) throw new ParameterError('permute: config { perm: [...] } is required');
    this.dim = perm.length;
    const seen = new Array(this.dim).fill(false);
    for (const p of perm) {
      if (!Number.isInteger(p) || p < 0 || p >= this.dim || seen[p]) throw new ParameterError(`permute: [${perm.join(', ')}] is not a permutation of 0..${this.dim - 1}`);
      seen[p] = true;
    }
    this.perm = [...perm];
    this.inv = new Array(this.dim);
    perm.forEach((src, i) => (this.inv[src] = i));
  }

  /** The reversal y_i = z_{dim−1−i}. */
  static reverse(dim: number): Permute {
    return new Permute({ perm: Array.from({ length: dim }, (_, i) => dim - 1 - i) });
  }

  params(): Param[] {
    return [];
  }

  forward<V>(ops: Ops<V>, z: V): BijectorResult<V> {
    return { y: ops.gatherCols(z, this.perm), logDet: zeroLogDet(ops) };
  }

  inverse<V>(ops: Ops<V>, x: V): BijectorResult<V> {
    return { y: ops.gatherCols(x, this.inv), logDet: zeroLogDet(ops) };
  }

  getConfig(): Record<string, unknown> {
    return { perm: [...this.perm] };
  }
}
