/**
 * Autoregressive layers (UDL §16.3.4–16.3.5): x_i = τ(z_i; θ_i) with θ_i from a MADE conditioner
 * (src/flows/nn/made.ts) of the coordinates before i, and any transformer τ
 * (src/flows/bijectors/transformers.ts). MAF and IAF are the two directions of this one layer:
 *
 * - IAF (Kingma et al. 2016, https://arxiv.org/abs/1606.04934): θ = MADE(z), the conditioner
 *   reads the noise side. Sampling (z → x) is one parallel pass; the density (x → z) is
 *   sequential: coordinate i of z is only known once z_<i is, so `dim` passes of
 *   z ← τ⁻¹(x; θ(z)), exact after `dim`.
 * - MAF (Papamakarios, Pavlakou & Murray 2017, https://arxiv.org/abs/1705.07057): θ = MADE(x),
 *   the conditioner reads the data side. The density is one parallel pass
 *   z = τ⁻¹(x; θ(x)); sampling is sequential, `dim` passes of x ← τ(z; θ(x)).
 *
 * So an IAF suits reverse-KL training and sampling; a MAF suits maximum likelihood and density
 * evaluation (the issue of which side is cheap is UDL §16.3.5). In both the Jacobian is
 * triangular in the ordering, with diagonal τ'(·).
 */
import type { Ops } from '../engine/ops.js';
import type { Param } from '../params.js';
import { Made, naturalOrder } from '../nn/made.js';
import { checkInputBound, softBound } from '../nn/softBound.js';
import { createTransformer, type Transformer, type TransformerConfig } from './transformers.js';
import type { Bijector, BijectorResult } from './bijector.js';
import { ParameterError, checkPositiveInt } from '../../core/errors.js';

export type AutoregressiveDirection = 'iaf' | 'maf';

export interface AutoregressiveConfig {
  dim: number;
  /** MADE hidden widths, e.g. [64, 64]. */
  hidden: number[];
  /** Which side the conditioner reads: 'iaf' (noise, fast sampling) or 'maf' (data, fast density). */
  direction?: AutoregressiveDirection;
  /** The transformer (default the gated affine of the IAF paper). */
  transformer?: TransformerConfig;
  /** Input degrees (a permutation of 1..dim); natural order by default. */
  order?: number[];
  /** Soft bound c of the MADE's inputs, v ↦ c·tanh(v/c), elementwise so the masks hold (none by default; see Coupling's). */
  inputBound?: number;
  /** Seed of the weight initialisation (default 0). */
  seed?: number | string;
}

export class Autoregressive implements Bijector {
  readonly type: string = 'autoregressive';
  readonly dim: number;
  readonly direction: AutoregressiveDirection;
  readonly transformer: Transformer;
  readonly made: Made;
  readonly cost: { forward: 'parallel' | 'sequential'; inverse: 'parallel' | 'sequential' };
  private readonly inputBound: number | undefined;

  constructor(config: AutoregressiveConfig) {
    if (config == null || typeof config !== 'object') throw new ParameterError('autoregressive layer: config { dim, hidden, ... } is required');
    this.dim = checkPositiveInt('autoregressive dim', config.dim);
    this.direction = config.direction ?? 'iaf';
    if (this.direction !== 'iaf' && this.direction !== 'maf') throw new ParameterError(`autoregressive direction must be 'iaf' or 'maf', got '${String(this.direction)}'`);
    this.transformer = createTransformer(config.transformer ?? { kind: 'gated-affine' });
    this.inputBound = checkInputBound('autoregressive', config.inputBound);
    this.made = new Made({
      dim: this.dim,
      hidden: config.hidden,
      order: config.order ?? naturalOrder(this.dim),
      outputBlocks: this.transformer.perDim,
      outputBias: (b) => this.transformer.initialValue(b),
      seed: config.seed ?? 0,
    });
    this.cost = this.direction === 'iaf' ? { forward: 'parallel', inverse: 'sequential' } : { forward: 'sequential', inverse: 'parallel' };
  }

  params(): Param[] {
    return this.made.params();
  }

  /** One pass: out = τ^(±1)(known; θ(cond)). */
  private pass<V>(ops: Ops<V>, cond: V, known: V, inverse: boolean): BijectorResult<V> {
    return this.transformer.apply(ops, known, this.made.apply(ops, softBound(ops, cond, this.inputBound)), inverse);
  }

  /**
   * The sequential direction: `dim` sweeps of v ← τ^(±1)(known; θ(v)). After sweep k the first k
   * coordinates in the order are exact; the last sweep's θ came from exact inputs, so its
   * log-det is exact.
   */
  private sequential<V>(ops: Ops<V>, known: V, inverse: boolean): BijectorResult<V> {
    let v = known;
    let r: BijectorResult<V> | null = null;
    for (let pass = 0; pass < this.dim; pass++) {
      const cur = v;
      r = ops.scope(() => this.pass(ops, cur, known, inverse));
      v = r.y;
    }
    return r!;
  }

  forward<V>(ops: Ops<V>, z: V): BijectorResult<V> {
    return this.direction === 'iaf' ? this.pass(ops, z, z, false) : this.sequential(ops, z, false);
  }

  inverse<V>(ops: Ops<V>, x: V): BijectorResult<V> {
    return this.direction === 'maf' ? this.pass(ops, x, x, true) : this.sequential(ops, x, true);
  }

  getConfig(): Record<string, unknown> {
    return { dim: this.dim, direction: this.direction, transformer: this.transformer.config(), ...this.made.getConfig(), ...(this.inputBound === undefined ? {} : { inputBound: this.inputBound }) };
  }
}

/**
 * The IAF layer of the anchors and of flows saved before the engine (type 'iaf-affine', config
 * { dim, hidden, order, sBias }): an autoregressive layer in the IAF direction with the gated
 * affine transformer.
 */
export function iafAffineFromLegacy(c: { dim: number; hidden: number[]; order?: number[]; sBias?: number; seed?: number | string }): Autoregressive {
  return new Autoregressive({ dim: c.dim, hidden: c.hidden, order: c.order, seed: c.seed, direction: 'iaf', transformer: { kind: 'gated-affine', sBias: c.sBias ?? 2 } });
}
