/**
 * The flow for density estimation (`flowsampler fit`, `fitMaximumLikelihood`): every layer's
 * density direction is one parallel pass (UDL §16.3.5), since maximum likelihood evaluates
 * log q at the data every step. The default is RQ-NSF (C) of Durkan et al. (2019, "Neural spline
 * flows"): coupling layers of alternating parity with monotone rational-quadratic splines,
 * between a learnable affine layer at the base and the fixed standardisation layer at the data
 * side. Splines reshape each conditional (several modes, skew) where an affine coupling only
 * shifts and scales it; coupling layers are one pass both ways, so the fitted flow also samples
 * in one pass. `family: 'maf'` gives masked autoregressive layers with the same transformer
 * (Papamakarios et al. 2017): more expressive per layer, but sampling takes `dim` passes. In one
 * dimension the layers are elementwise splines.
 */
import { createFamilyFlow, createFlow, defaultHidden } from './builder.js';
import type { Flow } from './flow.js';
import type { TransformerConfig } from './bijectors/transformers.js';
import { ParameterError, checkPositiveInt } from '../core/errors.js';

export type DensityFamily = 'coupling' | 'maf';

export interface DensityFlowOptions {
  /** 'coupling' (default; one pass both ways) or 'maf' (one-pass density, dim-pass sampling). */
  family?: DensityFamily;
  /** 'spline' (rational-quadratic, default) or 'affine'. */
  transformer?: 'spline' | 'affine';
  /** Flow layers (default 4). */
  layers?: number;
  /** Conditioner hidden widths (default `defaultHidden(dim)`). */
  hidden?: number[];
  /** Spline bins (default 16) and the half-width of its interval on the standardised scale (default 3). */
  bins?: number;
  bound?: number;
  seed?: number | string;
}

export const DENSITY_FLOW_DEFAULTS = { family: 'coupling', transformer: 'spline', layers: 4, bins: 16, bound: 3 } as const;

export function createDensityFlow(dim: number, options: DensityFlowOptions = {}): Flow {
  checkPositiveInt('flow dim', dim);
  const family = options.family ?? DENSITY_FLOW_DEFAULTS.family;
  if (family !== 'coupling' && family !== 'maf') throw new ParameterError(`density flow family must be 'coupling' or 'maf', got '${String(family)}'`);
  const kind = options.transformer ?? DENSITY_FLOW_DEFAULTS.transformer;
  if (kind !== 'spline' && kind !== 'affine') throw new ParameterError(`density flow transformer must be 'spline' or 'affine', got '${String(kind)}'`);
  const layers = checkPositiveInt('flow layers', options.layers ?? DENSITY_FLOW_DEFAULTS.layers);
  const transformer: TransformerConfig =
    kind === 'spline' ? { kind: 'rq-spline', bins: options.bins ?? DENSITY_FLOW_DEFAULTS.bins, bound: options.bound ?? DENSITY_FLOW_DEFAULTS.bound } : { kind: 'affine' };
  const seed = options.seed ?? 0;
  if (dim === 1) {
    // No other coordinate to condition on: elementwise layers.
    const el = kind === 'spline' ? transformer : { kind: 'affine' as const };
    return createFlow({ dim: 1, seed, layers: [{ type: 'affine-diagonal' }, ...Array.from({ length: layers }, () => ({ type: 'elementwise', transformer: el })), { type: 'affine-diagonal' }] });
  }
  return createFamilyFlow(family, dim, { layers, hidden: options.hidden ?? defaultHidden(dim), transformer, affine: 'both', seed });
}
