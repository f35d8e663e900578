/**
 * Building flows: `createFlow` composes any registered layers from specs, and the families are
 * the recommended compositions, by name (what `flowsampler train --flow NAME` picks):
 *
 * | family | layers (base side first) | sampling | density |
 * |---|---|---|---|
 * | `iaf` (default) | affine, K gated-affine IAF layers (Kingma et al. 2016), affine | 1 pass | `dim` passes per layer |
 * | `maf` | affine, K affine MAF layers (Papamakarios et al. 2017), affine | `dim` passes per layer | 1 pass |
 * | `coupling` | affine, K affine coupling layers of alternating parity (RealNVP, Dinh et al. 2017), affine | 1 pass | 1 pass |
 * | `spline` | K rational-quadratic spline IAF layers (Durkan et al. 2019), affine | 1 pass | `dim` passes per layer |
 *
 * Alternate layers read the coordinates in reversed order (folded into the MADE order for
 * autoregressive layers, the parity for coupling layers) so every coordinate conditions on every
 * other somewhere in the chain. `lu: true` puts an LU-parametrised linear layer (Glow's 1x1
 * convolution; Kingma & Dhariwal 2018) before each layer, `actnorm: true` an ActNorm layer.
 */
import type { Bijector } from './bijectors/bijector.js';
import { AffineDiagonal, ActNorm } from './bijectors/affineDiagonal.js';
import { Autoregressive } from './bijectors/autoregressive.js';
import { Coupling } from './bijectors/coupling.js';
import { LuLinear } from './bijectors/luLinear.js';
import { Permute } from './bijectors/permute.js';
import { MultiScale } from './bijectors/multiScale.js';
import type { TransformerConfig } from './bijectors/transformers.js';
import { Flow } from './flow.js';
import { bijectorFactory, bijectorTypes } from './registry.js';
import { ParameterError, checkPositiveInt } from '../core/errors.js';

/** One layer of `createFlow`: a registered type and its config (dim and seed filled in). */
export interface LayerSpec {
  type: string;
  [key: string]: unknown;
}

export interface FlowSpec {
  dim: number;
  layers: LayerSpec[];
  /** Seed of the initialisation; layer i without its own seed gets `${seed}/layer${i}`. */
  seed?: number | string;
}

/** A flow from layer specs, e.g. `createFlow({ dim: 2, layers: [{ type: 'coupling', hidden: [32] }] })`. */
export function createFlow(spec: FlowSpec): Flow {
  if (spec == null || typeof spec !== 'object' || !Array.isArray(spec.layers) || spec.layers.length === 0) {
    throw new ParameterError('createFlow: a spec { dim, layers: [{ type, ... }, ...] } is required');
  }
  const dim = checkPositiveInt('flow dim', spec.dim);
  const seed = spec.seed ?? 0;
  const bijectors = spec.layers.map((layer, i) => {
    const factory = layer && typeof layer.type === 'string' ? bijectorFactory(layer.type) : undefined;
    if (!factory) throw new ParameterError(`createFlow: layer ${i} has unknown type ${JSON.stringify(layer?.type)} (known: ${bijectorTypes().join(', ')})`);
    const { type: _type, ...config } = layer;
    return factory({ dim, seed: `${seed}/layer${i}`, ...config });
  });
  return new Flow(bijectors);
}

export type FlowFamily = 'iaf' | 'maf' | 'coupling' | 'spline';

export const FLOW_FAMILIES: Record<FlowFamily, string> = {
  iaf: 'affine + gated-affine IAF layers + affine (default; fast sampling, reverse KL)',
  maf: 'affine + affine MAF layers + affine (fast density: maximum likelihood)',
  coupling: 'affine + affine coupling layers (RealNVP) + affine (fast both ways; dim >= 2)',
  spline: 'rational-quadratic spline IAF layers + affine (flexible marginals, multimodal)',
};

