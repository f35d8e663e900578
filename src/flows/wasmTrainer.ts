/**
 * Reverse-KL training steps of a flow on the wasm kernels (src/flows/wasmFlow.ts): the flow's
 * parameters are copied into heap buffers, each step runs the forward pass, the target's log
 * density and its gradient (its batched tfjs `logProb`, one `valueAndGrad`), the backward pass
 * and Adam, and `syncToFlow()` writes the parameters back into the flow's tfjs variables.
 *
 * Adam is PyTorch's form, as in src/flows/fusedAdam.ts: θ ← θ − lr·m̂/(√v̂ + ε). The weights stay
 * exactly zero where the MADE masks them (their gradient is never applied), as with the tfjs
 * path. Parameters are rounded to float32 after every step, as a float32 variable would be.
 *
 * The parameters live in our buffers while training, and the flow's variables keep their values
 * from before: call `syncToFlow()` before the flow is used (trainReverseKL does, also when
 * training stops on an error or an abort), then `dispose()`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Flow } from './flow.js';
import type { Target } from '../targets/target.js';
import type { RandomStream } from '../core/random.js';
import { WasmKernels, type HeapBuffer } from './wasmKernels.js';
import { WasmFlowProgram, planFlow, type LayerGrads, type LayerParams, type LayerPlan } from './wasmFlow.js';

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

/**
 * log p̃ and ∇ log p̃ at the n rows of x (float32, row-major), through the target's batched tfjs
 * `logProb` (the flows' contract for targets).
 */
export function targetValueAndGrad(target: Target, x: Float32Array, n: number, dim: number): { logp: Float32Array; grad: Float32Array } {
  const xt = tf.tensor2d(x, [n, dim]);
  const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => target.logProb(z as tf.Tensor2D))(xt);
  const out = { logp: value.dataSync() as Float32Array, grad: grad.dataSync() as Float32Array };
  tf.dispose([xt, value, grad]);
  return out;
}

/** Adam's moments, float32 like PyTorch's (half the memory traffic of float64 at 627k weights). */
interface AdamSlot {
  m: Float32Array;
  v: Float32Array;
}

/** The constants of one Adam step (PyTorch's form; `scale` folded into c1 and c2). */
interface AdamStep {
  beta1: number;
  beta2: number;
  c1: number;
  c2: number;
  stepSize: number;
  epsHat: number;
}

