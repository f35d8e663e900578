/**
 * The bijector contract, run over every layer on every engine it runs on:
 * - round trip f⁻¹(f(z)) = z and cancelling log-dets, to float32 precision;
 * - log|det J| against a brute-force Jacobian (rows as vector–Jacobian products of the tfjs
 *   engine, i.e. tfjs autodiff; determinant in float64), and against central finite differences;
 * - triangularity where claimed (y_i depends on z_j only if order[j] ≤ order[i], with some
 *   strictly-lower entry non-zero so the conditioning is really there);
 * - the heap engine agrees with the tfjs engine in values and in every gradient (parameters and
 *   inputs, both directions) for a random linear functional of the outputs;
 * - no tfjs tensor and no heap buffer outlives a call.
 * Deterministic (fixed seeds): the tolerances are float32 round-off.
 */
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { RandomStream } from '../../src/core/random.js';
import type { Bijector } from '../../src/flows/bijectors/bijector.js';
import { Flow } from '../../src/flows/flow.js';
import { selectEngine } from '../../src/flows/engine/select.js';
import { HeapEngine } from '../../src/flows/engine/heap/heapEngine.js';
import type { Engine, Program } from '../../src/flows/engine/engine.js';
import type { Ops } from '../../src/flows/engine/ops.js';
import type { Param } from '../../src/flows/params.js';

/** Gives every trainable parameter N(0, sd²) values, keeping masked entries at zero. */
export function randomizeParams(flow: Flow, seed: string, sd = 0.4): void {
  const rng = new RandomStream(seed);
  for (const p of flow.trainableParams()) {
    const a = new Float64Array(p.size);
    rng.fillNormal(a);
    const mask = p.gradMask ? p.gradMask.init : null;
    flow.store.set(p, Float32Array.from(a, (x, k) => (mask && mask[k] === 0 ? 0 : sd * x)));
  }
}

/** n seeded N(0, sd² I) points, row-major float32-rounded. */
export function points(n: number, dim: number, seed: string, sd = 1): Float64Array {
  const a = new Float64Array(n * dim);
  new RandomStream(seed).fillNormal(a);
  return Float64Array.from(Float32Array.from(a, (x) => sd * x));
}

/** log|det A| by Gaussian elimination with partial pivoting, float64. */
export function logAbsDet(a: Float64Array, n: number): number {
  const m = Float64Array.from(a);
  let s = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[p * n + c])) p = r;
    if (p !== c) for (let k = 0; k < n; k++) [m[c * n + k], m[p * n + k]] = [m[p * n + k], m[c * n + k]];
    const piv = m[c * n + c];
    s += Math.log(Math.abs(piv));
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / piv;
      for (let k = c; k < n; k++) m[r * n + k] -= f * m[c * n + k];
    }
  }
  return s;
}

/** The single bijector as a program: forward [y, logDet] or inverse [x, logDet]. */
export function layerProgram(b: Bijector, inverse: boolean): Program {
  return <V>(ops: Ops<V>, [v]: V[]) => {
    const r = inverse ? b.inverse(ops, v) : b.forward(ops, v);
    const n = ops.shape(v)[0];
    return [r.y, ops.add(r.logDet, ops.constant(new Float32Array(n), n, 1))];
  };
}

/** Norm-relative closeness: max |a − b| ≤ tol · (max |b| + floor). */
export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string, floor = 1e-6): void {
  expect(a.length, what).toBe(b.length);
  let scale = floor;
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  if (!(err <= tol * scale)) throw new Error(`${what}: max difference ${err.toExponential(3)} exceeds ${tol} x ${scale.toExponential(3)}`);
}

export interface ContractOptions {
  /** For autoregressive layers: y_i may depend on z_j only if order[j] ≤ order[i]. */
  order?: number[];
  /** Elementwise layers: the Jacobian is diagonal. */
  diagonal?: boolean;
  n?: number;
  pointSd?: number;
  /** Relative tolerance of the round trip and the cancelling log-dets (float32 round-off). */
  roundTripTol?: number;
  /** Relative tolerance of heap against tfjs (values and gradients). */
  engineTol?: number;
  /** Spread of the random parameters. */
  paramSd?: number;
}

function jacobianRows(engine: Engine, flow: Flow, program: Program, z0: Float64Array, dim: number): Float64Array {
  const J = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    const e = new Float64Array(dim);
    e[i] = 1;
    const r = engine.differentiate(flow.store, program, [{ values: z0, rows: 1, cols: dim, requiresGrad: true }], () => [e, null], { paramGrads: false });
    J.set(r.inputGrads[0]!, i * dim);
  }
  return J;
}

