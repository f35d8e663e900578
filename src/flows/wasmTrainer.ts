/**
 * Reverse-KL training steps of a flow on the wasm kernels (src/flows/wasmFlow.ts): the flow's
 * parameters are copied into heap buffers, each step runs the forward pass, the target's log
 * density and its gradient (its batched tfjs `logProb`, one `valueAndGrad`), the backward pass
 * and Adam, and `syncToFlow()` writes the parameters back into the flow's tfjs variables.
 *
 * Adam is PyTorch's form with the coefficients of src/flows/fusedAdam.ts: θ ← θ − lr·m̂/(√v̂ + ε). The weights stay
 * exactly zero where the MADE masks them (their gradient is never applied), as with the tfjs
 * path. Parameters are rounded to float32 after every step, as a float32 variable would be.
 *
 * The parameters live in our buffers while training, and the flow's variables keep their values
 * from before: call `syncToFlow()` before the flow is used (trainReverseKL does, also when
 * training stops on an error or an abort), then `dispose()`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Flow } from './flow.js';
import type { RandomStream } from '../core/random.js';
import { WasmKernels, type HeapBuffer } from './wasmKernels.js';
import { adamCoefficients, type AdamCoefficients } from './fusedAdam.js';
import { WasmFlowProgram, planFlow, type LayerGrads, type LayerParams, type LayerPlan } from './wasmFlow.js';

/** Adam's β1, β2 and ε (ADAM_DEFAULTS in src/flows/fusedAdam.ts). */
export interface AdamSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** What one step's objective hands back to the flow: dL/dx, dL/dlog q, and numbers to report. */
export interface ObjectiveGradient {
  loss: number;
  elbo: number;
  dX: Float64Array;
  dLogq: Float64Array;
}

/** Adam's moments, float32 like PyTorch's (half the memory traffic of float64 at 627k weights). */
interface AdamSlot {
  m: Float32Array;
  v: Float32Array;
}

// The hot loops are plain functions with local accumulators: a number captured and mutated by a
// closure would be boxed by V8 on every update (measured ~2x slower for the 50-D gradient norm).

function sumSquares(a: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * a[j];
  return s;
}

function sumSquaresAt(H: Float32Array, o: number, idx: Int32Array): number {
  let s = 0;
  for (let i = 0; i < idx.length; i++) {
    const v = H[o + idx[i]];
    s += v * v;
  }
  return s;
}

/** θ[o + t] −= Adam step for gradient g[t], t < g.length (θ stays float32 if it is the heap). */
function adamDense(theta: Float32Array | Float64Array, o: number, g: Float64Array, slot: AdamSlot, c: AdamCoefficients): void {
  const { m, v } = slot;
  const { beta1, beta2, c1, c2, stepSize, epsHat } = c;
  for (let t = 0; t < g.length; t++) {
    const gt = g[t];
    const mt = beta1 * m[t] + c1 * gt;
    const vt = beta2 * v[t] + c2 * gt * gt;
    m[t] = mt;
    v[t] = vt;
    theta[o + t] -= (stepSize * mt) / (Math.sqrt(vt) + epsHat);
  }
}

/**
 * The same for the trainable entries of a weight matrix (DensePlan.liveW / liveG): the weight at
 * H[wo + liveW[i]] with gradient H[go + liveG[i]]. Masked entries are never touched (they stay
 * exactly 0); the moments are kept per trainable entry.
 */
function adamLive(H: Float32Array, wo: number, go: number, liveW: Int32Array, liveG: Int32Array, slot: AdamSlot, c: AdamCoefficients): void {
  const { m, v } = slot;
  const { beta1, beta2, c1, c2, stepSize, epsHat } = c;
  for (let i = 0; i < liveW.length; i++) {
    const gt = H[go + liveG[i]];
    const mt = beta1 * m[i] + c1 * gt;
    const vt = beta2 * v[i] + c2 * gt * gt;
    m[i] = mt;
    v[i] = vt;
    H[wo + liveW[i]] -= (stepSize * mt) / (Math.sqrt(vt) + epsHat);
  }
}

