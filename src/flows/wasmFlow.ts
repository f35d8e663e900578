/**
 * A flow of `AffineDiagonal` and `FastIafAffine` layers (the default flow and the anchors' IAF)
 * run as direct XNNPACK calls plus JS loops over the wasm heap (src/flows/wasmKernels.ts): the
 * forward pass x = f(ε) with log q, and its backward pass to every parameter, with no tfjs
 * kernel, tensor or autodiff tape in between. The numbers are those of the tfjs path (the same
 * matMuls in the same order, float32 storage; the gated update and log-dets are computed in
 * float64); test/flows.wasmFlow.test.ts checks values and gradients against tf.grad of that path.
 *
 * Layouts. Activations are batch-major [n, width], as in tfjs, so the forward matMuls are
 * exactly `act · W + b` (bias and ReLU fused into XNNPACK's fully connected operator). The
 * backward pass runs on *transposed* gradients gᵀ [width, n]:
 *   dWᵀ = gᵀ · act      (a weight gradient, transposed: the optimiser reads it so)
 *   dactᵀ = W · gᵀ      (W is used as stored, [in, out])
 * so neither the activations nor the weights are ever transposed; only the ReLU mask is applied
 * with a strided read. (tfjs-wasm has no fast transposed matMul: a transpose flag is ~10x slower.)
 *
 * The gated IAF update of Kingma et al. (2016): σ = sigmoid(s), y = σ z + (1 − σ) m,
 * log|det| = Σ log σ, with σ from XNNPACK's sigmoid and Σ log σ as the log of a product
 * (one log per row instead of one per coordinate; renormalised before float64 underflow, and
 * log σ = s − log(1 + eˢ) directly where σ is too small to represent).
 */
import type { Flow } from './flow.js';
import type { RandomStream } from '../core/random.js';
import { AffineDiagonal, softClip, softClipDerivative } from './affine.js';
import { FastIafAffine } from './fastIaf.js';
import { madeMasks } from './made.js';
import { WasmKernels, type HeapBuffer } from './wasmKernels.js';
import { BlockedIaf, type BlockWork } from './wasmBlocks.js';
import { affineForward, allCoords, baseLogDensity, finishLogDet, gatedBackward, gatedUpdate } from './wasmFlowOps.js';

/** One dense layer of a MADE: act [n, K] · W [K, N] + b, ReLU unless last. */
export interface DensePlan {
  K: number;
  N: number;
  relu: boolean;
  /**
   * The trainable (unmasked) weights, in row-major order of W [K, N]: `liveW[i]` is the index in
   * W and `liveG[i]` the index of the same weight in the transposed gradient [N, K]. Loops over
   * these lists skip the masked half of W without a branch per entry.
   */
  liveW: Int32Array;
  liveG: Int32Array;
}

export type LayerPlan =
  | { kind: 'affine'; layer: AffineDiagonal; dim: number; maxLogScale: number }
  | { kind: 'iaf'; layer: FastIafAffine; dim: number; dense: DensePlan[] };

/** The dense-layer plans of a fused IAF layer (fixed by its config: computed once per layer). */
const densePlans = new WeakMap<FastIafAffine, DensePlan[]>();

function iafDensePlans(layer: FastIafAffine): DensePlan[] {
  let dense = densePlans.get(layer);
  if (dense) return dense;
  const specs = madeMasks(layer.made.order, layer.made.hidden, 2);
  dense = specs.map(({ shape: [K, N], mask }, l) => {
    let live = 0;
    for (let t = 0; t < mask.length; t++) live += mask[t];
    const liveW = new Int32Array(live);
    const liveG = new Int32Array(live);
    let i = 0;
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < N; j++) {
        if (mask[k * N + j] === 0) continue;
        liveW[i] = k * N + j;
        liveG[i++] = j * K + k;
      }
    }
    return { K, N, relu: l < specs.length - 1, liveW, liveG };
  });
  densePlans.set(layer, dense);
  return dense;
}