export interface FamilyOptions {
  /** Number of flow layers (default 3; 4 for spline). */
  layers?: number;
  /** Hidden widths of every conditioner (default `defaultHidden(dim)`). */
  hidden?: number[];
  /** Transformer of the coupling/autoregressive layers (each family has its own default). */
  transformer?: TransformerConfig;
  /** An LU linear layer before each flow layer. */
  lu?: boolean;
  /** An ActNorm layer before each flow layer. */
  actnorm?: boolean;
  /** Learnable affine layers: 'base', 'output', 'both' or 'none' (family default). */
  affine?: 'base' | 'output' | 'both' | 'none';
  /** Initial shift and scale of the output affine layer (e.g. from a pilot estimate). */
  loc?: number[];
  scale?: number[];
  /** Initial gate bias of gated-affine layers (default 2: σ ≈ 0.88). */
  sBias?: number;
  /** Soft bound of the coupling and MAF families' conditioner inputs (see Coupling's `inputBound`; default none). */
  inputBound?: number;
  /** Reversals as Permute layers instead of folded into the layers (same family of flows). */
  explicitPermutations?: boolean;
  seed?: number | string;
}

/** IAF layers in the default flow (3: docs/flows.md, funnel ablation). */
export const DEFAULT_FLOW_LAYERS = 3;

/**
 * Two hidden layers of max(64, 4·dim) units, at most 256. At least 64: with 32 the banana's fits
 * landed in a worse local optimum on 2 of 6 seeds (docs/flows.md).
 */
export function defaultHidden(dim: number): number[] {
  const h = Math.min(256, Math.max(64, 4 * dim));
  return [h, h];
}

/** A flow of the given family (see the table in the file header). */
export function createFamilyFlow(family: FlowFamily, dim: number, options: FamilyOptions = {}): Flow {
  checkPositiveInt('flow dim', dim);
  if (!(family in FLOW_FAMILIES)) throw new ParameterError(`unknown flow family '${String(family)}': use ${Object.keys(FLOW_FAMILIES).join(', ')}`);
  if (family === 'coupling' && dim < 2) throw new ParameterError('the coupling family needs dim >= 2 (a coupling layer splits the coordinates in two); use iaf, maf or spline');
  const K = checkPositiveInt('flow layers', options.layers ?? (family === 'spline' ? 4 : DEFAULT_FLOW_LAYERS));
  const hidden = options.hidden ?? defaultHidden(dim);
  const seed = options.seed ?? 0;
  const affine = options.affine ?? (family === 'spline' ? 'output' : 'both');
  if (!['base', 'output', 'both', 'none'].includes(affine)) throw new ParameterError(`affine must be base, output, both or none, got '${String(affine)}'`);
  const bij: Bijector[] = [];
  if (affine === 'base' || affine === 'both') bij.push(new AffineDiagonal({ dim }));
  for (let k = 0; k < K; k++) {
    const layerSeed = family === 'spline' ? `${seed}/spline${k}` : `${seed}/iaf${k}`;
    if (options.actnorm) bij.push(new ActNorm({ dim }));
    if (options.lu) bij.push(new LuLinear({ dim, seed: `${seed}/lu${k}` }));
    const reversed = k % 2 === 1;
    const permute = options.explicitPermutations && k > 0 && dim > 1;
    if (permute) bij.push(Permute.reverse(dim));
    const order = Array.from({ length: dim }, (_, i) => (reversed && !options.explicitPermutations ? dim - i : i + 1));
    switch (family) {
      case 'iaf':
        bij.push(new Autoregressive({ dim, hidden, order, seed: layerSeed, direction: 'iaf', transformer: options.transformer ?? { kind: 'gated-affine', sBias: options.sBias ?? 2 } }));
        break;
      case 'maf':
        bij.push(new Autoregressive({ dim, hidden, order, seed: layerSeed, direction: 'maf', transformer: options.transformer ?? { kind: 'affine' }, inputBound: options.inputBound }));
        break;
      case 'spline':
        bij.push(new Autoregressive({ dim, hidden, order, seed: layerSeed, direction: 'iaf', transformer: options.transformer ?? { kind: 'rq-spline', bins: 8, bound: 4 } }));
        break;
      case 'coupling':
        bij.push(new Coupling({ dim, hidden, seed: layerSeed, partition: 'alternate', parity: (k % 2) as 0 | 1, transformer: options.transformer ?? { kind: 'affine' }, inputBound: options.inputBound }));
        break;
    }
  }
  if (affine === 'output' || affine === 'both') bij.push(new AffineDiagonal({ dim, loc: options.loc, scale: options.scale }));
  return new Flow(bij);
}

