/**
 * Running a flow program — a function of `Ops` and input batches, written once — on an engine:
 * `evaluate` (values only) and `differentiate` (values, then dL/d(parameter) and dL/d(input)
 * from cotangents the caller computes from the values). The caller's cotangent function sees
 * the outputs before the backward pass, which is what reverse-KL training needs: the target's
 * gradient at the flow's draws x is only known once x is.
 *
 * - heap: the default whenever tfjs-backend-wasm 4.22's kernels are reachable
 *   (src/flows/engine/heap/);
 * - tfjs: any backend (src/flows/engine/tfjs/); the reference in tests.
 */
import * as tf from '@tensorflow/tfjs';
import type { Param, ParamStore } from '../params.js';
import { ParameterError } from '../../core/errors.js';
import type { Ops } from './ops.js';
import { HeapKernels } from './heap/kernels.js';
import { BufferPool } from './heap/pool.js';
import { HeapSession, type HVal } from './heap/session.js';
import { TfSession } from './tfjs/session.js';

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

export interface Engine {
  readonly name: 'heap' | 'tfjs';
  evaluate(store: ParamStore, program: Program, inputs: ProgramInput[]): Float32Array[];
  differentiate(store: ParamStore, program: Program, inputs: ProgramInput[], cotangent: Cotangent, options?: DifferentiateOptions): Differentiated;
}

export class HeapEngine implements Engine {
  readonly name = 'heap' as const;
  readonly pool: BufferPool;

  constructor(readonly kernels: HeapKernels) {
    this.pool = new BufferPool(kernels);
  }

  /** A session for step-by-step use (see `FlowTape`); the caller must `end()` it. */
  open(store: ParamStore, recording: boolean, paramGrads = true): HeapSession {
    return new HeapSession(this.kernels, this.pool, store, { recording, paramGrads });
  }

  evaluate(store: ParamStore, program: Program, inputs: ProgramInput[]): Float32Array[] {
    const s = this.open(store, false);
    try {
      const ins = inputs.map((i) => s.input(i.values, i.rows, i.cols));
      return program(s, ins).map((v) => s.read(v));
    } finally {
      s.end();
    }
  }

  differentiate(store: ParamStore, program: Program, inputs: ProgramInput[], cotangent: Cotangent, options: DifferentiateOptions = {}): Differentiated {
    const s = this.open(store, true, options.paramGrads ?? true);
    try {
      const ins = inputs.map((i) => s.input(i.values, i.rows, i.cols, i.requiresGrad ?? false));
      const outs = program(s, ins);
      const outputs = outs.map((v) => s.read(v));
      const cot = cotangent(outputs);
      const seeds: { value: HVal; grad: ArrayLike<number> }[] = [];
      cot.forEach((g, k) => {
        if (g) seeds.push({ value: outs[k], grad: g });
      });
      const paramGrads = s.backward(seeds);
      const inputGrads = ins.map((v, k) => (inputs[k].requiresGrad ? s.gradOf(v) : null));
      return { outputs, paramGrads, inputGrads };
    } finally {
      s.end();
    }
  }
}

export class TfjsEngine implements Engine {
  readonly name = 'tfjs' as const;

  evaluate(store: ParamStore, program: Program, inputs: ProgramInput[]): Float32Array[] {
    const params = new Map<Param, tf.Tensor2D>();
    const s = new TfSession(store, params, false);
    try {
      return tf.tidy(() => {
        const ins = inputs.map((i) => tf.tensor2d(Float32Array.from(i.values), [i.rows, i.cols]));
        return program(s, ins).map((t) => t.dataSync() as Float32Array);
      });
    } finally {
      s.dispose();
      tf.dispose([...params.values()]);
    }
  }

  differentiate(store: ParamStore, program: Program, inputs: ProgramInput[], cotangent: Cotangent, options: DifferentiateOptions = {}): Differentiated {
    const trainable = options.paramGrads === false ? [] : store.trainable();
    const params = new Map<Param, tf.Tensor2D>();
    for (const p of trainable) params.set(p, tf.tensor2d(store.data(p).slice(), [p.rows, p.cols]));
    const s = new TfSession(store, params, true);
    const ins = inputs.map((i) => tf.tensor2d(Float32Array.from(i.values), [i.rows, i.cols]));
    const wrt = [...trainable.map((p) => params.get(p)!), ...ins.filter((_, k) => inputs[k].requiresGrad)];
    let outputs: Float32Array[] = [];
    try {
      const { value, grads } = tf.engine().gradients(
        () => {
          // (gradients() runs this in its own tidy.)
          const outs = program(s, ins);
          outputs = outs.map((t) => t.dataSync() as Float32Array);
          const cot = cotangent(outputs);
          let loss: tf.Scalar = tf.scalar(0);
          cot.forEach((g, k) => {
            if (!g) return;
            loss = tf.add(loss, tf.sum(tf.mul(outs[k], tf.tensor2d(Float32Array.from(g), outs[k].shape as [number, number])))) as tf.Scalar;
          });
          return loss;
        },
        wrt,
        undefined,
        true,
      );
      const paramGrads = new Map<Param, Float64Array>();
      trainable.forEach((p, i) => {
        const g = grads[i];
        if (!g) return;
        const arr = Float64Array.from(g.dataSync());
        if (p.gradMask) {
          const m = store.data(p.gradMask);
          for (let k = 0; k < arr.length; k++) arr[k] *= m[k];
        }
        paramGrads.set(p, arr);
      });
      let gi = trainable.length;
      const inputGrads = inputs.map((i) => {
        if (!i.requiresGrad) return null;
        const g = grads[gi++];
        return g ? Float64Array.from(g.dataSync()) : new Float64Array(i.rows * i.cols);
      });
      tf.dispose([value, ...grads.filter((g): g is tf.Tensor => g !== null)]);
      return { outputs, paramGrads, inputGrads };
    } finally {
      s.dispose();
      tf.dispose([...params.values(), ...ins]);
    }
  }
}

let heapEngine: HeapEngine | null = null;
const tfjsEngine = new TfjsEngine();

export type EngineChoice = 'auto' | 'heap' | 'tfjs';

/** The heap engine when the backend allows it (or when asked for and available), else tfjs. */
export function selectEngine(choice: EngineChoice = 'auto'): Engine {
  if (choice === 'tfjs') return tfjsEngine;
  const k = HeapKernels.get();
  if (!k) {
    if (choice === 'heap') throw new ParameterError(`the heap engine needs the tfjs wasm backend 4.22 (active backend: ${tf.getBackend()})`);
    return tfjsEngine;
  }
  if (!heapEngine || heapEngine.kernels !== k) heapEngine = new HeapEngine(k);
  return heapEngine;
}