/** The layers of `flow` if every one can run on the kernels, else null. */
export function planFlow(flow: Flow): LayerPlan[] | null {
  const plans: LayerPlan[] = [];
  for (const b of flow.bijectors) {
    if (b instanceof AffineDiagonal) {
      plans.push({ kind: 'affine', layer: b, dim: b.dim, maxLogScale: b.maxLogScale });
    } else if (b instanceof FastIafAffine) {
      plans.push({ kind: 'iaf', layer: b, dim: b.dim, dense: iafDensePlans(b) });
    } else {
      return null;
    }
  }
  return plans.length > 0 ? plans : null;
}

/**
 * Parameters of one layer as the kernels see them. Weights and biases are our heap buffers or,
 * for a forward pass only, the backend ids of the layer's own (unchanging) tfjs variables.
 */
export type LayerParams =
  | { kind: 'affine'; loc: Float64Array; raw: Float64Array }
  | { kind: 'iaf'; W: (HeapBuffer | number)[]; b: (HeapBuffer | number)[]; blocked?: BlockedIaf | null };

/** Gradients of one layer: weights transposed ([N, K], masked entries undefined: see `liveG`). */
export type LayerGrads =
  | { kind: 'affine'; loc: Float64Array; raw: Float64Array }
  | { kind: 'iaf'; WT: HeapBuffer[]; b: Float64Array[] };

/** The buffers of one layer's forward pass, kept for the backward pass when training. */
interface LayerWork {
  /** Hidden activations (post-ReLU), one per hidden layer, [n, width]. */
  acts: HeapBuffer[];
  /** MADE output [n, 2 dim]: m in columns 0..dim-1, s in dim..2dim-1. */
  out: HeapBuffer | null;
  /** sigmoid(out) [n, 2 dim] (only the s half is used). */
  sig: HeapBuffer | null;
}

/**
 * The forward/backward program of one flow for batches of `n` rows. With `train` every layer
 * keeps its own buffers for the backward pass; without, the buffers are shared (sampling).
 * Free it with `dispose()`.
 */
export class WasmFlowProgram {
  readonly n: number;
  readonly dim: number;
  readonly plans: LayerPlan[];
  readonly train: boolean;
  private readonly k: WasmKernels;
  /** xs[i] is the input of layer i; xs[L] is the flow's output x. */
  private readonly xs: HeapBuffer[];
  private readonly work: LayerWork[];
  /** Backward scratch: gᵀ and dactᵀ, [maxWidth, n] each. */
  private readonly gT: HeapBuffer | null;
  private readonly dActT: HeapBuffer | null;
  private readonly owned: HeapBuffer[] = [];
  /** Buffers of block-sparse layers (sampling only), made on first use. */
  private readonly blockWork = new Map<BlockedIaf, BlockWork>();
  /** log q of the last forward pass, float64. */
  readonly logq: Float64Array;
  private readonly coords: Int32Array;
  private readonly prod: Float64Array;
  private readonly acc: Float64Array;

