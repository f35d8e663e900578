/**
 * The operations a bijector is written in. A layer states its math once, as a function of an
 * `Ops` (forward and inverse), and every engine runs it: the heap engine records the ops on its
 * own reverse-mode tape over buffers on the wasm heap (src/flows/engine/heap/), the tfjs engine
 * maps them to tfjs ops and lets tfjs differentiate (src/flows/engine/tfjs/). A layer never asks
 * which engine runs it.
 *
 * Values are 2-D: a batch [n, width], a row vector [1, width] (broadcast over rows) or a small
 * matrix (e.g. an LU factor). Binary ops broadcast a size-1 axis. Log-determinants are [n, 1]
 * (or [1, 1] when the same for every row).
 *
 * Bigger pieces of math with a hand-written backward (the transformers of coupling and
 * autoregressive layers: affine, gated affine, rational-quadratic spline, piecewise linear) are
 * `Kernel`s: one definition per engine, registered by name in one file each, the way tfjs
 * registers a kernel per backend (src/flows/kernels/). `ops.apply(kernel, ...)` runs one.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Param } from '../params.js';
import type { HeapKernelImpl } from './heap/kernel.js';

export type Shape = readonly [number, number];

/** One dense layer of an MLP: x · W + b, with an optional 0/1 mask on W's gradient. */
export interface DenseLayer<V> {
  weight: V;
  bias: V | null;
  /** Gradient mask of the weight (the weights themselves are stored pre-masked). */
  gradMask?: V | null;
}

export interface MlpOptions {
  /**
   * MADE degrees of the hidden units (one list per hidden layer) and of the inputs: lets an
   * engine skip the masked-out blocks when sampling (src/flows/engine/heap/blockedMlp.ts).
   */
  degrees?: { input: number[]; hidden: number[][]; outputBlocks: number };
}

/**
 * A kernel: a piece of math with a tfjs form (differentiated by tfjs) and a heap form (forward
 * and a hand-written backward). Inputs and outputs are values of the same shapes on both.
 */
export interface Kernel<A> {
  readonly name: string;
  /** Output shapes from input shapes. */
  outputShapes(shapes: Shape[], attrs: A): Shape[];
  tfjs(inputs: tf.Tensor2D[], attrs: A): tf.Tensor2D[];
  heap: HeapKernelImpl<A>;
}

export interface Ops<V> {
  readonly engine: 'heap' | 'tfjs';
  /** True when a backward pass will follow (gradients are being recorded). */
  readonly recording: boolean;
  shape(v: V): Shape;
  /** The current value of a flow parameter or constant. */
  param(p: Param): V;
  /** A constant made from numbers (row-major). */
  constant(values: ArrayLike<number>, rows: number, cols: number): V;
  /**
   * The numbers of v (a row-major copy), for control flow that depends on values, such as the
   * stopping test of a fixed-point iteration (src/flows/bijectors/iresnet.ts). Reading takes no
   * part in gradients.
   */
  read(v: V): Float32Array;

  /** ReLU MLP: relu(... relu(x W0 + b0) ...) W_L + b_L (no activation on the last layer). */
  mlp(x: V, layers: DenseLayer<V>[], options?: MlpOptions): V;
  /** a · b for small matrices (parameter algebra, e.g. an LU product). */
  matmul(a: V, b: V): V;
  /** T⁻¹ of a triangular matrix (lower or upper), by substitution. */
  triangularInverse(t: V, lower: boolean): V;

  add(a: V, b: V): V;
  sub(a: V, b: V): V;
  mul(a: V, b: V): V;
  scale(a: V, c: number): V;
  shift(a: V, c: number): V;
  neg(a: V): V;
  exp(a: V): V;
  square(a: V): V;
  tanh(a: V): V;
  softplus(a: V): V;

  /** Columns start .. start+count−1. */
  cols(x: V, start: number, count: number): V;
  concatCols(xs: V[]): V;
  /** Columns in the order of `index` (a permutation or a selection). */
  gatherCols(x: V, index: readonly number[]): V;
  /** Row sums, [r, 1]. */
  sumCols(x: V): V;

  apply<A>(kernel: Kernel<A>, inputs: V[], attrs: A): V[];
  /** Runs fn; when not recording, frees every value it made except those in its result. */
  scope<T>(fn: () => T): T;
}

/** log N(z; 0, τ² I) row-wise, [n, 1], in any engine. */
export function standardNormalLogProb<V>(ops: Ops<V>, z: V, baseScale = 1): V {
  const d = ops.shape(z)[1];
  const c = -d * (0.5 * Math.log(2 * Math.PI) + Math.log(baseScale));
  return ops.shift(ops.scale(ops.sumCols(ops.square(z)), -0.5 / (baseScale * baseScale)), c);
}
