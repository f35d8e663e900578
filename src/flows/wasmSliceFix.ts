/**
 * A fix for performance traps in @tensorflow/tfjs-backend-wasm 4.22's copy kernels:
 * - Slice (and SplitV, which calls it once per piece) first copies the WHOLE source tensor out
 *   of the wasm heap (`backend.readSync`), then copies the piece. Splitting a 27.7k-float vector
 *   into 36 pieces moves 1M floats (0.4-2.7 ms here); 627k floats into 36 pieces ~50 ms.
 * - Slice and Concat along the last axis copy row by row with `TypedArray.set(subarray)`, which
 *   costs ~0.1 µs of call overhead per row: slow for the narrow columns of a flow ([256, 2]).
 *
 * `installWasmSliceFix()` re-registers Slice, SplitV and Concat for the wasm backend with
 * versions that read the heap in place and copy short runs with a plain loop: same results
 * (tested against a reference), cost proportional to what is copied. It is process-global (the
 * kernel registry is) and idempotent; call it after `initBackend()`. String tensors fall back to
 * the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';

type HeapArray = Float32Array | Int32Array | Uint8Array;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): HeapArray;
}

let installed = false;

/** Copies x[begin : begin + size] into a new output, reading the heap in place. */
function sliceFromHeap(x: tf.TensorInfo, begin: number[], size: number[], backend: WasmBackendLike): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  // Views only after makeOutput: an allocation may grow the heap and detach older views.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return out;
  }
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * x.shape[d + 1];
  // Merge trailing dimensions that are taken whole into one contiguous run.
  let inner = rank - 1;
  let run = size[rank - 1];
  while (inner > 0 && size[inner] === x.shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner];
  }
  let base = 0;
  for (let d = 0; d < rank; d++) base += begin[d] * strides[d];
  if (inner === 0) {
    dst.set(src.subarray(base, base + run));
    return out;
  }
  // Odometer over the outer dimensions 0..inner-1.
  const idx = new Array<number>(inner).fill(0);
  let o = 0;
  for (;;) {
    let off = base;
    for (let d = 0; d < inner; d++) off += idx[d] * strides[d];
    if (run < 16) {
      for (let k = 0; k < run; k++) dst[o + k] = src[off + k];
    } else {
      dst.set(src.subarray(off, off + run), o);
    }
    o += run;
    let d = inner - 1;
    while (d >= 0 && ++idx[d] === size[d]) idx[d--] = 0;
    if (d < 0) break;
  }
  return out;
}

/** Concatenation along `axis` of same-rank tensors, reading the heap in place. */
function concatFromHeap(inputs: tf.TensorInfo[], axis: number, backend: WasmBackendLike): tf.TensorInfo {
  const outShape = [...inputs[0].shape];
  outShape[axis] = inputs.reduce((a, t) => a + t.shape[axis], 0);
  const out = backend.makeOutput(outShape, inputs[0].dtype);
  const outer = inputs[0].shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = inputs.map((t) => t.shape.slice(axis).reduce((a, b) => a * b, 1));
  const rowOut = inner.reduce((a, b) => a + b, 0);
  if (outer * rowOut === 0) return out;
  const dst = backend.typedArrayFromHeap(out);
  inputs.forEach((t, i) => {
    const n = inner[i];
    if (n === 0) return;
    const src = backend.typedArrayFromHeap(t);
    let off = inner.slice(0, i).reduce((a, b) => a + b, 0);
    if (outer === 1) {
      dst.set(src, off);
      return;
    }
    for (let r = 0, s = 0; r < outer; r++, s += n, off += rowOut) {
      if (n < 16) {
        for (let k = 0; k < n; k++) dst[off + k] = src[s + k];
      } else {
        dst.set(src.subarray(s, s + n), off);
      }
    }
  });
  return out;
}

/** Installs the heap-view Slice, SplitV and Concat kernels for the wasm backend. Returns true if installed. */
export function installWasmSliceFix(): boolean {
  if (installed) return true;
  const sliceCfg = tf.getKernel('Slice', 'wasm');
  const splitCfg = tf.getKernel('SplitV', 'wasm');
  const concatCfg = tf.getKernel('Concat', 'wasm');
  if (!sliceCfg || !splitCfg || !concatCfg) return false;
  const stockSlice = sliceCfg.kernelFunc;
  const stockSplit = splitCfg.kernelFunc;
  const stockConcat = concatCfg.kernelFunc;

  const slice: tf.KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return stockSlice(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return sliceFromHeap(x, b, s, args.backend as unknown as WasmBackendLike);
  };
  const splitV: tf.KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return stockSplit(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((n) => {
      const size = [...x.shape];
      size[ax] = n;
      const piece = sliceFromHeap(x, [...begin], size, args.backend as unknown as WasmBackendLike);
      begin[ax] += n;
      return piece;
    });
  };
  const concat: tf.KernelFunc = (args) => {
    const all = args.inputs as unknown as tf.TensorInfo[];
    if (all.length === 0 || all[0].dtype === 'string') return stockConcat(args);
    const ax = tf.util.parseAxisParam((args.attrs as unknown as { axis: number }).axis, all[0].shape)[0];
    tf.backend_util.assertParamsConsistent(all.map((t) => t.shape), ax);
    return concatFromHeap(all, ax, args.backend as unknown as WasmBackendLike);
  };
  tf.unregisterKernel('Concat', 'wasm');
  tf.registerKernel({ ...concatCfg, kernelFunc: concat });
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ ...sliceCfg, kernelFunc: slice });
  tf.unregisterKernel('SplitV', 'wasm');
  tf.registerKernel({ ...splitCfg, kernelFunc: splitV });
  installed = true;
  return true;
}