// The hot loops are plain functions with local accumulators: a number captured and mutated by a
// closure would be boxed by V8 on every update (measured ~4x slower here).

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
function adamDense(theta: Float32Array | Float64Array, o: number, g: Float64Array, slot: AdamSlot, c: AdamStep): void {
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
function adamLive(H: Float32Array, wo: number, go: number, liveW: Int32Array, liveG: Int32Array, slot: AdamSlot, c: AdamStep): void {
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
  /** Affine layers: the unclipped log-scale u (log σ = c tanh(u / c)), per layer index. */
  private readonly rawLogScale = new Map<number, Float64Array>();
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
    const own = (data: Float32Array) => {
      const b = kernels.alloc(data.length);
      this.buffers.push(b);
      kernels.f32(b).set(data);
      return b;
    };
    try {
      this.params = [];
      this.grads = [];
      plans.forEach((p, i) => {
        if (p.kind === 'affine') {
          const c = p.maxLogScale;
          const raw = Float64Array.from(p.layer.rawLogScale.dataSync());
          this.rawLogScale.set(i, raw);
          this.params.push({ kind: 'affine', loc: Float64Array.from(p.layer.loc.dataSync()), logScale: raw.map((u) => c * Math.tanh(u / c)) });
          this.grads.push({ kind: 'affine', loc: new Float64Array(p.dim), logScale: new Float64Array(p.dim) });
          return;
        }
        const vars = p.layer.trainableVariables();
        this.params.push({
          kind: 'iaf',
          W: vars.filter((_, j) => j % 2 === 0).map((v) => own(v.dataSync() as Float32Array)),
          b: vars.filter((_, j) => j % 2 === 1).map((v) => own(v.dataSync() as Float32Array)),
        });
        this.grads.push({
          kind: 'iaf',
          WT: p.dense.map((d) => {
            const b = kernels.alloc(d.N * d.K);
            this.buffers.push(b);
            return b;
          }),
          b: p.dense.map((d) => new Float64Array(d.N)),
        });
      });
      this.program = new WasmFlowProgram(kernels, plans, batchSize, true);
    } catch (e) {
      for (const b of this.buffers) kernels.free(b);
      throw e;
    }
  }

  /** Number of Adam steps taken. */
  get iterations(): number {
    return this.t;
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
      if (p.kind === 'affine' && g.kind === 'affine') {
        s += sumSquares(g.loc) + sumSquares(this.rawGradient(i));
      } else if (p.kind === 'iaf' && g.kind === 'iaf') {
        for (let l = 0; l < p.dense.length; l++) s += sumSquaresAt(H, g.WT[l].offset >> 2, p.dense[l].liveG) + sumSquares(g.b[l]);
      }
    }
    return Math.sqrt(s);
  }

  /** dL/du of affine layer i's unclipped log-scale u: log σ = c tanh(u / c). */
  private rawGradient(i: number): Float64Array {
    const p = this.plans[i];
    const g = this.grads[i];
    if (p.kind !== 'affine' || g.kind !== 'affine') throw new Error('wasm flow trainer: not an affine layer');
    const raw = this.rawLogScale.get(i)!;
    const c = p.maxLogScale;
    return Float64Array.from(g.logScale, (v, j) => v * (1 - Math.tanh(raw[j] / c) ** 2));
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
      if (p.kind === 'affine' && g.kind === 'affine') {
        out.push(Float64Array.from(g.loc), this.rawGradient(i));
      } else if (p.kind === 'iaf' && g.kind === 'iaf') {
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
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    // lr/bc1 · m / (√v/√bc2 + ε) = (lr √bc2/bc1) · m / (√v + ε √bc2)
    const c: AdamStep = { beta1, beta2, c1: (1 - beta1) * scale, c2: (1 - beta2) * scale * scale, stepSize: (lr * Math.sqrt(bc2)) / bc1, epsHat: epsilon * Math.sqrt(bc2) };
    const H = this.k.heap();
    for (let i = 0; i < this.plans.length; i++) {
      const p = this.plans[i];
      const prm = this.params[i];
      const g = this.grads[i];
      if (p.kind === 'affine' && prm.kind === 'affine' && g.kind === 'affine') {
        const raw = this.rawLogScale.get(i)!;
        const gu = this.rawGradient(i);
        adamDense(prm.loc, 0, g.loc, this.slot(prm.loc, p.dim), c);
        adamDense(raw, 0, gu, this.slot(raw, p.dim), c);
        for (let j = 0; j < p.dim; j++) {
          prm.loc[j] = Math.fround(prm.loc[j]);
          raw[j] = Math.fround(raw[j]);
          prm.logScale[j] = p.maxLogScale * Math.tanh(raw[j] / p.maxLogScale);
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
    this.plans.forEach((p, i) => {
      const prm = this.params[i];
      if (p.kind === 'affine' && prm.kind === 'affine') {
        tf.tidy(() => {
          p.layer.loc.assign(tf.tensor1d(Float32Array.from(prm.loc)));
          p.layer.rawLogScale.assign(tf.tensor1d(Float32Array.from(this.rawLogScale.get(i)!)));
        });
      } else if (p.kind === 'iaf' && prm.kind === 'iaf') {
        const vars = p.layer.trainableVariables();
        tf.tidy(() => {
          vars.forEach((v, j) => {
            const buf = (j % 2 === 0 ? prm.W[j >> 1] : prm.b[j >> 1]) as HeapBuffer;
            v.assign(tf.tensor(this.k.f32(buf).slice(), v.shape, 'float32'));
          });
        });
      }
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
