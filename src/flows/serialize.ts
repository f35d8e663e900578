/**
 * Save and load a flow: one JSON document
 *   { format: 'flowsampler-flow', version: 1, dim, architecture: [{type, config}...],
 *     weights: [{shape, dtype: 'float32', data: base64}...], target?, training? }
 * with the weights in the order of `flow.trainableVariables()`. Writing is atomic (temporary
 * file, then rename), so an interrupted save never leaves half a file. Anything that does not
 * match — wrong format or version, unknown bijector type, weight count or shape mismatch,
 * malformed base64 — is a ParseError that says what did not match.
 *
 * Other bijector families register themselves with `registerBijector(type, factory)`.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from './bijector.js';
import { Flow } from './flow.js';
import { AffineDiagonal } from './affine.js';
import { FastIafAffine } from './fastIaf.js';
import { Permute } from './permute.js';
import { FlowsamplerError, ParseError } from '../core/errors.js';
import { writeFileAtomicSync } from '../core/atomicWrite.js';
import { checkMemory, formatBytes, FLOAT32_BYTES } from '../core/memory.js';

export const FLOW_FORMAT = 'flowsampler-flow';
export const FLOW_FORMAT_VERSION = 1;

export type BijectorFactory = (config: Record<string, unknown>) => Bijector;

const registry = new Map<string, BijectorFactory>([
  ['affine-diagonal', (c) => new AffineDiagonal(c as never)],
  // The fused layer computes the same function as IafAffine and re-masks after loading.
  ['iaf-affine', (c) => new FastIafAffine(c as never)],
  ['permute', (c) => new Permute(c as never)],
]);

/** Makes a bijector type loadable (e.g. spline layers defined in other modules). */
export function registerBijector(type: string, factory: BijectorFactory): void {
  registry.set(type, factory);
}

export interface SavedWeight {
  shape: number[];
  dtype: 'float32';
  data: string;
}

export interface SavedFlow {
  format: typeof FLOW_FORMAT;
  version: number;
  dim: number;
  architecture: { type: string; config: Record<string, unknown> }[];
  weights: SavedWeight[];
  /** Free-form description of the target the flow was trained on (name, params). */
  target?: Record<string, unknown>;
  /** Free-form training summary (steps, seconds, final ELBO, options). */
  training?: Record<string, unknown>;
}

export function flowToJSON(flow: Flow, meta: { target?: Record<string, unknown>; training?: Record<string, unknown> } = {}): SavedFlow {
  const weights = flow.trainableVariables().map((v) => {
    const data = new Float32Array(v.dataSync());
    return { shape: [...v.shape], dtype: 'float32' as const, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
  });
  return {
    format: FLOW_FORMAT,
    version: FLOW_FORMAT_VERSION,
    dim: flow.dim,
    architecture: flow.bijectors.map((b) => ({ type: b.type, config: b.getConfig() })),
    weights,
    ...(meta.target ? { target: meta.target } : {}),
    ...(meta.training ? { training: meta.training } : {}),
  };
}

/** Writes the flow atomically; returns the path. */
export function saveFlow(flow: Flow, file: string, meta: { target?: Record<string, unknown>; training?: Record<string, unknown> } = {}): string {
  writeFileAtomicSync(file, JSON.stringify(flowToJSON(flow, meta)));
  return file;
}

function fail(msg: string, file?: string): never {
  throw new ParseError(msg, undefined, file);
}

/** Rebuilds a flow from a saved JSON object (or its text). */
export function flowFromJSON(input: unknown, file?: string): Flow {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (e) {
      fail(`not a flow file: invalid JSON (${(e as Error).message})`, file);
    }
  }
  if (typeof doc !== 'object' || doc === null) fail('not a flow file: expected a JSON object', file);
  const d = doc as Partial<SavedFlow>;
  if (d.format !== FLOW_FORMAT) fail(`not a flow file: format is ${JSON.stringify(d.format)}, expected '${FLOW_FORMAT}'`, file);
  if (d.version !== FLOW_FORMAT_VERSION) fail(`flow file version ${String(d.version)} is not supported (this flowsampler reads version ${FLOW_FORMAT_VERSION})`, file);
  if (!Array.isArray(d.architecture) || d.architecture.length === 0) fail('flow file has no architecture', file);
  if (!Array.isArray(d.weights)) fail('flow file has no weights', file);
  checkDeclaredSizes(d.architecture, d.weights, file);
  const bijectors: Bijector[] = [];
  let flow: Flow | undefined;
  try {
    d.architecture.forEach((layer, i) => {
      const factory = layer && registry.get(layer.type);
      if (!factory) fail(`layer ${i}: unknown bijector type ${JSON.stringify(layer?.type)} (known: ${[...registry.keys()].join(', ')})`, file);
      try {
        bijectors.push(factory(layer.config ?? {}));
      } catch (e) {
        if (e instanceof ParseError) throw e;
        fail(`layer ${i} (${layer.type}): bad config: ${(e as Error).message}`, file);
      }
    });
    try {
      flow = new Flow(bijectors);
    } catch (e) {
      if (e instanceof FlowsamplerError) fail(`architecture does not fit together: ${e.message}`, file);
      throw e;
    }
    if (d.dim !== undefined && d.dim !== flow.dim) fail(`flow file says dim ${d.dim} but its layers have dim ${flow.dim}`, file);
    const vars = flow.trainableVariables();
    if (vars.length !== d.weights.length) fail(`architecture has ${vars.length} weight tensors, file has ${d.weights.length}`, file);
    vars.forEach((v, i) => {
      const w = d.weights![i];
      if (!w || !Array.isArray(w.shape) || w.shape.join('x') !== v.shape.join('x')) {
        const got = Array.isArray(w?.shape) ? `[${w.shape.join(', ')}]` : JSON.stringify(w?.shape ?? null).slice(0, 40);
        fail(`weight ${i}: shape ${got} does not match the architecture's [${v.shape.join(', ')}]`, file);
      }
      if (w.dtype !== 'float32' || typeof w.data !== 'string') fail(`weight ${i}: expected float32 base64 data`, file);
      const buf = Buffer.from(w.data, 'base64');
      if (buf.length !== 4 * v.size) fail(`weight ${i}: ${buf.length} bytes of data for ${v.size} float32 values`, file);
      const arr = new Float32Array(v.size);
      new Uint8Array(arr.buffer).set(buf);
      for (let k = 0; k < arr.length; k++) if (!Number.isFinite(arr[k])) fail(`weight ${i} contains a non-finite value`, file);
      const t = tf.tensor(arr, v.shape);
      v.assign(t);
      t.dispose();
    });
    // Layers that keep pre-masked weights (FastIafAffine) re-apply their masks, so a file
    // written by the unfused IafAffine (unmasked weights) loads as the same function.
    for (const b of bijectors) (b as { applyMasks?: () => void }).applyMasks?.();
    return flow;
  } catch (e) {
    if (flow) flow.dispose();
    else for (const b of bijectors) b.dispose();
    throw e;
  }
}

