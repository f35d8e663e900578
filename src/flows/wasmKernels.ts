/**
 * Direct calls into tfjs-backend-wasm's XNNPACK kernels (fully connected matMul, sigmoid, add,
 * ReLU) on
 * buffers we own on the wasm heap, without the tfjs engine in between.
 *
 * Why: at small dimension a flow's training step is bound by the number of tfjs kernels, not by
 * FLOPs. Each kernel run through the engine costs ~6-10 µs of bookkeeping (scopes, tensor
 * tracking, the autodiff tape and its clones) on top of the work itself, and a 6-layer IAF step
 * needs ~470 of them. A direct call costs the kernel alone. src/flows/wasmFlow.ts builds the
 * whole IAF forward and backward pass from these calls plus plain JS loops over the heap.
 *
 * How the backend works (tfjs-backend-wasm 4.22, src/cc/batch_mat_mul_impl.cc), and what we
 * rely on:
 * - Tensors are known to the C++ side by an integer id registered with
 *   `registerTensor(id, size, heapOffset)`; the kernels look their buffers up by id.
 * - `_FusedMatMul(a, aShape, 3, b, bShape, 3, transA, transB, activation, bias, prelu, alpha,
 *   out)` with rank-3 shapes [1, M, K] and [1, K, N] and no transpose runs XNNPACK's fully
 *   connected operator, out = a·b (+ bias) with ReLU as an output clamp. It treats b as the
 *   *weights*: it packs b (and the bias) into an operator and caches that operator under
 *   (b id, bias id, activation) until the b or bias id is disposed. So a buffer whose contents
 *   change must be passed as b or bias under a fresh id each time, or the kernel silently uses
 *   the old packed values. `matMul` below does that for every buffer of ours; a tfjs tensor's
 *   own id (immutable data) is passed as is and its packed operator is reused across calls.
 * - Ids come from the backend's own counter (`dataIdNextNumber`), so they never collide with
 *   the ids of tfjs tensors.
 * - Any allocation may grow the heap, which detaches every typed-array view of it: views are
 *   therefore taken through `f32()`, which re-creates them after growth.
 *
 * `WasmKernels.get()` returns null unless the active backend is tfjs-backend-wasm 4.22 with
 * exactly these internals (package.json pins ~4.22.0), and every caller then keeps the plain
 * tfjs path: slower, never wrong.
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm as wasmVersion } from '@tensorflow/tfjs-backend-wasm';

/** A float32 buffer of ours on the wasm heap, registered with the backend under `id`. */
export interface HeapBuffer {
  readonly id: number;
  /** Byte offset on the heap (64-byte aligned for the ones we allocate). */
  readonly offset: number;
  /** Number of float32 elements. */
  readonly size: number;
}

/** What `alloc` got from malloc, to give back in `free`. */
const mallocBase = new WeakMap<HeapBuffer, number>();

/** Cache-line alignment of our buffers (malloc gives 8 bytes; see `alloc`). */
const ALIGN = 64;

/** What we use of the emscripten module behind the wasm backend. */
interface WasmModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(offset: number): void;
  __FusedMatMul(...args: number[]): void;
  _Sigmoid(xId: number, outId: number): void;
  _Add(aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number, dtype: number, outId: number): void;
  _Relu(xId: number, dtype: number, outId: number): void;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}

interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
}

/** The backend version whose internals this file was written and tested against. */
export const TESTED_WASM_VERSION = /^4\.22\./;

function internals(): WasmBackendInternals | null {
  if (tf.getBackend() !== 'wasm' || !TESTED_WASM_VERSION.test(wasmVersion)) return null;
  const be = tf.backend() as unknown as Partial<WasmBackendInternals>;
  const w = be.wasm as Partial<WasmModule> | undefined;
  const ok =
    typeof be.dataIdNextNumber === 'number' &&
    typeof be.dataIdMap?.get === 'function' &&
    w !== undefined &&
    w.HEAPU8 instanceof Uint8Array &&
    typeof w._malloc === 'function' &&
    typeof w._free === 'function' &&
    typeof w.__FusedMatMul === 'function' &&
    typeof w._Sigmoid === 'function' &&
    typeof w._Add === 'function' &&
    typeof w._Relu === 'function' &&
    typeof w.tfjs?.registerTensor === 'function' &&
    typeof w.tfjs?.disposeData === 'function';
  return ok ? (be as WasmBackendInternals) : null;
}

const RELU = 1; // FusableActivation.relu in the backend's cc/fusable_activations.h
const LINEAR = 0;
const FLOAT32 = 0; // CppDType.float32 in the backend's cc/backend.h

export class WasmKernels {
  private static instance: WasmKernels | null = null;
  private static instanceBackend: unknown = null;

  /** The kernels of the active wasm backend, or null when they are not available. */
  static get(): WasmKernels | null {
    const be = internals();
    if (!be) return null;
    if (WasmKernels.instanceBackend !== be) {
      WasmKernels.instance = new WasmKernels(be);
      WasmKernels.instanceBackend = be;
    }
    return WasmKernels.instance;
  }

  private readonly be: WasmBackendInternals;
  private readonly shapes: number;
  private view: Float32Array | null = null;
  /** Buffers allocated and not yet freed (a leak check for tests). */
  liveBuffers = 0;