export class WasmFlowTrainer {
  readonly batchSize: number;
  readonly dim: number;
  private readonly k: WasmKernels;
  private readonly plans: LayerPlan[];
  private readonly program: WasmFlowProgram;
  private readonly params: LayerParams[];
  private readonly grads: LayerGrads[];
  private readonly slots = new Map<object, AdamSlot>();
  private readonly buffers: HeapBuffer[] = [];
  private readonly adam: AdamSettings;
  private t = 0;
  private disposed = false;

  /** A trainer for `flow`, or null when the flow or the backend cannot run on the kernels. */
  static create(flow: Flow, batchSize: number, adam: AdamSettings): WasmFlowTrainer | null {
    const kernels = WasmKernels.get();
    const plans = kernels ? planFlow(flow) : null;
    return kernels && plans ? new WasmFlowTrainer(kernels, flow, plans, batchSize, adam) : null;
  }

  private constructor(kernels: WasmKernels, flow: Flow, plans: LayerPlan[], batchSize: number, adam: AdamSettings) {
    this.k = kernels;
    this.plans = plans;
    this.batchSize = batchSize;
    this.dim = flow.dim;
    this.adam = adam;
    const alloc = (size: number) => {
      const b = kernels.alloc(size);
      this.buffers.push(b);
      return b;
    };
    const own = (v: tf.Variable) => {
      const b = alloc(v.size);
      kernels.f32(b).set(v.dataSync() as Float32Array);
      return b;
    };
    try {
      this.params = [];
      this.grads = [];
      for (const p of plans) {
        if (p.kind === 'affine') {
          this.params.push({ kind: 'affine', loc: Float64Array.from(p.layer.loc.dataSync()), raw: Float64Array.from(p.layer.rawLogScale.dataSync()) });
          this.grads.push({ kind: 'affine', loc: new Float64Array(p.dim), raw: new Float64Array(p.dim) });
          continue;
        }
        const dense = p.layer.made.denseVariables();
        this.params.push({ kind: 'iaf', W: dense.map((d) => own(d.weight)), b: dense.map((d) => own(d.bias)) });
        this.grads.push({ kind: 'iaf', WT: p.dense.map((d) => alloc(d.N * d.K)), b: p.dense.map((d) => new Float64Array(d.N)) });
      }
      this.program = new WasmFlowProgram(kernels, plans, batchSize, true);
    } catch (e) {
      for (const b of this.buffers) kernels.free(b);
      throw e;
    }
  }

  /**
   * One forward and backward pass on a fresh batch of base noise from `rng` (drawn as
   * `baseNoise` draws it). `objective` turns the draws x (float32, [n, dim]) and their log q into
   * dL/dx and dL/dlog q. Leaves the gradients ready for `gradNorm` and `applyAdam`.
   */
  computeGradients(rng: RandomStream, objective: (x: Float32Array, logq: Float64Array) => ObjectiveGradient): ObjectiveGradient {
    this.checkAlive();
    const { batchSize: n, dim: D, k } = this;
    const eps = new Float64Array(n * D);
    rng.fillNormal(eps);
    k.f32(this.program.input).set(eps);
    this.program.forward(this.params);
    const x = k.f32(this.program.output).slice(0, n * D);
    const obj = objective(x, this.program.logq);
    this.program.backward(this.params, this.grads, obj.dX, obj.dLogq);
    return obj;
  }

  /** The L2 norm of the gradient of every parameter (masked weights excluded). */
  gradNorm(): number {
    const H = this.k.heap();
    let s = 0;
    for (let i = 0; i < this.plans.length; i++) {
      const p = this.plans[i];
      const g = this.grads[i];
      if (g.kind === 'affine') {
        s += sumSquares(g.loc) + sumSquares(g.raw);
      } else if (p.kind === 'iaf') {
        for (let l = 0; l < p.dense.length; l++) s += sumSquaresAt(H, g.WT[l].offset >> 2, p.dense[l].liveG) + sumSquares(g.b[l]);
      }
    }
    return Math.sqrt(s);
  }

