/**
 * The tfjs engine: `Ops` as tfjs ops, differentiated by tfjs. It runs on every tfjs backend
 * (wasm, cpu, WebGL, WebGPU, tfjs-node) and is the reference the heap engine is tested against.
 *
 * Two tfjs-wasm traps shape it: a matMul with a transpose flag takes a naive loop ~10x slower
 * than an explicit transpose plus a plain matMul, and tf.gather has no gradient kernel. So the
 * MLP is one `tf.customGrad` op whose backward transposes explicitly, and column gathers are
 * products with a 0/1 selection matrix.
 */
import * as tf from '@tensorflow/tfjs';
import type { Param, ParamStore } from '../../params.js';
import { DimensionError } from '../../../core/errors.js';
import type { DenseLayer, Kernel, Ops, Shape } from '../ops.js';

type T = tf.Tensor2D;

/** relu(... relu(x W0 + b0) ...) W_L + b_L as one op with an explicit-transpose backward. */
function mlpOp(x: T, ws: T[], bs: (T | null)[]): T {
  const L = ws.length;
  const withBias = bs.map((b) => b !== null);
  const biases = bs.filter((b): b is T => b !== null);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xi = args[0] as T;
    const wi = args.slice(1, 1 + L) as T[];
    const bi = args.slice(1 + L, 1 + L + biases.length) as T[];
    const acts: T[] = [xi];
    let h = xi;
    let k = 0;
    for (let l = 0; l < L; l++) {
      h = tf.matMul(h, wi[l]);
      if (withBias[l]) h = tf.add(h, bi[k++]);
      if (l < L - 1) {
        h = tf.relu(h);
        acts.push(h);
      }
    }
    save([...acts, ...wi]);
    return {
      value: h,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const a = saved.slice(0, L) as T[];
        const w = saved.slice(L) as T[];
        let g = dy as T;
        const dW: tf.Tensor[] = new Array(L);
        const dB: tf.Tensor[] = [];
        let dx: tf.Tensor | null = null;
        const ones = tf.ones([1, g.shape[0]]) as T;
        for (let l = L - 1; l >= 0; l--) {
          dW[l] = tf.matMul(tf.transpose(a[l]), g);
          if (withBias[l]) dB.unshift(tf.matMul(ones, g));
          const back = tf.matMul(g, tf.transpose(w[l]));
          if (l > 0) g = tf.mul(back, tf.step(a[l])) as T;
          else dx = back;
        }
        return [dx!, ...dW, ...dB];
      },
    };
  });
  return f(x, ...ws, ...biases) as T;
}

/** x · S for a fixed matrix S, with an explicit-transpose gradient. */
function fixedMatMul(x: T, s: T, sT: T): T {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as T;
    return { value: tf.matMul(xi, s), gradFunc: (dy: tf.Tensor) => [tf.matMul(dy as T, sT)] };
  });
  return f(x) as T;
}

/** Inverse of a triangular matrix (float64 substitution), d(T⁻¹) = −T⁻¹ dT T⁻¹ on the triangle. */
function triangularInverseOp(t: T, lower: boolean): T {
  const D = t.shape[0];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const ti = args[0] as T;
    const save = args[1] as tf.GradSaveFunc;
    const a = ti.dataSync();
    const inv = new Float64Array(D * D);
    for (let c = 0; c < D; c++) {
      if (lower) {
        for (let i = 0; i < D; i++) {
          let s = i === c ? 1 : 0;
          for (let k = 0; k < i; k++) s -= a[i * D + k] * inv[k * D + c];
          inv[i * D + c] = s / a[i * D + i];
        }
      } else {
        for (let i = D - 1; i >= 0; i--) {
          let s = i === c ? 1 : 0;
          for (let k = i + 1; k < D; k++) s -= a[i * D + k] * inv[k * D + c];
          inv[i * D + c] = s / a[i * D + i];
        }
      }
    }
    const value = tf.tensor2d(Float32Array.from(inv), [D, D]);
    save([value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const invT = tf.transpose(saved[0] as T);
        const full = tf.neg(tf.matMul(tf.matMul(invT, dy as T), invT));
        const mask = lower ? tf.linalg.bandPart(tf.ones([D, D]), -1, 0) : tf.linalg.bandPart(tf.ones([D, D]), 0, -1);
        return [tf.mul(full, mask)];
      },
    };
  });
  return f(t) as T;
}

