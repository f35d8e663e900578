/**
 * The heap-view Slice/SplitV kernels (src/flows/wasmSliceFix.ts) give exactly the stock results:
 * contiguous and strided slices of ranks 1-4, -1 sizes, splits along every axis, int32 and bool
 * tensors, and gradients through slice. Deterministic.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { installWasmSliceFix } from '../src/flows/wasmSliceFix.js';

/** Reference slice from the flat values in plain JS. */
function refSlice(vals: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const rank = shape.length;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const out: number[] = [];
  const idx = new Array(rank).fill(0);
  const total = size.reduce((a, b) => a * b, 1);
  for (let n = 0; n < total; n++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += (begin[d] + idx[d]) * strides[d];
    out.push(vals[off]);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

let stockSlice: tf.KernelFunc;

beforeAll(async () => {
  await initBackend('wasm');
  stockSlice = tf.getKernel('Slice', 'wasm')!.kernelFunc;
  expect(installWasmSliceFix()).toBe(true);
  // The registry now holds the fixed kernel (so the comparisons below test it, not the stock one).
  expect(tf.getKernel('Slice', 'wasm')!.kernelFunc).not.toBe(stockSlice);
  expect(installWasmSliceFix()).toBe(true); // idempotent
});

describe('wasm slice fix', () => {
  const cases: [number[], number[], number[]][] = [
    [[10], [3], [4]],
    [[27672], [100], [5000]],
    [[6, 5], [1, 0], [3, 5]],
    [[6, 5], [0, 2], [6, 1]],
    [[256, 2], [0, 1], [256, 1]],
    [[4, 3, 5], [1, 1, 0], [2, 2, 5]],
    [[4, 3, 5], [0, 0, 2], [4, 3, 3]],
    [[3, 4, 2, 5], [1, 0, 1, 1], [2, 4, 1, 3]],
  ];
  it.each(cases)('slice of %j at %j size %j equals the reference', (shape, begin, size) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const vals = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
    const x = tf.tensor(vals, shape);
    const got = tf.slice(x, begin, size);
    expect(got.shape).toEqual(size);
    expect(Array.from(got.dataSync())).toEqual(refSlice(vals, shape, begin, size));
    tf.dispose([x, got]);
  });

  it('handles -1 sizes, int32 and bool', () => {
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32');
    const a = tf.slice(x, [0, 1], [-1, -1]);
    expect(a.dtype).toBe('int32');
    expect(Array.from(a.dataSync())).toEqual([2, 3, 5, 6]);
    const b = tf.slice(tf.greater(x, 2), [1, 0], [1, 2]);
    expect(Array.from(b.dataSync())).toEqual([1, 1]);
  });

  it('split along every axis matches concatenation back and the reference', () => {
    const shape = [4, 6, 3];
    const vals = Float32Array.from({ length: 72 }, (_, i) => Math.sin(i));
    const x = tf.tensor3d(vals, shape as [number, number, number]);
    for (let axis = 0; axis < 3; axis++) {
      const sizes = axis === 1 ? [1, 2, 3] : axis === 0 ? [3, 1] : [1, 2];
      const parts = tf.split(x, sizes, axis);
      let start = 0;
      parts.forEach((p, i) => {
        const begin = [0, 0, 0];
        begin[axis] = start;
        const size = [...shape];
        size[axis] = sizes[i];
        expect(Array.from(p.dataSync())).toEqual(refSlice(vals, shape, begin, size));
        start += sizes[i];
      });
      const back = tf.concat(parts, axis);
      expect(Array.from(back.dataSync())).toEqual(Array.from(vals));
      tf.dispose([...parts, back]);
    }
    x.dispose();
  });

  it('concat along every axis, narrow and wide, equals the reference; int32 too', () => {
    const a = tf.tensor3d(Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i), [2, 3, 2]);
    const b = tf.tensor3d(Float32Array.from({ length: 2 * 3 * 20 }, (_, i) => 100 + i), [2, 3, 20]);
    const c = tf.concat([a, b], 2);
    const av = a.dataSync(), bv = b.dataSync(), cv = c.dataSync();
    for (let r = 0; r < 6; r++) {
      for (let k = 0; k < 2; k++) expect(cv[r * 22 + k]).toBe(av[r * 2 + k]);
      for (let k = 0; k < 20; k++) expect(cv[r * 22 + 2 + k]).toBe(bv[r * 20 + k]);
    }
    const d = tf.concat([a, a, a], 1);
    expect(d.shape).toEqual([2, 9, 2]);
    expect(Array.from(tf.slice(d, [1, 3, 0], [1, 3, 2]).dataSync())).toEqual(Array.from(tf.slice(a, [1, 0, 0], [1, 3, 2]).dataSync()));
    const e = tf.concat([tf.tensor1d([1, 2], 'int32'), tf.tensor1d([], 'int32'), tf.tensor1d([3], 'int32')]);
    expect(e.dtype).toBe('int32');
    expect(Array.from(e.dataSync())).toEqual([1, 2, 3]);
    const y = tf.tensor2d([[1], [2]]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.concat([t, tf.mul(t, 3)], 1), tf.tensor2d([[1, 10], [100, 1000]]))))(y);
    expect(Array.from(g.dataSync())).toEqual([31, 3100]);
  });

  it('gradients through slice are unchanged (pad of the upstream gradient)', () => {
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.slice(t, [0, 1], [2, 2]), 2)))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 2, 2, 0, 2, 2]);
  });
});