function checkOnEngine(engine: Engine, flow: Flow, b: Bijector, z: Float64Array, n: number, opts: ContractOptions): { y: Float32Array; ld: Float32Array; x: Float32Array; ldi: Float32Array } {
  const dim = b.dim;
  const tol = opts.roundTripTol ?? 1e-4;
  const [y, ld] = engine.evaluate(flow.store, layerProgram(b, false), [{ values: z, rows: n, cols: dim }]);
  const [x, ldi] = engine.evaluate(flow.store, layerProgram(b, true), [{ values: y, rows: n, cols: dim }]);
  expect(y.length).toBe(n * dim);
  expect(ld.length).toBe(n);
  for (let k = 0; k < z.length; k++) expect(Math.abs(x[k] - z[k]), `${engine.name} round trip ${k}`).toBeLessThan(tol * (1 + Math.abs(z[k])));
  for (let r = 0; r < n; r++) expect(Math.abs(ld[r] + ldi[r]), `${engine.name} log-dets cancel ${r}`).toBeLessThan(tol * (1 + Math.abs(ld[r])));
  // Brute-force Jacobian by the engine's own vector–Jacobian products, and by finite differences.
  for (let r = 0; r < Math.min(3, n); r++) {
    const z0 = z.slice(r * dim, (r + 1) * dim);
    const J = jacobianRows(engine, flow, layerProgram(b, false), z0, dim);
    expect(Math.abs(logAbsDet(J, dim) - ld[r]), `${engine.name} log|det J| row ${r}`).toBeLessThan(2e-4 * (1 + Math.abs(ld[r])));
    const h = 1e-3;
    for (let j = 0; j < dim; j++) {
      const zp = Float64Array.from(z0);
      const zm = Float64Array.from(z0);
      zp[j] += h;
      zm[j] -= h;
      const [yp] = engine.evaluate(flow.store, layerProgram(b, false), [{ values: zp, rows: 1, cols: dim }]);
      const [ym] = engine.evaluate(flow.store, layerProgram(b, false), [{ values: zm, rows: 1, cols: dim }]);
      for (let i = 0; i < dim; i++) {
        const fd = (yp[i] - ym[i]) / (2 * h);
        // Central differences of a float32 map: O(h²) truncation plus round-off / h; ReLU nets and
        // piecewise maps may straddle a kink, so compare loosely (autodiff is the exact check above).
        expect(Math.abs(fd - J[i * dim + j]), `${engine.name} J[${i},${j}] vs finite differences`).toBeLessThan(0.02 * (1 + Math.abs(J[i * dim + j])));
      }
    }
    if (opts.order) {
      const order = opts.order;
      for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) if (order[j] > order[i]) expect(J[i * dim + j], `J[${i},${j}] must be 0`).toBe(0);
      if (dim > 1) {
        let any = false;
        for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) if (order[j] < order[i] && Math.abs(J[i * dim + j]) > 1e-6) any = true;
        expect(any, 'some conditioning entry is non-zero').toBe(true);
      }
    }
    if (opts.diagonal) for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) if (i !== j) expect(J[i * dim + j]).toBe(0);
  }
  return { y, ld, x, ldi };
}

/** dL/dθ and dL/d(input) of L = Σ c ⊙ out + Σ c' ⊙ logDet, in one direction. */
function gradients(engine: Engine, flow: Flow, program: Program, input: Float64Array, n: number, dim: number, seed: string): { params: Map<Param, Float64Array>; input: Float64Array } {
  const c = points(n, dim, `${seed}/c`);
  const cl = points(n, 1, `${seed}/cl`);
  const r = engine.differentiate(flow.store, program, [{ values: input, rows: n, cols: dim, requiresGrad: true }], () => [c, cl]);
  return { params: r.paramGrads, input: r.inputGrads[0]! };
}

/** Runs the whole contract on a fresh bijector (wrapped in a Flow that owns its parameters). */
export function checkBijectorContract(b: Bijector, opts: ContractOptions = {}): void {
  const { n = 7, pointSd = 1 } = opts;
  const flow = new Flow([b]);
  randomizeParams(flow, `w/${b.type}`, opts.paramSd ?? 0.4);
  const dim = b.dim;
  const z = points(n, dim, 'z', pointSd);
  const tensorsBefore = tf.memory().numTensors;
  const tfjs = selectEngine('tfjs');
  const ref = checkOnEngine(tfjs, flow, b, z, n, opts);
  expect(tf.memory().numTensors, 'tfjs engine leaks no tensor').toBe(tensorsBefore);
  const heap = selectEngine('auto');
  if (heap instanceof HeapEngine) {
    const outstanding = heap.pool.outstanding;
    const got = checkOnEngine(heap, flow, b, z, n, opts);
    const tol = opts.engineTol ?? 1e-5;
    expectClose(got.y, ref.y, tol, 'heap forward y vs tfjs');
    expectClose(got.ld, ref.ld, tol, 'heap forward log-det vs tfjs');
    expectClose(got.x, ref.x, tol, 'heap inverse vs tfjs');
    expectClose(got.ldi, ref.ldi, tol, 'heap inverse log-det vs tfjs');
    for (const inverse of [false, true]) {
      const program = layerProgram(b, inverse);
      const input = inverse ? Float64Array.from(ref.y) : z;
      const gh = gradients(heap, flow, program, input, n, dim, `g${inverse}`);
      const gt = gradients(tfjs, flow, program, input, n, dim, `g${inverse}`);
      const dir = inverse ? 'inverse' : 'forward';
      expectClose(gh.input, gt.input, tol, `${dir}: dL/d(input), heap vs tfjs`);
      for (const p of flow.trainableParams()) {
        const a = gh.params.get(p);
        const t = gt.params.get(p);
        if (!t) {
          if (a) expectClose(a, new Float64Array(a.length), 0, `${dir}: dL/d${p.name} must be absent or 0`, 1);
          continue;
        }
        expect(a, `${dir}: heap gradient of ${p.name}`).toBeDefined();
        expectClose(a!, t, tol, `${dir}: dL/d${p.name}, heap vs tfjs`);
      }
    }
    expect(heap.pool.outstanding, 'heap engine gives every buffer back').toBe(outstanding);
  }
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  flow.dispose();
}
