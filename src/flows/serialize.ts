/**
 * A flow as one JSON document
 *   { format: 'flowsampler-flow', version: 1, dim, architecture: [{type, config}...],
 *     weights: [{shape, dtype: 'float32', data: base64}...], target?, training? }
 * with the weights in the order of `flow.trainableParams()`. Anything that does not match —
 * wrong format or version, unknown bijector type, weight count or shape mismatch, malformed
 * base64, non-finite weights — is a ParseError that says what did not match. Files live in
 * src/io/flowFile.ts (Node only); this module runs anywhere.
 */
import type { Bijector } from './bijectors/bijector.js';
import { Flow } from './flow.js';
import { bijectorFactory, bijectorTypes } from './registry.js';
import { FlowsamplerError, ParseError } from '../core/errors.js';
import { base64ToBytes, bytesToBase64 } from '../core/base64.js';
import { checkMemory, formatBytes, FLOAT32_BYTES } from '../core/memory.js';

export const FLOW_FORMAT = 'flowsampler-flow';
export const FLOW_FORMAT_VERSION = 1;

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

export interface FlowMeta {
  target?: Record<string, unknown>;
  training?: Record<string, unknown>;
}

/** Base64 of the bytes of a float32 array (no Buffer: runs in browsers too). */
export function float32ToBase64(a: Float32Array): string {
  return bytesToBase64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** The float32 values of base64 data, or null when it is not valid base64 of `size` floats. */
export function base64ToFloat32(data: string, size: number): Float32Array | null {
  const bytes = base64ToBytes(data);
  if (!bytes || bytes.length !== 4 * size) return null;
  return new Float32Array(bytes.buffer, bytes.byteOffset, size).slice();
}

export function flowToJSON(flow: Flow, meta: FlowMeta = {}): SavedFlow {
  return {
    format: FLOW_FORMAT,
    version: FLOW_FORMAT_VERSION,
    dim: flow.dim,
    architecture: flow.bijectors.map((b) => ({ type: b.type, config: b.getConfig() })),
    weights: flow.trainableParams().map((p) => ({ shape: [p.rows, p.cols], dtype: 'float32' as const, data: float32ToBase64(p.values()) })),
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
  checkDeclaredSizes(d.architecture, d.weights, file);
  const bijectors: Bijector[] = d.architecture.map((layer, i) => {
    const factory = layer && typeof layer.type === 'string' ? bijectorFactory(layer.type) : undefined;
    if (!factory) fail(`layer ${i}: unknown bijector type ${JSON.stringify(layer?.type)} (known: ${bijectorTypes().join(', ')})`, file);
    try {
      return factory(layer.config ?? {});
    } catch (e) {
      if (e instanceof ParseError) throw e;
      fail(`layer ${i} (${layer.type}): bad config: ${(e as Error).message}`, file);
    }
  });
  let flow: Flow;
  try {
    flow = new Flow(bijectors);
  } catch (e) {
    if (e instanceof FlowsamplerError) fail(`architecture does not fit together: ${e.message}`, file);
    throw e;
  }
  try {
    if (d.dim !== undefined && d.dim !== flow.dim) fail(`flow file says dim ${d.dim} but its layers have dim ${flow.dim}`, file);
    const params = flow.trainableParams();
    if (params.length !== d.weights.length) fail(`architecture has ${params.length} weight tensors, file has ${d.weights.length}`, file);
    params.forEach((p, i) => {
      const w = d.weights![i];
      const shape = Array.isArray(w?.shape) ? w.shape.join('x') : null;
      // (Vectors were saved as [n] before the engine redesign, as [1, n] since.)
      const fits = shape !== null && (shape === `${p.rows}x${p.cols}` || (p.rows === 1 && shape === `${p.cols}`));
      if (!fits) {
        const got = Array.isArray(w?.shape) ? `[${w.shape.join(', ')}]` : JSON.stringify(w?.shape ?? null).slice(0, 40);
        fail(`weight ${i} (${p.name}): shape ${got} does not match the architecture's [${p.rows}, ${p.cols}]`, file);
      }
      if (w.dtype !== 'float32' || typeof w.data !== 'string') fail(`weight ${i}: expected float32 base64 data`, file);
      const arr = base64ToFloat32(w.data, p.size);
      if (!arr) fail(`weight ${i}: the data is not base64 of ${p.size} float32 values`, file);
      for (let k = 0; k < arr.length; k++) if (!Number.isFinite(arr[k])) fail(`weight ${i} contains a non-finite value`, file);
      // Pre-masked weights: a file written by an unmasked layer loads as the same function.
      if (p.gradMask) {
        const m = p.gradMask.init;
        for (let k = 0; k < arr.length; k++) if (m[k] === 0) arr[k] = 0;
      }
      flow.store.set(p, arr);
    });
    return flow;
  } catch (e) {
    flow.dispose();
    throw e;
  }
}

/**
 * Before any layer allocates: the weights an architecture implies must be there in the file. A
 * conditioner with hidden widths h_1..h_L has at least h_1 + Σ h_i·h_{i+1} + h_L weights (one
 * input and one output at the least); a config claiming more than the file's data (e.g.
 * `hidden: [1e8]`, 800 MB of weights) is a ParseError saying how much it would need, instead of
 * an allocation that grows until the process dies.
 */
function checkDeclaredSizes(architecture: SavedFlow['architecture'], weights: unknown[], file?: string): void {
  let dataBytes = 0;
  for (const w of weights) {
    const data = (w as Partial<SavedWeight> | null)?.data;
    if (typeof data === 'string') dataBytes += Math.floor((data.length * 3) / 4);
  }
  const check = (layer: SavedFlow['architecture'][number], i: number | string) => {
    const c = (layer?.config ?? {}) as { dim?: unknown; hidden?: unknown; levels?: unknown };
    // A multi-scale layer's levels are layers too.
    if (layer?.type === 'multi-scale' && Array.isArray(c.levels)) {
      c.levels.forEach((level: unknown, l) => {
        if (Array.isArray(level)) level.forEach((inner: unknown, k) => {
          const { type, ...config } = (inner ?? {}) as { type?: string };
          check({ type: String(type), config } as SavedFlow['architecture'][number], `${i}.${l}.${k}`);
        });
      });
      return;
    }
    if (typeof c.dim !== 'number' || !Number.isInteger(c.dim) || c.dim < 1) return;
    let floats = 0;
    if (Array.isArray(c.hidden)) {
      const widths = [1, ...c.hidden, 1];
      if (!widths.every((h) => typeof h === 'number' && Number.isInteger(h) && h > 0)) {
        fail(`layer ${i} (${String(layer.type)}): bad config: hidden widths must be positive integers, got ${JSON.stringify(c.hidden).slice(0, 60)}`, file);
      }
      for (let k = 0; k + 1 < widths.length; k++) floats += (widths[k] as number) * (widths[k + 1] as number);
    } else if (layer?.type === 'affine-diagonal' || layer?.type === 'actnorm') floats = 2 * c.dim;
    else if (layer?.type === 'lu-linear') floats = c.dim * c.dim;
    const bytes = floats * FLOAT32_BYTES;
    if (bytes > dataBytes) {
      fail(`layer ${i} (${String(layer.type)}): its config (dim ${c.dim}${Array.isArray(c.hidden) ? `, hidden [${c.hidden.join(', ')}]` : ''}) needs at least ${formatBytes(bytes)} of weights, but the file holds ${formatBytes(dataBytes)}`, file);
    }
  };
  architecture.forEach((layer, i) => check(layer, i));
  // The weights themselves, decoded, and their float32 copies in the store.
  checkMemory(`the flow file's ${formatBytes(dataBytes)} of weights`, 3 * dataBytes);
}
