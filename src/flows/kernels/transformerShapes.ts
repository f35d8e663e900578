/**
 * Shape checks shared by the transformer kernels: inputs [x [n, D], θ [n or 1, P·D]] with θ laid
 * out parameter-major (parameter p of coordinate j in column p·D + j).
 */
import { DimensionError } from '../../core/errors.js';
import type { Shape } from '../engine/ops.js';

/** Attributes of every transformer kernel: which direction to run. */
export interface TransformerAttrs {
  inverse: boolean;
}

/** [n, D] of the transformer's input, after checking θ has `perDim` parameters per coordinate. */
export function checkTransformerShapes(name: string, shapes: Shape[], perDim: number): [number, number] {
  if (shapes.length !== 2) throw new DimensionError(`${name}: needs [x, theta], got ${shapes.length} inputs`);
  const [[n, D], [tr, tc]] = shapes;
  if (tc !== perDim * D || (tr !== n && tr !== 1)) {
    throw new DimensionError(`${name}: theta must be [${n} or 1, ${perDim * D}] for x [${n}, ${D}], got [${tr}, ${tc}]`);
  }
  return [n, D];
}
