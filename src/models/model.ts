/**
 * Written-once models. The user writes the log density of the *constrained* parameters, with
 * data, in one function of model ops; `defineModel(spec).compile(data)` records it once and gives
 * a Target on the unconstrained scale with
 * - `logDensity` / `gradLogDensity` (float64, exact reverse-mode gradient) for MCMC,
 * - `valueAndGradBatch` (float64, the same program over a batch of rows) for flow training,
 * - the constrained view (`constrained`): Stan-named outputs (parameters, exposed transformed
 *   parameters, generated quantities) for every unconstrained draw.
 *
 * The log density on the unconstrained scale is the user's log density at the constrained
 * values plus the log-Jacobians of the constraint transforms (src/models/transforms.ts).
 */
import { Graph, ModelError, Var, shapeText, sizeOf, type Shape, type Value } from './graph.js';
import { Program } from './program.js';
import { addAll, sum } from './structure.js';
import { constrain, freeSize, resolveBounds, unconstrain, type ParamDecl } from './transforms.js';
import { RandomStream } from '../core/random.js';
import type { ConstrainedView, Target } from '../targets/target.js';

/** Data as read from a Stan JSON file: named numbers and (nested) arrays of numbers. */
export type ModelData = Record<string, unknown>;

export type ParamValues = Record<string, number | Float64Array | number[][]>;

export type DataKind = 'int' | 'real' | 'int[]' | 'real[]' | 'matrix';

/** What `logDensity` receives as its third argument: Stan's `target +=`, and a way to report values. */
export interface ModelContext {
  /** Adds terms (each summed over its elements) to the log density. */
  add(...terms: Value[]): void;
  /** Reports derived values with the draws (Stan's transformed parameters), e.g. `expose({ theta })`. */
  expose(values: Record<string, Value>): void;
}

export interface ModelSpec<D extends ModelData = ModelData> {
  name: string;
  description?: string;
  /** Expected data entries, checked when the model is compiled (e.g. `{ N: 'int', y: 'real[]' }`). */
  data?: Record<string, DataKind>;
  /** Parameter declarations (`param.*`), or a function of the data that returns them. */
  parameters: Record<string, ParamDecl> | ((data: D) => Record<string, ParamDecl>);
  /** The log density of the constrained parameters: add terms with `t.add(...)` and/or return them. */
  logDensity(params: Record<string, Var>, data: D, t: ModelContext): Value | Value[] | void;
  /** Derived quantities of one draw, on plain numbers (Stan's generated quantities). */
  generated?(values: ParamValues, data: D, rng: RandomStream): Record<string, number | ArrayLike<number> | number[][]>;
  /** A starting point on the constrained scale (default: zeros on the unconstrained scale, Stan's centre). */
  init?(data: D): Record<string, number | ArrayLike<number> | number[][]>;
}

export interface Model<D extends ModelData = ModelData> {
  readonly name: string;
  readonly spec: ModelSpec<D>;
  /** Records the model with this data and returns its Target. */
  compile(data?: D): ModelTarget;
}

export interface ParamLayout {
  name: string;
  kind: ParamDecl['kind'];
  shape: Shape;
  /** First unconstrained coordinate. */
  offset: number;
  size: number;
}

export interface ModelTarget extends Target {
  readonly constrained: ConstrainedView;
  readonly layout: ParamLayout[];
  /** The compiled program (instruction count, chunk size) for benches and docs. */
  readonly program: Program;
  /** Unconstrained coordinates from constrained values (every parameter must be given). */
  unconstrain(values: Record<string, number | ArrayLike<number> | number[][]>): Float64Array;
}

export function defineModel<D extends ModelData = ModelData>(spec: ModelSpec<D>): Model<D> {
  if (spec == null || typeof spec !== 'object') throw new ModelError('defineModel: a spec { name, parameters, logDensity } is required');
  if (typeof spec.name !== 'string' || spec.name.trim() === '') throw new ModelError('defineModel: name must be a non-empty string');
  if (typeof spec.logDensity !== 'function') throw new ModelError(`model ${spec.name}: logDensity must be a function (params, data, t) => ...`);
  if (spec.parameters == null) throw new ModelError(`model ${spec.name}: parameters are required`);
  return { name: spec.name, spec, compile: (data?: D) => compileModel(spec, (data ?? {}) as D) };
}

