/**
 * Coupling layers (UDL §16.3.3; Dinh, Sohl-Dickstein & Bengio 2017, "Density estimation using
 * Real NVP", https://arxiv.org/abs/1605.08803): the coordinates are split into a conditioning set
 * A, passed through unchanged, and a transformed set B,
 *   y_A = z_A,  y_B = τ(z_B; θ(z_A)),
 * with θ from a plain MLP (src/flows/nn/mlp.ts) and any transformer (affine for RealNVP, the RQ
 * spline for Durkan et al. 2019's RQ-NSF (C)). Both directions are one pass, since θ depends
 * only on the unchanged half; the Jacobian is block-triangular with diagonal τ'.
 *
 * The split: `partition` 'alternate' (even/odd coordinates, swapped by `parity`), 'half'
 * (first/second half) or 'random' (a seeded half), or an explicit list of the transformed
 * coordinates. Chain layers with different parities (or permutations) so every coordinate
 * gets transformed.
 */
import type { Ops } from '../engine/ops.js';
import type { Param } from '../params.js';
import { Mlp } from '../nn/mlp.js';
import { checkInputBound, softBound } from '../nn/softBound.js';
import { createTransformer, type Transformer, type TransformerConfig } from './transformers.js';
import type { Bijector, BijectorResult } from './bijector.js';
import { ParameterError, checkPositiveInt } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';

export type Partition = 'alternate' | 'half' | 'random' | number[];

export interface CouplingConfig {
  dim: number;
  hidden: number[];
  transformer?: TransformerConfig;
  partition?: Partition;
  /** 0 or 1: which of the two sets is transformed (default 0). */
  parity?: 0 | 1;
  /**
   * Soft bound c of the conditioner's inputs, a ↦ c·tanh(a/c) (none by default): beyond the data's
   * range the conditioner then sees its edge, not an extrapolation of it.
   */
  inputBound?: number;
  seed?: number | string;
}

/** The transformed coordinates of a partition. */
export function transformedSet(dim: number, partition: Partition, parity: 0 | 1, seed: number | string): number[] {
  let set: number[];
  if (Array.isArray(partition)) {
    set = [...partition];
  } else if (partition === 'alternate') {
    set = Array.from({ length: dim }, (_, i) => i).filter((i) => i % 2 === parity);
  } else if (partition === 'half') {
    const h = Math.floor(dim / 2);
    set = parity === 0 ? Array.from({ length: dim - h }, (_, i) => h + i) : Array.from({ length: h }, (_, i) => i);
  } else if (partition === 'random') {
    const idx = Array.from({ length: dim }, (_, i) => i);
    const rng = new RandomStream(seed).derive('partition');
    for (let i = dim - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const h = Math.floor(dim / 2);
    set = (parity === 0 ? idx.slice(h) : idx.slice(0, h)).sort((a, b) => a - b);
  } else {
    throw new ParameterError(`coupling partition must be 'alternate', 'half', 'random' or a list of coordinates, got ${JSON.stringify(partition)}`);
  }
  const unique = new Set(set);
  if (unique.size !== set.length || set.some((i) => !Number.isInteger(i) || i < 0 || i >= dim)) {
    throw new ParameterError(`coupling: transformed coordinates [${set.join(', ')}] must be distinct integers in 0..${dim - 1}`);
  }
  if (set.length === 0 || set.length === dim) {
    throw new ParameterError(`coupling: the transformed set must be a proper, non-empty subset of the ${dim} coordinates (a coupling layer needs dim >= 2)`);
  }
  return set.sort((a, b) => a - b);
}

export class Coupling implements Bijector {
  readonly type = 'coupling';
  readonly dim: number;
  readonly cost = { forward: 'parallel', inverse: 'parallel' } as const;
  readonly transformer: Transformer;
  readonly transformed: number[];
  readonly conditioning: number[];
  readonly net: Mlp;
  private readonly hidden: number[];
  private readonly partition: Partition;
  private readonly parity: 0 | 1;
  private readonly seed: number | string;
  private readonly inputBound: number | undefined;
  /** Column order of [z_A | y_B] back to the original coordinates. */
  private readonly unsplit: number[];

  constructor(config: CouplingConfig) {
    if (config == null || typeof config !== 'object') throw new ParameterError('coupling layer: config { dim, hidden, ... } is required');
    this.dim = checkPositiveInt('coupling dim', config.dim);
    this.partition = config.partition ?? 'alternate';
    this.parity = config.parity ?? 0;
    if (this.parity !== 0 && this.parity !== 1) throw new ParameterError(`coupling parity must be 0 or 1, got ${String(this.parity)}`);
    this.seed = config.seed ?? 0;
    this.inputBound = checkInputBound('coupling', config.inputBound);
    this.transformed = transformedSet(this.dim, this.partition, this.parity, this.seed);
    const inB = new Set(this.transformed);
    this.conditioning = Array.from({ length: this.dim }, (_, i) => i).filter((i) => !inB.has(i));
    this.transformer = createTransformer(config.transformer ?? { kind: 'affine' });
    this.hidden = [...config.hidden];
    this.net = new Mlp({
      inputs: this.conditioning.length,
      hidden: config.hidden,
      blockWidth: this.transformed.length,
      outputBlocks: this.transformer.perDim,
      outputBias: (b) => this.transformer.initialValue(b),
      seed: this.seed,
      name: 'coupling',
    });
    const order = [...this.conditioning, ...this.transformed];
    this.unsplit = new Array(this.dim);
    order.forEach((orig, col) => (this.unsplit[orig] = col));
  }

  params(): Param[] {
    return this.net.params();
  }

  private apply<V>(ops: Ops<V>, input: V, inverse: boolean): BijectorResult<V> {
    const a = ops.gatherCols(input, this.conditioning);
    const b = ops.gatherCols(input, this.transformed);
    const r = this.transformer.apply(ops, b, this.net.apply(ops, softBound(ops, a, this.inputBound)), inverse);
    return { y: ops.gatherCols(ops.concatCols([a, r.y]), this.unsplit), logDet: r.logDet };
  }

  forward<V>(ops: Ops<V>, z: V): BijectorResult<V> {
    return this.apply(ops, z, false);
  }

  inverse<V>(ops: Ops<V>, x: V): BijectorResult<V> {
    return this.apply(ops, x, true);
  }

  getConfig(): Record<string, unknown> {
    return { dim: this.dim, hidden: [...this.hidden], transformer: this.transformer.config(), partition: this.partition, parity: this.parity, ...(this.inputBound === undefined ? {} : { inputBound: this.inputBound }), seed: this.seed };
  }
}