  private constructor(be: WasmBackendInternals) {
    this.be = be;
    // Two rank-3 shapes, written before each matMul (int32 = size_t on wasm32).
    this.shapes = be.wasm._malloc(6 * 4) >>> 0;
  }

  private get wasm(): WasmModule {
    return this.be.wasm;
  }

  private nextId(): number {
    return this.be.dataIdNextNumber++;
  }

  /**
   * A new registered buffer of `size` float32s (contents undefined), aligned to a cache line:
   * malloc's 8-byte alignment left XNNPACK's vector loads and stores straddling lines in some
   * runs (the same 10-D sampling pass measured 1.4e5 or 1.8e5 draws/s depending on where the
   * buffers landed).
   */
  alloc(size: number): HeapBuffer {
    const base = this.wasm._malloc(Math.max(1, size) * 4 + ALIGN) >>> 0;
    if (base === 0) throw new Error(`wasm heap: could not allocate ${size} floats`);
    const offset = Math.ceil(base / ALIGN) * ALIGN;
    const id = this.nextId();
    this.wasm.tfjs.registerTensor(id, size, offset);
    this.liveBuffers++;
    const buf = { id, offset, size };
    mallocBase.set(buf, base);
    return buf;
  }

  free(buf: HeapBuffer): void {
    const base = mallocBase.get(buf);
    if (base === undefined) throw new Error('wasm kernels: free of a buffer not from alloc');
    mallocBase.delete(buf);
    this.wasm.tfjs.disposeData(buf.id);
    this.wasm._free(base);
    this.liveBuffers--;
  }

  /** The whole heap as float32s (re-created after the heap grows). */
  heap(): Float32Array {
    const buffer = this.wasm.HEAPU8.buffer;
    if (this.view === null || this.view.buffer !== buffer) this.view = new Float32Array(buffer);
    return this.view;
  }

  /** A view of one buffer; take it after the last allocation that precedes its use. */
  f32(buf: HeapBuffer): Float32Array {
    return new Float32Array(this.wasm.HEAPU8.buffer, buf.offset, buf.size);
  }

  /** The backend's id and heap offset of a tfjs tensor's data. */
  tensorData(t: tf.Tensor): { id: number; offset: number } {
    const d = this.be.dataIdMap.get(t.dataId);
    if (!d) throw new Error('wasm kernels: tensor has no data on the wasm backend');
    return { id: d.id, offset: d.memoryOffset };
  }

  /** A fresh id for the same memory: the kernels cannot confuse it with an earlier content. */
  private alias(buf: HeapBuffer): number {
    const id = this.nextId();
    this.wasm.tfjs.registerTensor(id, buf.size, buf.offset);
    return id;
  }

  /**
   * out[M, N] = a[M, K] · b[K, N] (+ bias[N]) (then ReLU), all row-major. `a` and `out` are our
   * buffers; `b` and `bias` are either our buffers (passed under a fresh id: see the header) or
   * the id of a tfjs tensor whose data does not change (its packed operator is reused).
   */
  matMul(a: HeapBuffer, b: HeapBuffer | number, out: HeapBuffer, M: number, K: number, N: number, bias: HeapBuffer | number | null = null, relu = false): void {
    if (a.size < M * K || out.size < M * N || (typeof b !== 'number' && b.size < K * N)) {
      throw new Error(`wasm matMul: buffers too small for [${M}, ${K}] x [${K}, ${N}]`);
    }
    const w = this.wasm;
    const sh = new Int32Array(w.HEAPU8.buffer, this.shapes, 6);
    sh[0] = 1;
    sh[1] = M;
    sh[2] = K;
    sh[3] = 1;
    sh[4] = K;
    sh[5] = N;
    const bId = typeof b === 'number' ? b : this.alias(b);
    const biasId = bias === null ? 0 : typeof bias === 'number' ? bias : this.alias(bias);
    w.__FusedMatMul(a.id, this.shapes, 3, bId, this.shapes + 12, 3, 0, 0, relu ? RELU : LINEAR, biasId, 0, 0, out.id);
    // Disposing the fresh ids frees the operator packed from them.
    if (typeof b !== 'number') w.tfjs.disposeData(bId);
    if (bias !== null && typeof bias !== 'number') w.tfjs.disposeData(biasId);
  }

  /** out = sigmoid(x) elementwise over the first `x.size` entries (XNNPACK's vectorised kernel). */
  sigmoid(x: HeapBuffer, out: HeapBuffer): void {
    if (out.size < x.size) throw new Error('wasm sigmoid: output too small');
    this.wasm._Sigmoid(x.id, out.id);
  }

  /** out = a + b elementwise over `size` floats (XNNPACK's vectorised add; out may be a or b). */
  add(a: HeapBuffer, b: HeapBuffer, out: HeapBuffer, size: number): void {
    if (a.size < size || b.size < size || out.size < size) throw new Error('wasm add: buffers too small');
    const w = this.wasm;
    const sh = new Int32Array(w.HEAPU8.buffer, this.shapes, 1);
    sh[0] = size;
    w._Add(a.id, this.shapes, 1, b.id, this.shapes, 1, FLOAT32, out.id);
  }

  /** out = max(0, x) elementwise over x's registered size (out may be x). */
  relu(x: HeapBuffer, out: HeapBuffer): void {
    if (out.size < x.size) throw new Error('wasm relu: output too small');
    this.wasm._Relu(x.id, FLOAT32, out.id);
  }
}