/** True for an object made by defineModel. */
export function isModel(x: unknown): x is Model {
  return typeof x === 'object' && x !== null && typeof (x as Model).compile === 'function' && typeof (x as Model).spec === 'object';
}

function checkData(name: string, schema: Record<string, DataKind> | undefined, data: ModelData): void {
  if (!schema) return;
  for (const [key, kind] of Object.entries(schema)) {
    const v = data[key];
    const where = `model ${name}: data ${key}`;
    if (v === undefined) throw new ModelError(`${where} is missing (expected ${kind})`);
    const isNum = (x: unknown) => typeof x === 'number';
    const isInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x);
    const arr = (x: unknown): x is ArrayLike<unknown> => Array.isArray(x) || ArrayBuffer.isView(x);
    switch (kind) {
      case 'int':
        if (!isInt(v)) throw new ModelError(`${where} must be an integer, got ${JSON.stringify(v)}`);
        break;
      case 'real':
        if (!isNum(v)) throw new ModelError(`${where} must be a number, got ${JSON.stringify(v)}`);
        break;
      case 'int[]':
      case 'real[]': {
        if (!arr(v)) throw new ModelError(`${where} must be an array of numbers`);
        const ok = kind === 'int[]' ? isInt : isNum;
        for (let i = 0; i < v.length; i++) if (!ok(v[i])) throw new ModelError(`${where}[${i + 1}] must be ${kind === 'int[]' ? 'an integer' : 'a number'}, got ${JSON.stringify(v[i])}`);
        break;
      }
      case 'matrix': {
        if (!arr(v) || v.length === 0 || !arr(v[0])) throw new ModelError(`${where} must be a matrix (an array of rows)`);
        break;
      }
    }
  }
}

/** Stan's display names of a value's elements: `beta[1]`, matrices column-major `L[1,2]`. */
function elementNames(name: string, shape: Shape): { names: string[]; order: number[] } {
  if (shape.length === 0) return { names: [name], order: [0] };
  if (shape.length === 1) return { names: Array.from({ length: shape[0] }, (_, i) => `${name}[${i + 1}]`), order: Array.from({ length: shape[0] }, (_, i) => i) };
  const [m, n] = shape;
  const names: string[] = [];
  const order: number[] = [];
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) {
    names.push(`${name}[${i + 1},${j + 1}]`);
    order.push(i * n + j);
  }
  return { names, order };
}

interface Output {
  name: string;
  shape: Shape;
  /** A node of the graph, or constant values. */
  node: Var | null;
  constant?: Float64Array;
}

function toValues(outputs: Output[], get: (o: Output, i: number) => number): ParamValues {
  const vals: ParamValues = {};
  for (const o of outputs) {
    const n = sizeOf(o.shape);
    if (o.shape.length === 0) vals[o.name] = get(o, 0);
    else if (o.shape.length === 1) vals[o.name] = Float64Array.from({ length: n }, (_, i) => get(o, i));
    else vals[o.name] = Array.from({ length: o.shape[0] }, (_, i) => Array.from({ length: o.shape[1] }, (_, j) => get(o, i * o.shape[1] + j)));
  }
  return vals;
}

function flatten(name: string, v: unknown): { values: Float64Array; shape: Shape } {
  if (typeof v === 'number') return { values: Float64Array.of(v), shape: [] };
  if (Array.isArray(v) && v.length > 0 && Array.isArray(v[0])) {
    const rows = v as number[][];
    return { values: Float64Array.from(rows.flat()), shape: [rows.length, rows[0].length] };
  }
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return { values: Float64Array.from(v as ArrayLike<number>), shape: [(v as ArrayLike<number>).length] };
  throw new ModelError(`${name}: expected a number or an array of numbers, got ${typeof v}`);
}

