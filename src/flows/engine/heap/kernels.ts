/**
 * Direct calls into tfjs-backend-wasm's XNNPACK kernels (the fully connected matMul) on
 * float32 buffers we own on the wasm heap, without the tfjs engine in between: the bottom layer
 * of the heap engine (src/flows/engine/heap/).
 *
 * Why: at small dimension a flow's training step is bound by the number of tfjs kernels, not by
 * FLOPs; each kernel run through the tfjs engine pays scopes, tensor tracking and the autodiff
 * tape on top of its work. A direct call pays the kernel alone (docs/flows-performance.md).
 *
 * What we rely on (tfjs-backend-wasm 4.22, src/cc/batch_mat_mul_impl.cc):
 * - Buffers are known to the C++ side by an integer id registered with
 *   `registerTensor(id, size, heapOffset)`.
 * - `_FusedMatMul` with rank-3 shapes [1, M, K], [1, K, N] and no transpose runs XNNPACK's fully
 *   connected operator out = a·b (+ bias), ReLU as an output clamp. Every other form (a transpose
 *   flag) takes a naive loop. XNNPACK *packs* b and the bias into the operator and the backend
 *   caches it under (b id, bias id, activation) until either id is disposed. So b and the bias
 *   are passed under an alias id tied to the buffer's `version`: a buffer written since its last
 *   use as b gets a fresh alias (the stale packed operator is freed with the old one), and an
 *   unchanged buffer (a weight while sampling, or within one training step) reuses its packing.
 * - Ids come from the backend's own counter, so they never collide with tfjs tensors.
 * - Any allocation may grow the heap, which detaches typed-array views: `heap()` re-creates its
 *   view after growth, and callers take it after anything that may allocate.
 *
 * `HeapKernels.get()` returns null unless the active backend is tfjs-backend-wasm 4.22 with
 * these internals (package.json pins ~4.22.0); the flows then run on the tfjs engine.
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm as wasmVersion } from '@tensorflow/tfjs-backend-wasm';

/** A float32 buffer of ours on the wasm heap, registered with the backend under `id`. */
export interface HeapBuffer {
  readonly id: number;
  /** Byte offset on the heap (64-byte aligned). */
  readonly offset: number;
  /** Number of float32 elements. */
  readonly size: number;
  /** Bumped by whoever writes the buffer (see the file header on packed operands). */
  version: number;
}

/** Cache-line alignment: malloc's 8 bytes left vector loads straddling lines in some runs. */
const ALIGN = 64;

/** What we use of the emscripten module behind the wasm backend. */
interface WasmModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(offset: number): void;
  __FusedMatMul(...args: number[]): void;
  _Add(aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number, dtype: number, outId: number): void;
  _Relu(xId: number, dtype: number, outId: number): void;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}

interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdNextNumber: number;
}

/** The backend version whose internals this file was written and tested against. */
export const TESTED_WASM_VERSION = /^4\.22\./;

function internals(): WasmBackendInternals | null {
  if (tf.getBackend() !== 'wasm' || !TESTED_WASM_VERSION.test(wasmVersion)) return null;
  const be = tf.backend() as unknown as Partial<WasmBackendInternals>;
  const w = be.wasm as Partial<WasmModule> | undefined;
  const ok =
    typeof be.dataIdNextNumber === 'number' &&
    w !== undefined &&
    w.HEAPU8 instanceof Uint8Array &&
    typeof w._malloc === 'function' &&
    typeof w._free === 'function' &&
    typeof w.__FusedMatMul === 'function' &&
    typeof w._Add === 'function' &&
    typeof w._Relu === 'function' &&
    typeof w.tfjs?.registerTensor === 'function' &&
    typeof w.tfjs?.disposeData === 'function';
  return ok ? (be as WasmBackendInternals) : null;
}

const RELU = 1; // FusableActivation.relu in the backend's cc/fusable_activations.h
const LINEAR = 0;
const FLOAT32 = 0; // CppDType.float32 in the backend's cc/backend.h

interface Alias {
  id: number;
  version: number;
}

export class HeapKernels {
  private static instance: HeapKernels | null = null;
  private static instanceBackend: unknown = null;

  /** The kernels of the active wasm backend, or null when they are not available. */
  static get(): HeapKernels | null {
    const be = internals();
    if (!be) return null;
    if (HeapKernels.instanceBackend !== be) {
      HeapKernels.instance = new HeapKernels(be);
      HeapKernels.instanceBackend = be;
    }
    return HeapKernels.instance;
  }

