/**
 * The tfjs engine: programs as tfjs ops, differentiated by tfjs, on any tfjs backend (the
 * reference the heap engine is tested against).
 */
import * as tf from '@tensorflow/tfjs';
import type { Param, ParamStore } from '../../params.js';
import type { Cotangent, Differentiated, DifferentiateOptions, Engine, Program, ProgramInput, RecordedRun } from '../engine.js';
import { TfSession } from './session.js';

export class TfjsEngine implements Engine {
  readonly name = 'tfjs' as const;
  readonly chunkRows = 10_000;

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

  /** tfjs keeps no tape between calls: the outputs now, each backward a fresh differentiate. */
  record(store: ParamStore, program: Program, inputs: ProgramInput[]): RecordedRun {
    const outputs = this.evaluate(store, program, inputs);
    return {
      outputs,
      inputGrads: (cot) => this.differentiate(store, program, inputs, () => cot, { paramGrads: false }).inputGrads,
      dispose: () => undefined,
    };
  }
}
