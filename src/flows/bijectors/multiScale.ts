/**
 * The multi-scale architecture (UDL §16.4; Dinh, Sohl-Dickstein & Bengio 2017, "Density
 * estimation using Real NVP", §3.6, https://arxiv.org/abs/1605.08803; Glow, Kingma & Dhariwal
 * 2018): a chain of levels where, after each level, half of the variables are factored out, sent
 * straight to the base N(0, I), and only the other half goes on through the next level. Level l
 * works on d_l variables, d_0 = D and d_{l+1} = ⌈d_l / 2⌉, so deeper levels are cheaper, and
 * every variable has been mixed with the others before it leaves.
 *
 * In the density direction (x → z):
 *   u_0 = level_0⁻¹(x);  z_0 = first ⌊d_0/2⌋ columns of u_0;  v_1 = the rest;
 *   u_1 = level_1⁻¹(v_1); …;  the last level keeps all of its d_{L−1} columns;
 *   z = [z_0 | z_1 | … | u_{L−1}],   log|det| = Σ_l log|det level_l⁻¹|.
 * The map is a bijection of R^D whose Jacobian is block-triangular, so log q is exact: the base
 * density of z plus the levels' log-dets. The sampling direction runs the same steps backwards.
 *
 * Each level is any chain of registered layers (`levels[l]` lists their specs, `{ type, ...config }`;
 * the level's dimension and a seed are filled in), so it works for any D: a level of d = 1 just
 * needs layers that work in one dimension. `createMultiScaleFlow` (src/flows/builder.ts) builds
 * the usual one (ActNorm, LU linear and affine coupling steps per level).
 */
import type { Ops } from '../engine/ops.js';
import type { Param } from '../params.js';
import type { Bijector, BijectorResult, InverseRunner, PassCost } from './bijector.js';
import { bijectorFactory, bijectorTypes } from '../registry.js';
import { DimensionError, FlowsamplerError, ParameterError, checkPositiveInt } from '../../core/errors.js';

export interface MultiScaleLayerSpec {
  type: string;
  [key: string]: unknown;
}

export interface MultiScaleConfig {
  dim: number;
  /** The layers of each level, base side first (as in a Flow). */
  levels: MultiScaleLayerSpec[][];
  seed?: number | string;
}

/** The dimensions d_l of `levels` levels on D variables: d_0 = D, d_{l+1} = ⌈d_l / 2⌉. */
export function levelDims(dim: number, levels: number): number[] {
  const d = [dim];
  for (let l = 1; l < levels; l++) d.push(Math.ceil(d[l - 1] / 2));
  return d;
}

export class MultiScale implements Bijector {
  readonly type = 'multi-scale';
  readonly dim: number;
  readonly cost: { forward: PassCost; inverse: PassCost };
  /** The bijectors of each level, base side first. */
  readonly levels: Bijector[][];
  /** d_l of each level. */
  readonly dims: number[];
  private readonly seed: number | string;

  constructor(config: MultiScaleConfig) {
    if (config == null || typeof config !== 'object') throw new ParameterError('multi-scale: config { dim, levels: [[layer specs], ...] } is required');
    this.dim = checkPositiveInt('multi-scale dim', config.dim);
    if (!Array.isArray(config.levels) || config.levels.length === 0) throw new ParameterError('multi-scale: levels must be a non-empty list of levels, each a list of layer specs');
    this.seed = config.seed ?? 0;
    this.dims = levelDims(this.dim, config.levels.length);
    if (config.levels.length > 1 && this.dims[this.dims.length - 2] < 2) {
      throw new ParameterError(`multi-scale: ${config.levels.length} levels on ${this.dim} variables leave a level of 1 variable with nothing to factor out (dims ${this.dims.join(', ')}); use fewer levels`);
    }
    this.levels = config.levels.map((level, l) => {
      if (!Array.isArray(level) || level.length === 0) throw new ParameterError(`multi-scale: level ${l} must be a non-empty list of layer specs`);
      return level.map((spec, i) => this.build(spec, l, i));
    });
    const all = this.levels.flat();
    this.cost = {
      forward: all.every((b) => b.cost.forward === 'parallel') ? 'parallel' : 'sequential',
      inverse: all.every((b) => b.cost.inverse === 'parallel') ? 'parallel' : 'sequential',
    };
  }