  /**
   * The last gradients in the order and layout of `flow.trainableVariables()` (masked weights
   * zero), e.g. to compare with tf.grad of the tfjs path.
   */
  gradientArrays(): Float64Array[] {
    const H = this.k.heap();
    const out: Float64Array[] = [];
    this.plans.forEach((p, i) => {
      const g = this.grads[i];
      if (g.kind === 'affine') {
        out.push(Float64Array.from(g.loc), Float64Array.from(g.raw));
      } else if (p.kind === 'iaf') {
        p.dense.forEach((d, l) => {
          const w = new Float64Array(d.K * d.N);
          const o = g.WT[l].offset >> 2;
          for (let i = 0; i < d.liveW.length; i++) w[d.liveW[i]] = H[o + d.liveG[i]];
          out.push(w, Float64Array.from(g.b[l]));
        });
      }
    });
    return out;
  }

  private slot(key: object, size: number): AdamSlot {
    let s = this.slots.get(key);
    if (!s) this.slots.set(key, (s = { m: new Float32Array(size), v: new Float32Array(size) }));
    return s;
  }

  /** One Adam step with learning rate `lr` on the gradients times `scale` (for clipping). */
  applyAdam(lr: number, scale = 1): void {
    this.checkAlive();
    this.t++;
    const { beta1, beta2, epsilon } = this.adam;
    const c = adamCoefficients(lr, this.t, beta1, beta2, epsilon, scale);
    const H = this.k.heap();
    for (let i = 0; i < this.plans.length; i++) {
      const p = this.plans[i];
      const prm = this.params[i];
      const g = this.grads[i];
      if (prm.kind === 'affine' && g.kind === 'affine') {
        adamDense(prm.loc, 0, g.loc, this.slot(prm.loc, prm.loc.length), c);
        adamDense(prm.raw, 0, g.raw, this.slot(prm.raw, prm.raw.length), c);
        // As float32 variables would hold them.
        for (let j = 0; j < prm.loc.length; j++) {
          prm.loc[j] = Math.fround(prm.loc[j]);
          prm.raw[j] = Math.fround(prm.raw[j]);
        }
      } else if (p.kind === 'iaf' && prm.kind === 'iaf' && g.kind === 'iaf') {
        for (let l = 0; l < p.dense.length; l++) {
          const d = p.dense[l];
          const W = prm.W[l] as HeapBuffer;
          const bias = prm.b[l] as HeapBuffer;
          adamLive(H, W.offset >> 2, g.WT[l].offset >> 2, d.liveW, d.liveG, this.slot(W, d.liveW.length), c);
          adamDense(H, bias.offset >> 2, g.b[l], this.slot(bias, d.N), c);
        }
      }
    }
  }

  /** Writes the trained parameters into the flow's tfjs variables (fresh tensors). */
  syncToFlow(): void {
    this.checkAlive();
    tf.tidy(() => {
      this.plans.forEach((p, i) => {
        const prm = this.params[i];
        if (p.kind === 'affine' && prm.kind === 'affine') {
          p.layer.loc.assign(tf.tensor1d(Float32Array.from(prm.loc)));
          p.layer.rawLogScale.assign(tf.tensor1d(Float32Array.from(prm.raw)));
        } else if (p.kind === 'iaf' && prm.kind === 'iaf') {
          p.layer.made.denseVariables().forEach((d, l) => {
            d.weight.assign(tf.tensor2d(this.k.f32(prm.W[l] as HeapBuffer).slice(), d.weight.shape));
            d.bias.assign(tf.tensor1d(this.k.f32(prm.b[l] as HeapBuffer).slice()));
          });
        }
      });
    });
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('wasm flow trainer: used after dispose');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.program.dispose();
    for (const b of this.buffers) this.k.free(b);
    this.buffers.length = 0;
  }
}