export class TfSession implements Ops<T> {
  readonly engine = 'tfjs' as const;
  private readonly selections = new Map<string, [T, T]>();

  constructor(
    private readonly store: ParamStore,
    /** The tensor of every parameter for this call (the ones a gradient is taken against). */
    private readonly params: Map<Param, T>,
    readonly recording: boolean,
  ) {}

  shape(v: T): Shape {
    return [v.shape[0], v.shape[1]];
  }

  param(p: Param): T {
    let t = this.params.get(p);
    if (!t) {
      t = tf.keep(tf.tensor2d(this.store.data(p).slice(), [p.rows, p.cols]));
      this.params.set(p, t);
    }
    return t;
  }

  constant(values: ArrayLike<number>, rows: number, cols: number): T {
    return tf.tensor2d(Float32Array.from(values), [rows, cols]);
  }

  read(v: T): Float32Array {
    return Float32Array.from(v.dataSync());
  }

  mlp(x: T, layers: DenseLayer<T>[]): T {
    return mlpOp(
      x,
      layers.map((d) => d.weight),
      layers.map((d) => d.bias),
    );
  }

  matmul(a: T, b: T): T {
    return tf.matMul(a, b);
  }

  triangularInverse(t: T, lower: boolean): T {
    if (t.shape[0] !== t.shape[1]) throw new DimensionError(`triangularInverse: [${t.shape.join(', ')}] is not square`);
    return triangularInverseOp(t, lower);
  }

  add(a: T, b: T): T {
    return tf.add(a, b);
  }
  sub(a: T, b: T): T {
    return tf.sub(a, b);
  }
  mul(a: T, b: T): T {
    return tf.mul(a, b);
  }
  scale(a: T, c: number): T {
    return tf.mul(a, c);
  }
  shift(a: T, c: number): T {
    return tf.add(a, c);
  }
  neg(a: T): T {
    return tf.neg(a);
  }
  exp(a: T): T {
    return tf.exp(a);
  }
  square(a: T): T {
    return tf.square(a);
  }
  tanh(a: T): T {
    return tf.tanh(a);
  }
  softplus(a: T): T {
    return tf.softplus(a);
  }

  cols(x: T, start: number, count: number): T {
    return this.gatherCols(x, Array.from({ length: count }, (_, j) => start + j));
  }

  concatCols(xs: T[]): T {
    return xs.length === 1 ? xs[0] : tf.concat(xs, 1);
  }

  gatherCols(x: T, index: readonly number[]): T {
    const K = x.shape[1];
    for (const j of index) if (!(Number.isInteger(j) && j >= 0 && j < K)) throw new DimensionError(`gatherCols: column ${j} of ${K}`);
    const key = `${K}:${index.join(',')}`;
    let sel = this.selections.get(key);
    if (!sel) {
      const m = new Float32Array(K * index.length);
      index.forEach((src, j) => (m[src * index.length + j] = 1));
      const s = tf.keep(tf.tensor2d(m, [K, index.length]));
      sel = [s, tf.keep(tf.transpose(s))];
      this.selections.set(key, sel);
    }
    return fixedMatMul(x, sel[0], sel[1]);
  }

  sumCols(x: T): T {
    return tf.sum(x, 1, true);
  }

  apply<A>(kernel: Kernel<A>, inputs: T[], attrs: A): T[] {
    return kernel.tfjs(inputs, attrs);
  }

  scope<R>(fn: () => R): R {
    return tf.tidy(fn as () => tf.TensorContainer) as R;
  }

  /** Frees the per-call constants (the parameter tensors belong to the caller). */
  dispose(): void {
    for (const [a, b] of this.selections.values()) tf.dispose([a, b]);
    this.selections.clear();
  }
}
