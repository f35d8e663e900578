/**
 * Gradients of a loss of log q at data points without keeping the activations of the whole
 * chain: the memory trick of reversible networks (Gomez et al. 2017, "The reversible residual
 * network"; Jacobsen et al. 2018, i-RevNet). A layer whose input is recomputed exactly from its
 * output (additive coupling above all: src/flows/bijectors/additiveCoupling.ts) need not store
 * anything for the backward pass. So:
 *
 * 1. the density direction x → z runs layer by layer with no tape, keeping only the current
 *    batch and the summed log-dets;
 * 2. the backward pass walks from the base back to the data: for each layer it reconstructs the
 *    layer's input from its output by the layer's forward map, records that one layer, pulls the
 *    cotangent through it, and drops its tape.
 * Memory: O(batch x dim) plus one layer's tape, instead of every layer's tape; cost: one more
 * pass of each layer. docs/residual-flows.md has the measurements.
 *
 * The reconstruction is exact only up to float32 rounding, and only for layers with a closed-form
 * inverse; `reconstructionError` (max |x̂ − x| over the batch after reconstructing all the way
 * back) says how far it drifted. Layers whose inverse is iterative (iresnet) or stochastic in
 * their log-det do not belong in such a chain.
 */
import type { Flow } from '../flow.js';
import type { Bijector } from '../bijectors/bijector.js';
import type { Program } from '../engine/engine.js';
import type { Ops } from '../engine/ops.js';
import type { Param } from '../params.js';
import { DimensionError } from '../../core/errors.js';

export interface ReversibleGradient {
  /** log q at each row. */
  logq: Float64Array;
  /** dL/dθ of every trainable parameter reached. */
  paramGrads: Map<Param, Float64Array>;
  /** max |x̂ − x| of the data reconstructed from the base side, through every layer. */
  reconstructionError: number;
}

function layerProgram(b: Bijector, inverse: boolean): Program {
  return <V>(ops: Ops<V>, [v]: V[]) => {
    const r = inverse ? b.inverse(ops, v) : b.forward(ops, v);
    const n = ops.shape(v)[0];
    return [r.y, ops.add(r.logDet, ops.constant(new Float32Array(n), n, 1))];
  };
}

/**
 * dL/dθ for L = Σ_r c_r log q(x_r), where `dLogq(logq)` gives the c_r (e.g. −1/n each for the
 * mean negative log-likelihood), computed by reconstruction (see the file header).
 */
export function densityGradientReversible(flow: Flow, x: ArrayLike<number>, n: number, dLogq: (logq: Float64Array) => ArrayLike<number>): ReversibleGradient {
  const D = flow.dim;
  if (x.length !== n * D) throw new DimensionError(`reversible gradient: ${x.length} values are not ${n} rows of dim ${D}`);
  const engine = flow.activeEngine();
  const store = flow.store;
  const bij = flow.bijectors;
  let v: ArrayLike<number> = x;
  const logDet = new Float64Array(n);
  for (let i = bij.length - 1; i >= 0; i--) {
    const [y, ld] = engine.evaluate(store, layerProgram(bij[i], true), [{ values: v, rows: n, cols: D }]);
    for (let r = 0; r < n; r++) logDet[r] += ld[r];
    v = y;
  }
  const logq = new Float64Array(n);
  const c = -D * 0.5 * Math.log(2 * Math.PI);
  const cot = new Float64Array(n * D);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += v[r * D + j] * v[r * D + j];
    logq[r] = c - 0.5 * s + logDet[r];
  }
  const g = dLogq(logq);
  if (g.length !== n) throw new DimensionError(`reversible gradient: ${g.length} cotangents for ${n} rows`);
  // d log N(z) / dz = −z.
  for (let r = 0; r < n; r++) for (let j = 0; j < D; j++) cot[r * D + j] = -g[r] * v[r * D + j];
  const paramGrads = new Map<Param, Float64Array>();
  let gradV: ArrayLike<number> = cot;
  for (let i = 0; i < bij.length; i++) {
    const [input] = engine.evaluate(store, layerProgram(bij[i], false), [{ values: v, rows: n, cols: D }]);
    const d = engine.differentiate(store, layerProgram(bij[i], true), [{ values: input, rows: n, cols: D, requiresGrad: true }], () => [gradV, g]);
    for (const [p, gp] of d.paramGrads) {
      const acc = paramGrads.get(p);
      if (acc) for (let k = 0; k < acc.length; k++) acc[k] += gp[k];
      else paramGrads.set(p, gp);
    }
    gradV = d.inputGrads[0]!;
    v = input;
  }
  let reconstructionError = 0;
  for (let k = 0; k < n * D; k++) reconstructionError = Math.max(reconstructionError, Math.abs(v[k] - x[k]));
  return { logq, paramGrads, reconstructionError };
}
