/**
 * Save and load a flow: one JSON document
 *   { format: 'flowsampler-flow', version: 1, dim, architecture: [{type, config}...],
 *     weights: [{shape, dtype: 'float32', data: base64}...], target?, training? }
 * with the weights in the order of `flow.trainableVariables()`. This module is the JSON part and
 * runs anywhere (base64 without Node's Buffer); saving to and loading from files is in
 * flowFile.ts (Node only). Anything that does not
 * match — wrong format or version, unknown bijector type, weight count or shape mismatch,
 * malformed base64 — is a ParseError that says what did not match.
 *
 * Other bijector families register themselves with `registerBijector(type, factory)`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from './bijector.js';
import { Flow } from './flow.js';
import { AffineDiagonal } from './affine.js';
import { FastIafAffine } from './fastIaf.js';
import { Permute } from './permute.js';
import { FlowsamplerError, ParseError } from '../core/errors.js';
import { base64ToBytes, bytesToBase64 } from '../core/base64.js';

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
    return { shape: [...v.shape], dtype: 'float32' as const, data: bytesToBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
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
        fail(`weight ${i}: shape [${w?.shape?.join(', ')}] does not match the architecture's [${v.shape.join(', ')}]`, file);
      }
      if (w.dtype !== 'float32' || typeof w.data !== 'string') fail(`weight ${i}: expected float32 base64 data`, file);
      const buf = base64ToBytes(w.data);
      if (!buf) fail(`weight ${i}: data is not valid base64`, file);
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
