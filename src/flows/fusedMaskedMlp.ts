/**
 * A whole masked MLP (a MADE, Germain et al. 2015) as ONE differentiable tfjs op with a
 * hand-written backward pass, plus the forward/backward halves for ops that fuse more around it
 * (src/flows/fastIaf.ts fuses the gated IAF update too).
 *
 * Why (measured with tf.profile, tfjs 4.22 wasm): a small training step is bound by the number of
 * kernels, not FLOPs. Every op recorded for autodiff costs its kernel *plus* an `Identity` kernel
 * per saved input (the tape clones what it keeps) plus ~5-10 µs of bookkeeping. Ops run inside a
 * customGrad's forward are not recorded, and the backward here does exactly what is needed, with
 * explicit transposes (matMul with a transpose flag is ~10x slower in this backend).
 *
 * Contract: the weights must already be masked (w = w ⊙ mask). The weight gradient is masked,
 * so an optimiser whose update is a function of the gradient alone (Adam, SGD) keeps the masked
 * entries at exactly zero and the forward pass needs no mask multiply at all.
 */
import * as tf from '@tensorflow/tfjs';
import { DimensionError } from '../core/errors.js';

/** Forward through the ReLU MLP; returns the output and what the backward pass needs. */
export function mlpForward(x: tf.Tensor2D, ws: tf.Tensor2D[], bs: tf.Tensor1D[]): { out: tf.Tensor2D; acts: tf.Tensor2D[] } {
  const L = ws.length;
  const acts: tf.Tensor2D[] = [x];
  let h = x;
  for (let l = 0; l < L; l++) {
    h = tf.add(tf.matMul(h, ws[l]), bs[l]);
    if (l < L - 1) {
      h = tf.relu(h);
      acts.push(h);
    }
  }
  return { out: h, acts };
}

/**
 * Backward through the ReLU MLP given dL/d(out). `acts[l]` is the input of layer l (x, then the
 * post-ReLU activations). Returns dL/dx and the masked weight and bias gradients.
 */
export function mlpBackward(
  dOut: tf.Tensor,
  acts: tf.Tensor[],
  ws: tf.Tensor[],
  masks: (tf.Tensor2D | null)[],
): { dx: tf.Tensor; dW: tf.Tensor[]; dB: tf.Tensor[] } {
  const L = ws.length;
  const dW: tf.Tensor[] = new Array(L);
  const dB: tf.Tensor[] = new Array(L);
  let g = dOut as tf.Tensor2D;
  let dx: tf.Tensor | null = null;
  // Bias gradients as 1ᵀ g: a reduction over axis 0 (tf.sum(g, 0)) is 4-12x slower in wasm.
  const ones = tf.ones([1, g.shape[0]]) as tf.Tensor2D;
  for (let l = L - 1; l >= 0; l--) {
    const raw = tf.matMul(tf.transpose(acts[l] as tf.Tensor2D), g);
    dW[l] = masks[l] ? tf.mul(raw, masks[l]!) : raw;
    dB[l] = tf.reshape(tf.matMul(ones, g), [-1]);
    const back = tf.matMul(g, tf.transpose(ws[l] as tf.Tensor2D));
    if (l > 0) {
      // ReLU'(pre) = [post > 0]
      g = tf.mul(back, tf.step(acts[l])) as tf.Tensor2D;
    } else {
      dx = back;
    }
  }
  return { dx: dx!, dW, dB };
}

function checkLists(what: string, L: number, nb: number, nm: number): void {
  if (nb !== L || nm !== L || L === 0) {
    throw new DimensionError(`${what}: ${L} weights, ${nb} biases, ${nm} masks (need the same positive number)`);
  }
}

/**
 * ReLU MLP `x -> h_1 -> ... -> out`: out = relu(...relu(x W0 + b0)...) W_L + b_L, with no
 * activation on the last layer. `masks[l]` (or null for "all ones") masks the gradient of
 * `weights[l]`. Differentiable with respect to `x`, every weight and every bias.
 */
export function fusedMaskedMlp(
  x: tf.Tensor2D,
  weights: tf.Tensor2D[],
  biases: tf.Tensor1D[],
  masks: (tf.Tensor2D | null)[],
): tf.Tensor2D {
  const L = weights.length;
  checkLists('fusedMaskedMlp', L, biases.length, masks.length);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xi = args[0] as tf.Tensor2D;
    const ws = args.slice(1, 1 + L) as tf.Tensor2D[];
    const bs = args.slice(1 + L, 1 + 2 * L) as tf.Tensor1D[];
    const { out, acts } = mlpForward(xi, ws, bs);
    save([...acts, ...ws]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const { dx, dW, dB } = mlpBackward(dy as tf.Tensor, saved.slice(0, L), saved.slice(L), masks);
        return [dx, ...dW, ...dB];
      },
    };
  });
  return f(x, ...weights, ...biases) as tf.Tensor2D;
}