export type DefaultFlowOptions = FamilyOptions;

/**
 * The recommended flow: base N(0, I) → learnable diagonal affine (z0 = μ0 + σ0 ε, Kingma et al.
 * 2016) → K gated affine IAF layers with reversals in between (folded into the MADE orders) →
 * learnable affine. The affine layers remove the "entropy ceiling" of a chain of gated layers
 * (each has log|det| < 0).
 */
export function createDefaultFlow(dim: number, options: DefaultFlowOptions = {}): Flow {
  return createFamilyFlow('iaf', dim, options);
}

export interface SplineFlowOptions {
  layers?: number;
  hidden?: number[];
  bins?: number;
  bound?: number;
  /** Learnable diagonal affine layer after the splines (default true). */
  outputAffine?: boolean;
  seed?: number | string;
}

/** K autoregressive RQ-spline IAF layers (orders alternating) and an output affine layer. */
export function createSplineFlow(dim: number, options: SplineFlowOptions = {}): Flow {
  const h = Math.min(256, Math.max(32, 4 * dim));
  return createFamilyFlow('spline', dim, {
    layers: options.layers ?? 4,
    hidden: options.hidden ?? [h, h],
    transformer: { kind: 'rq-spline', bins: options.bins ?? 8, bound: options.bound ?? 4 },
    affine: options.outputAffine === false ? 'none' : 'output',
    seed: options.seed,
  });
}

export interface MultiScaleFlowOptions {
  /** Levels (default: as many as keep at least 2 variables in the last one, at most 4). */
  levels?: number;
  /** Coupling steps per level (default 4). */
  stepsPerLevel?: number;
  /** Hidden widths of every coupling conditioner (default `defaultHidden(dim)`). */
  hidden?: number[];
  /** Coupling transformer (default affine). */
  transformer?: TransformerConfig;
  /** An LU linear layer in every step (default true). */
  lu?: boolean;
  /** An ActNorm layer in every step (default true). */
  actnorm?: boolean;
  /** Soft bound of every coupling conditioner's inputs (see Coupling's `inputBound`; default none). */
  inputBound?: number;
  seed?: number | string;
}

/** Levels of the default multi-scale flow on `dim` variables. */
export function defaultMultiScaleLevels(dim: number): number {
  let levels = 1;
  for (let d = dim; levels < 4 && Math.ceil(d / 2) >= 2; d = Math.ceil(d / 2)) levels++;
  return levels;
}

/**
 * The multi-scale flow of Dinh et al. (2017) for vectors (src/flows/bijectors/multiScale.ts):
 * `levels` levels, each `stepsPerLevel` steps of [ActNorm, LU linear, affine coupling] (Glow's
 * step of flow, Kingma & Dhariwal 2018), half of the variables factored out after each level.
 * `createFamilyFlow('coupling', dim, { layers: levels · stepsPerLevel, lu, actnorm })` is the
 * single-scale flow of the same steps.
 */
export function createMultiScaleFlow(dim: number, options: MultiScaleFlowOptions = {}): Flow {
  checkPositiveInt('flow dim', dim);
  if (dim < 2) throw new ParameterError('a multi-scale coupling flow needs dim >= 2 (coupling layers split the coordinates in two)');
  const levels = checkPositiveInt('multi-scale levels', options.levels ?? defaultMultiScaleLevels(dim));
  const steps = checkPositiveInt('multi-scale steps per level', options.stepsPerLevel ?? 4);
  const hidden = options.hidden ?? defaultHidden(dim);
  const seed = options.seed ?? 0;
  const spec = Array.from({ length: levels }, () => {
    const level: LayerSpec[] = [];
    for (let k = 0; k < steps; k++) {
      if (options.actnorm ?? true) level.push({ type: 'actnorm' });
      if (options.lu ?? true) level.push({ type: 'lu-linear' });
      level.push({ type: 'coupling', hidden, partition: 'alternate', parity: k % 2, transformer: options.transformer ?? { kind: 'affine' }, inputBound: options.inputBound });
    }
    return level;
  });
  return new Flow([new MultiScale({ dim, levels: spec, seed })]);
}
