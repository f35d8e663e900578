/**
 * The recommended flow architecture. Base N(0, I) → learnable diagonal affine (z0 = μ0 + σ0 ε,
 * Kingma et al. 2016) → K affine IAF layers with reversals in between (as alternating MADE
 * orders in the fused form). The affine layer is what
 * removes the "entropy ceiling" of a chain of gated layers (each has log|det| < 0).
 */
import type { Bijector } from './bijector.js';
import { AffineDiagonal } from './affine.js';
import { IafAffine } from './iaf.js';
import { FastIafAffine } from './fastIaf.js';
import { Permute } from './permute.js';
import { Flow } from './flow.js';
import { checkPositiveInt } from '../core/errors.js';

export interface DefaultFlowOptions {
  /** Number of IAF layers (default 3; see docs/flows.md for the measurements behind it). */
  layers?: number;
  /** Hidden widths of every MADE (default two layers of max(64, 4 dim) units, at most 256). */
  hidden?: number[];
  /** Initial gate bias (default 2: σ ≈ 0.88). */
  sBias?: number;
  /** Initial shift and scale of the output affine layer (e.g. from a pilot estimate). */
  loc?: number[];
  scale?: number[];
  /**
   * Where learnable diagonal affine layers go: 'base' (z0 = μ0 + σ0 ε before the IAF chain),
   * 'output' (x = μ + σ u after it, so the IAF layers work in standardised units), 'both', or
   * 'none' (the plain gated IAF of the paper, for comparisons). Default 'both'.
   */
  affine?: 'base' | 'output' | 'both' | 'none';
  /**
   * Use the fused IAF layer (`FastIafAffine`: one op with a hand-written backward, same numbers)
   * instead of the layer-by-layer `IafAffine` (default true).
   */
  fused?: boolean;
  /** Seed of the weight initialisation (default 0). */
  seed?: number | string;
}

/** IAF layers in the default flow (3: docs/flows.md, funnel ablation). */
export const DEFAULT_FLOW_LAYERS = 3;

/**
 * Two hidden layers of max(64, 4·dim) units, at most 256. At least 64: with 32 the banana's
 * fits landed in a worse local optimum on 2 of 6 seeds (docs/flows.md).
 */
export function defaultHidden(dim: number): number[] {
  const h = Math.min(256, Math.max(64, 4 * dim));
  return [h, h];
}

export function createDefaultFlow(dim: number, options: DefaultFlowOptions = {}): Flow {
  checkPositiveInt('flow dim', dim);
  const layers = options.layers ?? DEFAULT_FLOW_LAYERS;
  const hidden = options.hidden ?? defaultHidden(dim);
  const seed = options.seed ?? 0;
  const bijectors: Bijector[] = [];
  const affine = options.affine ?? 'both';
  if (affine === 'base' || affine === 'both') bijectors.push(new AffineDiagonal({ dim }));
  const fused = options.fused !== false;
  for (let k = 0; k < layers; k++) {
    const config = { dim, hidden, sBias: options.sBias ?? 2, seed: `${seed}/iaf${k}` };
    if (!fused) {
      if (k > 0 && dim > 1) bijectors.push(Permute.reverse(dim));
      bijectors.push(new IafAffine(config));
      continue;
    }
    // The reversal between layers is folded into the MADE order of every second layer instead
    // of a Permute (a gather and its scatter gradient per layer): Rev∘IAF∘Rev is an IAF with the
    // reversed order, so with an even number of reversals (odd `layers`, e.g. the default 3)
    // this is exactly the family of the Permute form; with an odd number it differs by a fixed
    // relabelling of the coordinates.
    const order = Array.from({ length: dim }, (_, i) => (k % 2 === 1 ? dim - i : i + 1));
    bijectors.push(new FastIafAffine({ ...config, order }));
  }
  if (affine === 'output' || affine === 'both') bijectors.push(new AffineDiagonal({ dim, loc: options.loc, scale: options.scale }));
  return new Flow(bijectors);
}