  private build(spec: MultiScaleLayerSpec, l: number, i: number): Bijector {
    const d = this.dims[l];
    const factory = spec && typeof spec.type === 'string' ? bijectorFactory(spec.type) : undefined;
    if (!factory) throw new ParameterError(`multi-scale: level ${l} layer ${i} has unknown type ${JSON.stringify(spec?.type)} (known: ${bijectorTypes().join(', ')})`);
    const { type, ...config } = spec;
    if (config.dim !== undefined && config.dim !== d) throw new DimensionError(`multi-scale: level ${l} works on ${d} variables, but its layer ${i} (${type}) has dim ${String(config.dim)}`);
    try {
      const b = factory({ seed: `${this.seed}/level${l}/layer${i}`, ...config, dim: d });
      if (b.dim !== d) throw new DimensionError(`multi-scale: level ${l} layer ${i} (${type}) has dim ${b.dim}, not ${d}`);
      return b;
    } catch (e) {
      if (e instanceof FlowsamplerError) throw new ParameterError(`multi-scale level ${l} (${d} variables), layer ${i} (${type}): ${e.message}`);
      throw e;
    }
  }

  params(): Param[] {
    return this.levels.flat().flatMap((b) => b.params());
  }

  /** Columns that leave after level l (the last level keeps all of its columns). */
  private factored(l: number): number {
    return l === this.levels.length - 1 ? this.dims[l] : Math.floor(this.dims[l] / 2);
  }

  inverse<V>(ops: Ops<V>, x: V): BijectorResult<V> {
    let v = x;
    let logDet: V | null = null;
    const out: V[] = [];
    this.levels.forEach((level, l) => {
      for (let i = level.length - 1; i >= 0; i--) {
        const r = level[i].inverse(ops, v);
        v = r.y;
        logDet = logDet === null ? r.logDet : ops.add(logDet, r.logDet);
      }
      const k = this.factored(l);
      if (k === this.dims[l]) {
        out.push(v);
      } else {
        out.push(ops.cols(v, 0, k));
        v = ops.cols(v, k, this.dims[l] - k);
      }
    });
    return { y: out.length === 1 ? out[0] : ops.concatCols(out), logDet: logDet! };
  }

  forward<V>(ops: Ops<V>, z: V): BijectorResult<V> {
    const L = this.levels.length;
    const offsets: number[] = [];
    let o = 0;
    for (let l = 0; l < L; l++) {
      offsets.push(o);
      o += this.factored(l);
    }
    let v: V | null = null;
    let logDet: V | null = null;
    for (let l = L - 1; l >= 0; l--) {
      const part = L === 1 ? z : ops.cols(z, offsets[l], this.factored(l));
      v = v === null ? part : ops.concatCols([part, v]);
      for (const b of this.levels[l]) {
        const r: BijectorResult<V> = b.forward(ops, v);
        v = r.y;
        logDet = logDet === null ? r.logDet : ops.add(logDet, r.logDet);
      }
    }
    return { y: v!, logDet: logDet! };
  }

  /** Data-dependent initialisation of every inner layer, with the points as they reach it. */
  initializeFromData(x: Float64Array, n: number, set: (p: Param, values: ArrayLike<number>) => void, runInverse?: InverseRunner): void {
    if (!runInverse) return;
    let v = x;
    this.levels.forEach((level, l) => {
      const d = this.dims[l];
      for (let i = level.length - 1; i >= 0; i--) {
        level[i].initializeFromData?.(v, n, set, runInverse);
        v = runInverse(level[i], v, n);
      }
      const k = this.factored(l);
      if (k < d) {
        const rest = new Float64Array(n * (d - k));
        for (let r = 0; r < n; r++) for (let j = k; j < d; j++) rest[r * (d - k) + j - k] = v[r * d + j];
        v = rest;
      }
    });
  }

  getConfig(): Record<string, unknown> {
    return { dim: this.dim, seed: this.seed, levels: this.levels.map((level) => level.map((b) => ({ type: b.type, ...b.getConfig() }))) };
  }
}
