/**
 * The flow for density estimation (`flowsampler fit`, `fitMaximumLikelihood`): every layer's
 * density direction is one parallel pass (UDL §16.3.5), since maximum likelihood evaluates
 * log q at the data every step. The default follows RQ-NSF (C) of Durkan et al. (2019, "Neural
 * spline flows"): coupling layers of alternating parity with monotone rational-quadratic splines,
 * between a learnable affine layer at the base and the fixed standardisation layer at the data
 * side, and each spline coupling paired with an affine coupling of the same parity. Splines
 * reshape each conditional (several modes, skew) inside their interval and are the identity
 * outside it; the affine coupling moves and scales the conditional wherever it lies, which a
 * banana's tails need (docs/density.md). The conditioners see their inputs through a soft bound
 * (`inputBound`), so a point beyond the data's range gets the transform of the range's edge
 * rather than an extrapolated one. Coupling layers are one pass both ways, so the fitted flow
 * also samples in one pass. `family: 'maf'` gives masked autoregressive layers with the same transformer
 * (Papamakarios et al. 2017): more expressive per layer, but sampling takes `dim` passes. In one
 * dimension the layers are elementwise splines.
 */
import { createFamilyFlow, createFlow, defaultHidden } from './builder.js';
import type { Flow } from './flow.js';
import type { TransformerConfig } from './bijectors/transformers.js';
import { ParameterError, checkParam, checkPositiveInt } from '../core/errors.js';

export type DensityFamily = 'coupling' | 'maf';

export interface DensityFlowOptions {
  /** 'coupling' (default; one pass both ways) or 'maf' (one-pass density, dim-pass sampling). */
  family?: DensityFamily;
  /** 'spline' (rational-quadratic, default) or 'affine'. */
  transformer?: 'spline' | 'affine';
  /** Flow layers (default 4; with the spline transformer each is an affine and a spline coupling). */
  layers?: number;
  /** Conditioner hidden widths (default `defaultHidden(dim)`). */
  hidden?: number[];
  /** Spline bins (default 16) and the half-width of its interval on the standardised scale (default 3). */
  bins?: number;
  bound?: number;
  /**
   * Bound of |log σ| in each affine layer (default 5 in coupling flows, 15 in MAF flows). A MAF
   * layer scales every coordinate given the ones before it, so it can carry a funnel's range of
   * scales (e^{±v/2}) in fewer layers when its bound is wider; wider bounds made coupling flows
   * extrapolate worse (docs/density.md).
   */
  scaleClip?: number;
  /** Soft bound c of every conditioner's inputs, a ↦ c·tanh(a/c), on the standardised scale (default 4; null for none). */
  inputBound?: number | null;
  seed?: number | string;
}

export const DENSITY_FLOW_DEFAULTS = { family: 'coupling', transformer: 'spline', layers: 4, bins: 16, bound: 3, inputBound: 4, scaleClip: { coupling: 5, maf: 15 } } as const;

export function createDensityFlow(dim: number, options: DensityFlowOptions = {}): Flow {
  checkPositiveInt('flow dim', dim);
  const family = options.family ?? DENSITY_FLOW_DEFAULTS.family;
  if (family !== 'coupling' && family !== 'maf') throw new ParameterError(`density flow family must be 'coupling' or 'maf', got '${String(family)}'`);
  const kind = options.transformer ?? DENSITY_FLOW_DEFAULTS.transformer;
  if (kind !== 'spline' && kind !== 'affine') throw new ParameterError(`density flow transformer must be 'spline' or 'affine', got '${String(kind)}'`);
  const layers = checkPositiveInt('flow layers', options.layers ?? DENSITY_FLOW_DEFAULTS.layers);
  const clip = checkParam('scaleClip', options.scaleClip ?? DENSITY_FLOW_DEFAULTS.scaleClip[family], (v) => v > 0 && v < Infinity, 'a positive number');
  const affine: TransformerConfig = { kind: 'affine', clip };
  const transformer: TransformerConfig =
    kind === 'spline' ? { kind: 'rq-spline', bins: options.bins ?? DENSITY_FLOW_DEFAULTS.bins, bound: options.bound ?? DENSITY_FLOW_DEFAULTS.bound } : affine;
  const seed = options.seed ?? 0;
  if (dim === 1) {
    // No other coordinate to condition on: elementwise layers.
    return createFlow({ dim: 1, seed, layers: [{ type: 'affine-diagonal' }, ...Array.from({ length: layers }, () => ({ type: 'elementwise', transformer })), { type: 'affine-diagonal' }] });
  }
  const hidden = options.hidden ?? defaultHidden(dim);
  const inputBound = options.inputBound === null ? undefined : (options.inputBound ?? DENSITY_FLOW_DEFAULTS.inputBound);
  if (family === 'maf') return createFamilyFlow('maf', dim, { layers, hidden, transformer, affine: 'both', inputBound, seed });
  const coupling = (parity: 0 | 1, t: TransformerConfig) => ({ type: 'coupling', hidden, partition: 'alternate', parity, transformer: t, inputBound });
  const specs = Array.from({ length: layers }, (_, k) => {
    const parity = (k % 2) as 0 | 1;
    return kind === 'spline' ? [coupling(parity, affine), coupling(parity, transformer)] : [coupling(parity, transformer)];
  }).flat();
  return createFlow({ dim, seed, layers: [{ type: 'affine-diagonal' }, ...specs, { type: 'affine-diagonal' }] });
}
