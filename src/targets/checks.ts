/**
 * Argument checks shared by the built-in targets: a wrong-length point or batch is a
 * DimensionError naming the target, never a silent NaN.
 */
import type * as tf from '@tensorflow/tfjs';
import { keep as tfKeep, tensor as tfTensor } from '@tensorflow/tfjs';
import { DimensionError, ParameterError, checkPositiveInt } from '../core/errors.js';
import { checkHeap } from '../core/memory.js';

/** Throws unless the float64 point has the target's dimension. */
export function checkPoint(target: string, dim: number, x: ArrayLike<number>): void {
  if (x.length !== dim) {
    throw new DimensionError(`dimension mismatch: target ${target} has dim ${dim}, got a point of length ${x.length}`);
  }
}

/** Throws unless the batch is [n, dim]. */
export function checkBatch(target: string, dim: number, x: tf.Tensor): void {
  if (x.rank !== 2 || x.shape[1] !== dim) {
    throw new DimensionError(
      `dimension mismatch: target ${target} has dim ${dim}, logProb needs an [n, ${dim}] batch, got [${x.shape.join(', ')}]`,
    );
  }
}

/**
 * Bytes a target keeps per dimension: a handful of float64 vectors (mean, scales, moments,
 * scratch), their float32 tfjs copies and the plotting box (one small JS array per dimension).
 */
const BYTES_PER_DIM = 256;

/**
 * A dimension parameter: a positive integer, at least `min`, whose vectors fit in memory (a
 * MemoryLimitError says how much `dim` would need, before anything is allocated).
 */
export function checkDimension(name: string, value: number, min = 1): number {
  checkPositiveInt(name, value);
  if (value < min) throw new ParameterError(`invalid parameter ${name} = ${value}: must be at least ${min}`);
  checkHeap(`a target with ${name} = ${value}`, value * BYTES_PER_DIM, `a smaller ${name}`);
  return value;
}

/** Copies numbers into a Float64Array of the expected length, checking each is finite. */
export function vectorParam(name: string, value: ArrayLike<number>, length: number): Float64Array {
  if (value == null || typeof value.length !== 'number') {
    throw new ParameterError(`invalid parameter ${name}: must be an array of ${length} numbers`);
  }
  if (value.length !== length) {
    throw new ParameterError(`invalid parameter ${name}: expected ${length} numbers, got ${value.length}`);
  }
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const v = value[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ParameterError(`invalid parameter ${name}[${i}] = ${String(v)}: must be a finite number`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * A dim x dim matrix from a flat row-major array or an array of rows, as a Float64Array.
 */
export function matrixParam(name: string, value: ArrayLike<number> | ArrayLike<ArrayLike<number>>, dim: number): Float64Array {
  if (value == null || typeof value.length !== 'number') {
    throw new ParameterError(`invalid parameter ${name}: must be a ${dim}x${dim} matrix`);
  }
  const first = value.length > 0 ? (value as ArrayLike<unknown>)[0] : undefined;
  if (typeof first === 'object' && first !== null) {
    const rows = value as ArrayLike<ArrayLike<number>>;
    if (rows.length !== dim) throw new ParameterError(`invalid parameter ${name}: expected ${dim} rows, got ${rows.length}`);
    const out = new Float64Array(dim * dim);
    for (let i = 0; i < dim; i++) out.set(vectorParam(`${name}[${i}]`, rows[i], dim), i * dim);
    return out;
  }
  return vectorParam(name, value as ArrayLike<number>, dim * dim);
}

export const LOG_2PI = Math.log(2 * Math.PI);

/**
 * A long-lived float32 constant owned by a target. tf.keep so a caller's tf.tidy does not free
 * it when it is first created inside their scope; tfjs takes no Float64Array, hence the copy.
 */
export function constTensor(values: ArrayLike<number>, shape: number[]): tf.Tensor {
  return tfKeep(tfTensor(Float32Array.from(values), shape, 'float32'));
}
