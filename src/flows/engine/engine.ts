/**
 * Running a flow program — a function of `Ops` and input batches, written once — on an engine:
 * `evaluate` (values only) and `differentiate` (values, then dL/d(parameter) and dL/d(input)
 * from cotangents the caller computes from the values). The caller's cotangent function sees
 * the outputs before the backward pass, which is what reverse-KL training needs: the target's
 * gradient at the flow's draws x is only known once x is.
 *
 * This file is the interface only. The engines:
 * - heap: the default whenever tfjs-backend-wasm 4.22's kernels are reachable
 *   (src/flows/engine/heap/heapEngine.ts);
 * - tfjs: any backend (src/flows/engine/tfjs/tfjsEngine.ts); the reference in tests.
 * `selectEngine` (src/flows/engine/select.ts) is the one place that knows both.
 */
import type { ParamStore, Param } from '../params.js';
import type { Ops } from './ops.js';

/** 'auto' (the heap engine when available), 'heap' or 'tfjs'. */
export type EngineChoice = 'auto' | 'heap' | 'tfjs';

/** A flow program: outputs from inputs, in any engine. */
export type Program = <V>(ops: Ops<V>, inputs: V[]) => V[];

export interface ProgramInput {
  /** Row-major values (rounded to float32). */
  values: ArrayLike<number>;
  rows: number;
  cols: number;
  /** Return dL/d(this input) from `differentiate`. */
  requiresGrad?: boolean;
}

export interface Differentiated {
  /** The program's outputs (row-major float32). */
  outputs: Float32Array[];
  /** dL/d(parameter) for every trainable parameter the program reached (masked, float64). */
  paramGrads: Map<Param, Float64Array>;
  /** dL/d(input) for inputs with `requiresGrad`, else null. */
  inputGrads: (Float64Array | null)[];
}

/** dL/d(output) for each output (row-major), or null for an output the loss does not use. */
export type Cotangent = (outputs: Float32Array[]) => (ArrayLike<number> | null)[];

export interface DifferentiateOptions {
  /** Compute dL/d(parameter) (default true; false when only input gradients are wanted). */
  paramGrads?: boolean;
}

/**
 * A program run once with its tape kept (flow.forwardTape): the outputs now, then dL/d(input)
 * for cotangents given later, without re-running the forward pass where the engine can.
 */
export interface RecordedRun {
  outputs: Float32Array[];
  /** dL/d(input) for the inputs with `requiresGrad` (null for the others). */
  inputGrads(cotangents: (ArrayLike<number> | null)[]): (Float64Array | null)[];
  dispose(): void;
}

export interface Engine {
  readonly name: 'heap' | 'tfjs';
  /** Rows per call that keep an evaluation's working memory moderate on this engine. */
  readonly chunkRows: number;
  evaluate(store: ParamStore, program: Program, inputs: ProgramInput[]): Float32Array[];
  differentiate(store: ParamStore, program: Program, inputs: ProgramInput[], cotangent: Cotangent, options?: DifferentiateOptions): Differentiated;
  /** Runs `program` keeping its tape for input gradients only (no parameter gradients). */
  record(store: ParamStore, program: Program, inputs: ProgramInput[]): RecordedRun;
}