  constructor(kernels: WasmKernels, plans: LayerPlan[], n: number, train: boolean) {
    this.k = kernels;
    this.plans = plans;
    this.n = n;
    this.train = train;
    this.dim = plans[0].dim;
    this.logq = new Float64Array(n);
    this.coords = allCoords(plans[0].dim);
    this.prod = new Float64Array(n).fill(1);
    this.acc = new Float64Array(n);
    const alloc = (size: number) => {
      const b = kernels.alloc(size);
      this.owned.push(b);
      return b;
    };
    try {
      const D = this.dim;
      const L = plans.length;
      if (train) {
        this.xs = Array.from({ length: L + 1 }, () => alloc(n * D));
      } else {
        // Layer i reads xs[i] and writes xs[i + 1]: two buffers in turn after the input.
        const a = alloc(n * D);
        const b = L > 1 ? alloc(n * D) : a;
        this.xs = [alloc(n * D), ...Array.from({ length: L }, (_, i) => (i % 2 === 0 ? a : b))];
      }
      const shared = new Map<string, HeapBuffer>();
      const buf = (key: string, size: number) => {
        if (train) return alloc(size);
        let b = shared.get(key);
        if (!b) shared.set(key, (b = alloc(size)));
        return b;
      };
      let maxWidth = 0;
      this.work = plans.map((p) => {
        if (p.kind === 'affine') return { acts: [], out: null, sig: null };
        for (const d of p.dense) maxWidth = Math.max(maxWidth, d.K, d.N);
        const acts = p.dense.slice(0, -1).map((d, l) => buf(`act${l}:${d.N}`, n * d.N));
        const outW = p.dense[p.dense.length - 1].N;
        return { acts, out: buf(`out:${outW}`, n * outW), sig: buf(`sig:${outW}`, n * outW) };
      });
      this.gT = train ? alloc(maxWidth * n) : null;
      this.dActT = train ? alloc(maxWidth * n) : null;
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** The input buffer ε [n, dim]; fill it (through `kernels.f32`) before `forward`. */
  get input(): HeapBuffer {
    return this.xs[0];
  }

  /** The output buffer x [n, dim] of the last forward pass. */
  get output(): HeapBuffer {
    return this.xs[this.xs.length - 1];
  }

  /**
   * x = f(ε) for the n rows in `input`, and log q into `logq`. `baseScale` τ means ε was drawn
   * from N(0, τ² I) (see Flow.sample).
   */
  forward(params: LayerParams[], baseScale = 1): void {
    const { n, dim: D, k } = this;
    const logq = this.logq;
    baseLogDensity(k.heap(), n, D, this.xs[0].offset >> 2, baseScale, logq);
    for (let i = 0; i < this.plans.length; i++) {
      const p = this.plans[i];
      const prm = params[i];
      const zin = this.xs[i];
      const yout = this.xs[i + 1];
      if (p.kind === 'affine' && prm.kind === 'affine') {
        affineForward(k.heap(), n, D, zin.offset >> 2, yout.offset >> 2, prm.loc, logScaleOf(p, prm), logq);
      } else if (p.kind === 'iaf' && prm.kind === 'iaf' && prm.blocked && !this.train) {
        const b = prm.blocked;
        let work = this.blockWork.get(b);
        if (!work) this.blockWork.set(b, (work = b.createWork(n)));
        b.forward(zin, yout, work, this.prod, this.acc);
        finishLogDet(logq, this.prod, this.acc);
      } else if (p.kind === 'iaf' && prm.kind === 'iaf') {
        const w = this.work[i];
        const L = p.dense.length;
        let act = zin;
        for (let l = 0; l < L; l++) {
          const d = p.dense[l];
          const dst = l < L - 1 ? w.acts[l] : w.out!;
          k.matMul(act, prm.W[l], dst, n, d.K, d.N, prm.b[l], d.relu);
          act = dst;
        }
        k.sigmoid(w.out!, w.sig!);
        gatedUpdate(k.heap(), n, D, this.coords, zin.offset >> 2, w.out!.offset >> 2, w.sig!.offset >> 2, yout.offset >> 2, this.prod, this.acc);
        finishLogDet(logq, this.prod, this.acc);
      } else {
        throw new Error('wasm flow: parameters do not match the plan');
      }
    }
  }

  /**
   * Back-propagates dL/dx (`dX`, [n, dim] row-major) and dL/dlog q (`dLogq`, [n]) through the
   * last forward pass (which must have run with `train`), writing every parameter gradient into
   * `grads`.
   */
  backward(params: LayerParams[], grads: LayerGrads[], dX: Float64Array, dLogq: Float64Array): void {
    if (!this.train) throw new Error('wasm flow: backward needs a program built for training');
    const { n, dim: D, k } = this;
    const gT = this.gT!;
    const dActT = this.dActT!;
    const dY = Float64Array.from(dX);
    const dZ = new Float64Array(n * D);
    // log q = log base − Σ log|det| of every layer: dL/dlogdet = −dL/dlog q for each.
    let dLD = 0;
    for (let r = 0; r < n; r++) dLD += dLogq[r];
    for (let i = this.plans.length - 1; i >= 0; i--) {
      const p = this.plans[i];
      const prm = params[i];
      const g = grads[i];
      const zin = this.xs[i];
      if (p.kind === 'affine' && prm.kind === 'affine' && g.kind === 'affine') {
        const H = k.heap();
        const zo = zin.offset >> 2;
        const logScale = logScaleOf(p, prm);
        for (let j = 0; j < D; j++) {
          const sc = Math.exp(logScale[j]);
          let dLoc = 0;
          let dLs = 0;
          for (let r = 0; r < n; r++) {
            const dy = dY[r * D + j];
            dLoc += dy;
            dLs += dy * H[zo + r * D + j];
            dZ[r * D + j] = dy * sc;
          }
          g.loc[j] = dLoc;
          // ∂/∂log σ of Σ_r (dy·σ z) and of log|det| = Σ log σ (weight −dL/dlog q, summed),
          // then through the soft clip log σ = c tanh(u / c).
          g.raw[j] = (dLs * sc - dLD) * softClipDerivative(prm.raw[j], p.maxLogScale);
        }
      } else if (p.kind === 'iaf' && prm.kind === 'iaf' && g.kind === 'iaf') {
        const w = this.work[i];
        const L = p.dense.length;
        let H = k.heap();
        gatedBackward(H, n, D, zin.offset >> 2, w.out!.offset >> 2, w.sig!.offset >> 2, gT.offset >> 2, dY, dLogq, dZ);
        for (let l = L - 1; l >= 0; l--) {
          const d = p.dense[l];
          const act = l === 0 ? zin : w.acts[l - 1];
          // dWᵀ [N, K] = gᵀ [N, n] · act [n, K]; db = row sums of gᵀ.
          k.matMul(gT, act, g.WT[l], d.N, n, d.K);
          H = k.heap();
          const go = gT.offset >> 2;
          const db = g.b[l];
          for (let j = 0; j < d.N; j++) {
            let s = 0;
            const row = go + j * n;
            for (let r = 0; r < n; r++) s += H[row + r];
            db[j] = s;
          }
          // dactᵀ [K, n] = W [K, N] · gᵀ [N, n].
          const W = prm.W[l];
          if (typeof W === 'number') throw new Error('wasm flow: backward needs the weights in heap buffers');
          k.matMul(W, gT, dActT, d.K, d.N, n);
          H = k.heap();
          const ao = dActT.offset >> 2;
          if (l > 0) {
            // gᵀ of the layer below: dactᵀ where its ReLU was active (act > 0).
            const xo = act.offset >> 2;
            const K = d.K;
            // (A multiply by the 0/1 mask, not a branch: 3x faster on random signs.)
            for (let j = 0; j < K; j++) {
              const row = j * n;
              for (let r = 0; r < n; r++) H[go + row + r] = H[ao + row + r] * +(H[xo + r * K + j] > 0);
            }
          } else {
            for (let j = 0; j < D; j++) {
              const row = ao + j * n;
              for (let r = 0; r < n; r++) dZ[r * D + j] += H[row + r];
            }
          }
        }
      } else {
        throw new Error('wasm flow: parameters or gradients do not match the plan');
      }
      dY.set(dZ);
    }
    // (dL/dε is not needed: the base has no parameters.)
  }

  dispose(): void {
    for (const b of this.owned) this.k.free(b);
    this.owned.length = 0;
    for (const [b, work] of this.blockWork) b.freeWork(work);
    this.blockWork.clear();
  }
}

/** log σ of an affine layer from its unclipped parameter (the clip of AffineDiagonal). */
function logScaleOf(p: { maxLogScale: number }, prm: { raw: Float64Array }): Float64Array {
  return Float64Array.from(prm.raw, (u) => softClip(u, p.maxLogScale));
}

/**
 * The layers' current parameters, read from their tfjs variables (for sampling). With `blocked`,
 * fused IAF layers also get their block-sparse form (src/flows/wasmBlocks.ts) where it gains
 * something; free those with `disposeParams`.
 */
export function variableParams(kernels: WasmKernels, plans: LayerPlan[], blocked = false, groups?: number): LayerParams[] {
  const out: LayerParams[] = [];
  try {
    for (const p of plans) {
      if (p.kind === 'affine') {
        out.push({ kind: 'affine', loc: Float64Array.from(p.layer.loc.dataSync()), raw: Float64Array.from(p.layer.rawLogScale.dataSync()) });
        continue;
      }
      const dense = p.layer.made.denseVariables();
      out.push({
        kind: 'iaf',
        W: dense.map((d) => kernels.tensorData(d.weight).id),
        b: dense.map((d) => kernels.tensorData(d.bias).id),
        blocked: blocked ? BlockedIaf.fromLayer(kernels, p.layer, groups) : null,
      });
    }
  } catch (e) {
    disposeParams(out);
    throw e;
  }
  return out;
}

/** Frees the block-sparse copies made by `variableParams`. */
export function disposeParams(params: LayerParams[]): void {
  for (const p of params) if (p.kind === 'iaf') p.blocked?.dispose();
}

/** Rows per pass when sampling: activations stay in cache (measured +3 % at D = 50, +10 % at D = 10 over 10k). */
export const SAMPLE_CHUNK = 1024;

/**
 * Draws from which on the block-sparse layers pay for copying the weights into blocks
 * (~1-3 ms at D = 50, once per call).
 */
export const BLOCKED_MIN_DRAWS = 4096;

export interface KernelSampleOptions {
  /** Rows per pass (default SAMPLE_CHUNK). */
  chunk?: number;
  /** Block-sparse IAF layers from this many draws on (default BLOCKED_MIN_DRAWS). */
  blockedFrom?: number;
  /** Degree groups of the block-sparse layers (default `groupCount`; for tests). */
  groups?: number;
}

/**
 * n draws of `flow` with their log q, as Flow.sampleArrays computes them, on the kernels; null
 * when the flow or the backend cannot use them. The base noise is drawn from `rng` exactly as
 * `baseNoise` draws it, so the same seed gives the same draws.
 */
export function sampleWithKernels(flow: Flow, n: number, rng: RandomStream, baseScale = 1, options: KernelSampleOptions = {}): { x: Float64Array; logq: Float64Array } | null {
  const chunk = options.chunk ?? SAMPLE_CHUNK;
  const blockedFrom = options.blockedFrom ?? BLOCKED_MIN_DRAWS;
  const kernels = WasmKernels.get();
  const plans = kernels ? planFlow(flow) : null;
  if (!kernels || !plans) return null;
  const D = flow.dim;
  const x = new Float64Array(n * D);
  const logq = new Float64Array(n);
  const params = variableParams(kernels, plans, n >= blockedFrom, options.groups);
  let program: WasmFlowProgram | null = null;
  try {
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      if (!program || program.n !== m) {
        program?.dispose();
        program = new WasmFlowProgram(kernels, plans, m, false);
      }
      const eps = new Float64Array(m * D);
      rng.fillNormal(eps);
      const input = kernels.f32(program.input);
      for (let j = 0; j < eps.length; j++) input[j] = Math.fround(eps[j]) * baseScale;
      program.forward(params, baseScale);
      const out = kernels.f32(program.output);
      for (let j = 0; j < m * D; j++) x[start * D + j] = out[j];
      logq.set(program.logq, start);
    }
  } finally {
    program?.dispose();
    disposeParams(params);
  }
  return { x, logq };
}
