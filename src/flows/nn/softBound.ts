/**
 * The soft bound of a conditioner's inputs, a ↦ c·tanh(a/c): the identity near 0 and the edge ±c
 * far out, so a point beyond the data's range gets the transform of the range's edge instead of
 * one the network extrapolates (a ReLU network extrapolates linearly, and exp of that overflows:
 * docs/density.md). Elementwise, so MADE masks still hold.
 */
import type { Ops } from '../engine/ops.js';
import { checkParam } from '../../core/errors.js';

/** The bound from a layer's config (undefined: none). */
export function checkInputBound(layer: string, c: number | undefined): number | undefined {
  return c === undefined ? undefined : checkParam(`${layer} inputBound`, c, (v) => v > 0 && v < Infinity, 'positive and finite');
}

export function softBound<V>(ops: Ops<V>, x: V, c: number | undefined): V {
  return c === undefined ? x : ops.scale(ops.tanh(ops.scale(x, 1 / c)), c);
}
