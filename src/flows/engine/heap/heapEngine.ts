/**
 * The heap engine: programs on a reverse-mode tape over float32 buffers on the wasm heap, matrix
 * products by tfjs-backend-wasm's XNNPACK kernels (src/flows/engine/heap/). See
 * docs/flows-performance.md.
 */
import type { ParamStore } from '../../params.js';
import type { Cotangent, Differentiated, DifferentiateOptions, Engine, Program, ProgramInput, RecordedRun } from '../engine.js';
import { HeapKernels } from './kernels.js';
import { BufferPool } from './pool.js';
import { HeapSession, type HVal } from './session.js';

/** The backward pass's seeds: each output with its cotangent (outputs the loss ignores left out). */
function seedsOf(outs: HVal[], cot: (ArrayLike<number> | null)[]): { value: HVal; grad: ArrayLike<number> }[] {
  const seeds: { value: HVal; grad: ArrayLike<number> }[] = [];
  cot.forEach((g, k) => {
    if (g) seeds.push({ value: outs[k], grad: g });
  });
  return seeds;
}

export class HeapEngine implements Engine {
  readonly name = 'heap' as const;
  /** Bounds the heap buffers one sampling call holds. */
  readonly chunkRows = 1024;
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
      const paramGrads = s.backward(seedsOf(outs, cotangent(outputs)));
      const inputGrads = ins.map((v, k) => (inputs[k].requiresGrad ? s.gradOf(v) : null));
      return { outputs, paramGrads, inputGrads };
    } finally {
      s.end();
    }
  }

  record(store: ParamStore, program: Program, inputs: ProgramInput[]): RecordedRun {
    const s = this.open(store, true, false);
    let ins: HVal[];
    let outs: HVal[];
    let outputs: Float32Array[];
    try {
      ins = inputs.map((i) => s.input(i.values, i.rows, i.cols, i.requiresGrad ?? false));
      outs = program(s, ins);
      outputs = outs.map((v) => s.read(v));
    } catch (e) {
      s.end();
      throw e;
    }
    let used = false;
    let open = true;
    return {
      outputs,
      inputGrads: (cot) => {
        if (!open) throw new Error('recorded run: used after dispose');
        // The tape accumulates gradients: a second cotangent replays on a fresh tape.
        if (used) return this.differentiate(store, program, inputs, () => cot, { paramGrads: false }).inputGrads;
        used = true;
        s.backward(seedsOf(outs, cot));
        return ins.map((v, k) => (inputs[k].requiresGrad ? s.gradOf(v) : null));
      },
      dispose: () => {
        if (!open) return;
        open = false;
        s.end();
      },
    };
  }
}