  private readonly be: WasmBackendInternals;
  private readonly shapes: number;
  private view: Float32Array | null = null;
  private readonly mallocBase = new WeakMap<HeapBuffer, number>();
  private readonly aliases = new WeakMap<HeapBuffer, Alias>();
  private readonly onFree = new WeakMap<HeapBuffer, (() => void)[]>();
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

  /** A new registered buffer of `size` float32s (contents undefined), cache-line aligned. */
  alloc(size: number): HeapBuffer {
    const bytes = Math.max(1, size) * 4 + ALIGN;
    const base = this.wasm._malloc(bytes) >>> 0;
    if (base === 0) throw new RangeError(`wasm heap: could not allocate ${size} floats (${(bytes / 2 ** 20).toFixed(1)} MiB)`);
    const offset = Math.ceil(base / ALIGN) * ALIGN;
    const id = this.nextId();
    this.wasm.tfjs.registerTensor(id, size, offset);
    this.liveBuffers++;
    const buf: HeapBuffer = { id, offset, size, version: 0 };
    this.mallocBase.set(buf, base);
    return buf;
  }

  /** Runs `fn` when `buf` is freed (e.g. to free caches derived from its contents). */
  whenFreed(buf: HeapBuffer, fn: () => void): void {
    const list = this.onFree.get(buf);
    if (list) list.push(fn);
    else this.onFree.set(buf, [fn]);
  }

  free(buf: HeapBuffer): void {
    const base = this.mallocBase.get(buf);
    if (base === undefined) throw new Error('heap kernels: free of a buffer not from alloc');
    const hooks = this.onFree.get(buf);
    this.onFree.delete(buf);
    if (hooks) for (const h of hooks) h();
    this.mallocBase.delete(buf);
    const alias = this.aliases.get(buf);
    if (alias) this.wasm.tfjs.disposeData(alias.id);
    this.aliases.delete(buf);
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

  /** The id to pass a buffer as a packed operand under: re-registered when its version moved. */
  private packedId(buf: HeapBuffer): number {
    const a = this.aliases.get(buf);
    if (a && a.version === buf.version) return a.id;
    // Disposing the old alias frees the operator packed from the old contents.
    if (a) this.wasm.tfjs.disposeData(a.id);
    const id = this.nextId();
    this.wasm.tfjs.registerTensor(id, buf.size, buf.offset);
    this.aliases.set(buf, { id, version: buf.version });
    return id;
  }

  /**
   * out[M, N] = a[M, K] · b[K, N] (+ bias[N]) (then ReLU), row-major. Bumps `out.version`.
   * `b` and `bias` are packed by XNNPACK and the packing is reused while their versions stay.
   */
  matMul(a: HeapBuffer, b: HeapBuffer, out: HeapBuffer, M: number, K: number, N: number, bias: HeapBuffer | null = null, relu = false): void {
    if (a.size < M * K || out.size < M * N || b.size < K * N || (bias !== null && bias.size < N)) {
      throw new Error(`heap matMul: buffers too small for [${M}, ${K}] x [${K}, ${N}]`);
    }
    const w = this.wasm;
    const sh = new Int32Array(w.HEAPU8.buffer, this.shapes, 6);
    sh[0] = 1;
    sh[1] = M;
    sh[2] = K;
    sh[3] = 1;
    sh[4] = K;
    sh[5] = N;
    const bId = this.packedId(b);
    const biasId = bias === null ? 0 : this.packedId(bias);
    w.__FusedMatMul(a.id, this.shapes, 3, bId, this.shapes + 12, 3, 0, 0, relu ? RELU : LINEAR, biasId, 0, 0, out.id);
    out.version++;
  }

  /** out = a + b elementwise over `size` floats (XNNPACK's vectorised add; out may be a or b). */
  add(a: HeapBuffer, b: HeapBuffer, out: HeapBuffer, size: number): void {
    if (a.size < size || b.size < size || out.size < size) throw new Error('heap add: buffers too small');
    const w = this.wasm;
    const sh = new Int32Array(w.HEAPU8.buffer, this.shapes, 1);
    sh[0] = size;
    w._Add(a.id, this.shapes, 1, b.id, this.shapes, 1, FLOAT32, out.id);
    out.version++;
  }

  /** out = max(0, x) elementwise over x's registered size (out may be x). */
  relu(x: HeapBuffer, out: HeapBuffer): void {
    if (out.size < x.size) throw new Error('heap relu: output too small');
    this.wasm._Relu(x.id, FLOAT32, out.id);
    out.version++;
  }
}
