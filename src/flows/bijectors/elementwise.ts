/**
 * Elementwise layers (UDL §16.3.2): y_i = τ(z_i; θ_i) with θ a learned parameter per coordinate
 * (no conditioner), for any transformer: the piecewise-linear map of Müller et al. (2019) or the
 * rational-quadratic spline of Durkan et al. (2019). The Jacobian is diagonal; both directions
 * are one pass. Alone they cannot couple coordinates; between linear or coupling layers they
 * reshape each marginal.
 */
import type { Ops } from '../engine/ops.js';
import { Param } from '../params.js';
import { createTransformer, type Transformer, type TransformerConfig } from './transformers.js';
import type { Bijector, BijectorResult } from './bijector.js';
import { ParameterError, checkPositiveInt } from '../../core/errors.js';

export interface ElementwiseConfig {
  dim: number;
  transformer?: TransformerConfig;
}

export class Elementwise implements Bijector {
  readonly type = 'elementwise';
  readonly dim: number;
  readonly cost = { forward: 'parallel', inverse: 'parallel' } as const;
  readonly transformer: Transformer;
  readonly theta: Param;

  constructor(config: ElementwiseConfig) {
    if (config == null || typeof config !== 'object') throw new ParameterError('elementwise layer: config { dim, transformer } is required');
    this.dim = checkPositiveInt('elementwise dim', config.dim);
    this.transformer = createTransformer(config.transformer ?? { kind: 'pw-linear' });
    const P = this.transformer.perDim;
    const init = new Float32Array(P * this.dim);
    for (let p = 0; p < P; p++) init.fill(this.transformer.initialValue(p), p * this.dim, (p + 1) * this.dim);
    this.theta = new Param('elementwise.theta', 1, P * this.dim, init);
  }

  params(): Param[] {
    return [this.theta];
  }

  forward<V>(ops: Ops<V>, z: V): BijectorResult<V> {
    return this.transformer.apply(ops, z, ops.param(this.theta), false);
  }

  inverse<V>(ops: Ops<V>, x: V): BijectorResult<V> {
    return this.transformer.apply(ops, x, ops.param(this.theta), true);
  }

  getConfig(): Record<string, unknown> {
    return { dim: this.dim, transformer: this.transformer.config() };
  }
}