/**
 * Before any layer allocates: the weights an architecture implies must be there in the file. A
 * MADE conditioner of widths dim → hidden… → dim has at least Σ w_i·w_{i+1} weights, an affine
 * layer 2·dim; a config claiming more than the file's data (e.g. `hidden: [1e8]`, 4 GB of
 * weights) is a ParseError saying how much it would need, instead of an allocation that grows
 * until the process dies.
 */
function checkDeclaredSizes(architecture: SavedFlow['architecture'], weights: unknown[], file?: string): void {
  let dataBytes = 0;
  for (const w of weights) {
    const data = (w as Partial<SavedWeight> | null)?.data;
    if (typeof data === 'string') dataBytes += Math.floor((data.length * 3) / 4);
  }
  architecture.forEach((layer, i) => {
    const c = (layer?.config ?? {}) as { dim?: unknown; hidden?: unknown };
    if (typeof c.dim !== 'number' || !Number.isInteger(c.dim) || c.dim < 1) return;
    let floats = 0;
    if (Array.isArray(c.hidden)) {
      const widths = [c.dim, ...c.hidden, c.dim];
      if (!widths.every((h) => typeof h === 'number' && Number.isInteger(h) && h > 0)) {
        fail(`layer ${i} (${String(layer.type)}): bad config: hidden widths must be positive integers, got ${JSON.stringify(c.hidden).slice(0, 60)}`, file);
      }
      for (let k = 0; k + 1 < widths.length; k++) floats += (widths[k] as number) * (widths[k + 1] as number);
    } else if (layer?.type === 'affine-diagonal') floats = 2 * c.dim;
    const bytes = floats * FLOAT32_BYTES;
    if (bytes > dataBytes) {
      fail(`layer ${i} (${String(layer.type)}): its config (dim ${c.dim}${Array.isArray(c.hidden) ? `, hidden [${c.hidden.join(', ')}]` : ''}) needs at least ${formatBytes(bytes)} of weights, but the file holds ${formatBytes(dataBytes)}`, file);
    }
  });
  // The weights themselves, decoded, and their float32 copies in the layers.
  checkMemory(`the flow file's ${formatBytes(dataBytes)} of weights`, 3 * dataBytes);
}

/** Loads a flow from a file path or an already parsed JSON object. */
export function loadFlow(source: string | SavedFlow): Flow {
  if (typeof source !== 'string') return flowFromJSON(source);
  let text: string;
  try {
    text = fs.readFileSync(source, 'utf8');
  } catch (e) {
    throw new ParseError(`cannot read flow file: ${(e as Error).message}`, undefined, source);
  }
  return flowFromJSON(text, source);
}

/** The metadata (target, training) of a saved flow without building it. */
export function readFlowMeta(file: string): Pick<SavedFlow, 'dim' | 'target' | 'training'> {
  const d = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedFlow;
  return { dim: d.dim, target: d.target, training: d.training };
}