function compileModel<D extends ModelData>(spec: ModelSpec<D>, data: D): ModelTarget {
  const name = spec.name;
  checkData(name, spec.data, data);
  const decls = typeof spec.parameters === 'function' ? spec.parameters(data) : spec.parameters;
  if (decls == null || typeof decls !== 'object' || Object.keys(decls).length === 0) throw new ModelError(`model ${name}: declares no parameters`);
  const layout: ParamLayout[] = [];
  let dim = 0;
  for (const [pname, d] of Object.entries(decls)) {
    if (!d || typeof d !== 'object' || typeof d.kind !== 'string') throw new ModelError(`model ${name}: parameter ${pname} must be declared with param.* (e.g. param.real())`);
    const size = freeSize(d);
    layout.push({ name: pname, kind: d.kind, shape: d.shape, offset: dim, size });
    dim += size;
  }
  if (dim === 0) throw new ModelError(`model ${name}: the parameters have no free coordinates`);

  const g = new Graph();
  const input = g.alloc([dim]);
  const params: Record<string, Var> = {};
  const outputs: Output[] = [];
  const terms: Value[] = [];
  for (const p of layout) {
    const u = g.view(input, p.offset, [p.size]);
    const b = resolveBounds(p.name, decls[p.name], params);
    const c = constrain(p.name, decls[p.name], u, b);
    params[p.name] = c.value;
    outputs.push({ name: p.name, shape: p.shape, node: c.value });
    terms.push(c.logJacobian);
  }
  const exposed = new Set<string>();
  const ctx: ModelContext = {
    add: (...ts) => {
      for (const t of ts) terms.push(t);
    },
    expose: (values) => {
      for (const [k, v] of Object.entries(values)) {
        if (k in decls || exposed.has(k)) throw new ModelError(`model ${name}: expose: the name ${k} is already used`);
        exposed.add(k);
        if (v instanceof Var) outputs.push({ name: k, shape: v.shape, node: v });
        else {
          const f = flatten(`model ${name}: expose ${k}`, v);
          outputs.push({ name: k, shape: f.shape, node: null, constant: f.values });
        }
      }
    },
  };
  let returned: unknown;
  try {
    returned = spec.logDensity({ ...params }, data, ctx);
  } catch (e) {
    if (e instanceof ModelError) throw new ModelError(`model ${name}: ${e.message}`);
    throw e;
  }
  if (returned !== undefined) {
    if (Array.isArray(returned) && returned.some((r) => r instanceof Var)) terms.push(...(returned as Value[]));
    else terms.push(returned as Value);
  }
  const lpValue = addAll(terms.map((t) => sum(t)));
  if (!(lpValue instanceof Var)) throw new ModelError(`model ${name}: the log density does not depend on the parameters (did logDensity add its terms with t.add(...) or return them?)`);
  const lp = lpValue.shape.length === 0 ? lpValue : g.view(lpValue, 0, []);
  const program = new Program(g, input, lp);

  // Stan names and the order of every output element.
  const getOut = (o: Output, node: (v: Var, i: number) => number, i: number) => (o.node ? node(o.node, i) : o.constant![i]);
  const names: string[] = [];
  const picks: { o: Output; i: number }[] = [];
  for (const o of outputs) {
    const en = elementNames(o.name, o.shape);
    en.names.forEach((n, k) => {
      names.push(n);
      picks.push({ o, i: en.order[k] });
    });
  }
  let genNames: string[] = [];
  let genOrder: { key: string; i: number }[] = [];
  const zero = new Float64Array(dim);
  if (spec.generated) {
    const sample = runGenerated(spec, data, outputs, program, zero, new RandomStream(0));
    for (const [k, f] of Object.entries(sample)) {
      if (names.some((n) => n === k || n.startsWith(`${k}[`))) throw new ModelError(`model ${name}: generated quantity ${k} repeats a name`);
      const en = elementNames(k, f.shape);
      genNames = genNames.concat(en.names);
      genOrder = genOrder.concat(en.order.map((i) => ({ key: k, i })));
    }
  }
  const outDim = names.length + genNames.length;

  const map = (x: ArrayLike<number>, n: number, opts: { seed?: number | string } = {}): Float64Array => {
    if (x.length !== n * dim) throw new ModelError(`model ${name}: ${x.length} values are not ${n} rows of ${dim} unconstrained parameters`);
    const out = new Float64Array(n * outDim);
    const root = spec.generated ? new RandomStream(opts.seed ?? 1).derive('generated') : null;
    program.forEachRow(x, n, (r, node) => {
      const base = r * outDim;
      for (let k = 0; k < picks.length; k++) out[base + k] = getOut(picks[k].o, node, picks[k].i);
      if (spec.generated) {
        const vals = toValues(outputs, (o, i) => getOut(o, node, i));
        const gq = callGenerated(spec, vals, data, root!.derive(r));
        for (let k = 0; k < genOrder.length; k++) {
          const f = gq[genOrder[k].key];
          if (!f) throw new ModelError(`model ${name}: generated quantity ${genOrder[k].key} is missing at a draw`);
          out[base + picks.length + k] = f.values[genOrder[k].i];
        }
      }
    });
    return out;
  };

  const unconstrainValues = (values: Record<string, number | ArrayLike<number> | number[][]>): Float64Array => {
    const u = new Float64Array(dim);
    const earlier: Record<string, number | Float64Array> = {};
    for (const p of layout) {
      const v = values[p.name];
      if (v === undefined) throw new ModelError(`model ${name}: no value for parameter ${p.name}`);
      const f = flatten(`model ${name}: parameter ${p.name}`, v);
      if (f.values.length !== sizeOf(p.shape)) throw new ModelError(`model ${name}: parameter ${p.name} needs ${sizeOf(p.shape)} values (${shapeText(p.shape)}), got ${f.values.length}`);
      const b = resolveBounds(p.name, decls[p.name], earlier as Record<string, number | Float64Array>);
      u.set(unconstrain(p.name, decls[p.name], f.values, b), p.offset);
      earlier[p.name] = f.values.length === 1 && p.shape.length === 0 ? f.values[0] : f.values;
    }
    return u;
  };

  const unconstrainedNames: string[] = [];
  for (const p of layout) {
    const plain = p.kind === 'real' && Object.keys(decls[p.name].options).length === 0;
    const base = plain ? p.name : `${p.name}_unc`;
    if (p.size === 1 && p.shape.length === 0) unconstrainedNames.push(base);
    else for (let i = 0; i < p.size; i++) unconstrainedNames.push(`${base}[${i + 1}]`);
  }
  const init = spec.init ? unconstrainValues(spec.init(data)) : null;

  const target: ModelTarget = {
    name,
    dim,
    description: `model ${name}${spec.description ? `: ${spec.description}` : ''} (${dim} unconstrained parameters)`,
    params: { model: name },
    paramNames: unconstrainedNames,
    logDensity(x) {
      if (x.length !== dim) throw new ModelError(`dimension mismatch: model ${name} has dim ${dim}, got a point of length ${x.length}`);
      return program.value(x);
    },
    gradLogDensity(x, out) {
      if (x.length !== dim) throw new ModelError(`dimension mismatch: model ${name} has dim ${dim}, got a point of length ${x.length}`);
      return program.valueAndGrad(x, out);
    },
    valueAndGradBatch(x, n, logp, grad) {
      if (x.length !== n * dim) throw new ModelError(`model ${name}: ${x.length} values are not ${n} rows of dim ${dim}`);
      program.valueAndGradBatch(x, n, logp, grad);
    },
    batchPath: 'float64',
    initialPoint: () => (init ? init.slice() : new Float64Array(dim)),
    constrained: { names: names.concat(genNames), map },
    layout,
    program,
    unconstrain: unconstrainValues,
  };
  return target;
}

function callGenerated<D extends ModelData>(spec: ModelSpec<D>, vals: ParamValues, data: D, rng: RandomStream): Record<string, { values: Float64Array; shape: Shape }> {
  const res = spec.generated!(vals, data, rng);
  if (res == null || typeof res !== 'object') throw new ModelError(`model ${spec.name}: generated must return an object of numbers and arrays`);
  const out: Record<string, { values: Float64Array; shape: Shape }> = {};
  for (const [k, v] of Object.entries(res)) out[k] = flatten(`model ${spec.name}: generated ${k}`, v);
  return out;
}

function runGenerated<D extends ModelData>(
  spec: ModelSpec<D>, data: D, outputs: Output[], program: Program, x: Float64Array, rng: RandomStream,
): Record<string, { values: Float64Array; shape: Shape }> {
  let res: Record<string, { values: Float64Array; shape: Shape }> = {};
  program.forEachRow(x, 1, (_r, node) => {
    res = callGenerated(spec, toValues(outputs, (o, i) => (o.node ? node(o.node, i) : o.constant![i])), data, rng);
  });
  return res;
}
