/**
 * The heap form of a `Kernel` (src/flows/engine/ops.ts): a forward that writes its outputs and a
 * backward that adds to its inputs' gradients, both as loops over float32 buffers on the wasm
 * heap. Offsets are float (not byte) offsets into `H`; every matrix is row-major, gradients too.
 * Neither may allocate on the heap (that could detach `H`): ask for scratch in `scratch`.
 */

/** A row-major matrix on the heap. */
export interface HeapMatrix {
  readonly off: number;
  readonly rows: number;
  readonly cols: number;
}

export interface HeapForwardIO<A> {
  H: Float32Array;
  inputs: HeapMatrix[];
  outputs: HeapMatrix[];
  attrs: A;
  /** True when `backward` will follow: keep what it needs in the returned state. */
  recording: boolean;
}

export interface HeapBackwardIO<A> {
  H: Float32Array;
  inputs: HeapMatrix[];
  outputs: HeapMatrix[];
  /** dL/d output (row-major), or null where an output received no gradient. */
  outGrads: (HeapMatrix | null)[];
  /** Where to ADD dL/d input (row-major, zeroed before), or null where none is needed. */
  inGrads: (HeapMatrix | null)[];
  attrs: A;
  /** What `forward` returned. */
  saved: unknown;
}

export interface HeapKernelImpl<A> {
  forward(io: HeapForwardIO<A>): unknown;
  backward(io: HeapBackwardIO<A>): void;
}
