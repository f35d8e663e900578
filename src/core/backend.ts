/**
 * tfjs backend set-up, the same way in Node and in browsers: the WebAssembly backend by default
 * (@tensorflow/tfjs-backend-wasm ships its .wasm files in the npm package and is ~5x the
 * pure-JS `cpu` backend), others only on request:
 * - `cpu` anywhere;
 * - `webgl` in a browser with WebGL (the backend is part of @tensorflow/tfjs);
 * - `webgpu` in a browser with WebGPU once the app has imported @tensorflow/tfjs-backend-webgpu
 *   (not a dependency of ours);
 * - `tensorflow` (tfjs-node) in Node, only if the user installed it themselves — never a
 *   dependency, because its install downloads a binary.
 * In Node, `FLOWSAMPLER_BACKEND` in the environment picks the default; a browser has no
 * environment, so there only the argument does.
 *
 * In a browser the wasm backend runs the same binary as in Node (SIMD, one thread): the
 * multi-threaded build would need a cross-origin-isolated page, and the flows' direct kernel
 * calls (src/flows/wasmKernels.ts) were tested against the single-threaded one. The .wasm files
 * are fetched from beside the script that runs tfjs (a bundle or a worker) unless `wasmPaths`
 * says where they are; docs/browser.md shows how a bundler serves them.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ParameterError } from './errors.js';
import { envVar, isNode } from './platform.js';

export type BackendName = 'wasm' | 'cpu' | 'webgl' | 'webgpu' | 'tensorflow';

const NAMES: readonly BackendName[] = ['wasm', 'cpu', 'webgl', 'webgpu', 'tensorflow'];

export interface BackendOptions {
  /**
   * Browsers, wasm backend: where the .wasm binaries are. A folder URL ending in '/', or a map
   * from each of tfjs-backend-wasm.wasm, tfjs-backend-wasm-simd.wasm and
   * tfjs-backend-wasm-threaded-simd.wasm to its URL (what a bundler's asset import gives).
   * Default: the folder of the script that runs tfjs.
   */
  wasmPaths?: string | Record<string, string>;
}

export interface BackendInfo {
  name: string;
  reason: string;
}

let current: BackendInfo | null = null;
let wasmConfigured = false;

async function checkAvailable(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    if (!isNode) throw new ParameterError("backend 'tensorflow' (tfjs-node) exists only in Node; in a browser use wasm, webgl or webgpu");
    try {
      // Optional: only present when the user installed @tensorflow/tfjs-node themselves.
      const mod = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ mod);
    } catch {
      throw new ParameterError(
        "backend 'tensorflow' needs @tensorflow/tfjs-node, which is not installed (flowsampler never installs it: its install downloads a binary). Use --backend wasm or cpu.",
      );
    }
  } else if (name === 'webgl') {
    const g = globalThis as { document?: unknown; OffscreenCanvas?: unknown };
    if (isNode || (g.document === undefined && g.OffscreenCanvas === undefined)) {
      throw new ParameterError("backend 'webgl' needs a browser with WebGL; use wasm (the default) or cpu");
    }
  } else if (name === 'webgpu') {
    if (!tf.findBackendFactory('webgpu')) {
      throw new ParameterError("backend 'webgpu' needs @tensorflow/tfjs-backend-webgpu: import it before initBackend('webgpu') (flowsampler does not depend on it)");
    }
    if (!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
      throw new ParameterError("backend 'webgpu' needs a browser with WebGPU (navigator.gpu is missing); use wasm (the default) or webgl");
    }
  }
}

function configureWasm(options: BackendOptions): void {
  if (isNode || wasmConfigured) return;
  // The SIMD single-threaded binary, as in Node (see the header comment).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (options.wasmPaths !== undefined) setWasmPaths(options.wasmPaths);
  wasmConfigured = true;
}

/**
 * Selects and initialises a tfjs backend once (idempotent for the same name). Without an
 * argument: `FLOWSAMPLER_BACKEND` in Node's environment, else wasm.
 */
export async function initBackend(requested?: BackendName, options: BackendOptions = {}): Promise<BackendInfo> {
  const env = envVar('FLOWSAMPLER_BACKEND') as BackendName | undefined;
  const name: BackendName = requested ?? env ?? 'wasm';
  if (!NAMES.includes(name)) {
    throw new ParameterError(`unknown backend '${String(name)}': use ${isNode ? 'wasm, cpu or tensorflow' : 'wasm, cpu, webgl or webgpu'}`);
  }
  if (current && current.name === name) return current;
  await checkAvailable(name);
  if (name === 'wasm') configureWasm(options);
  const reason = requested
    ? 'requested'
    : env
      ? 'FLOWSAMPLER_BACKEND'
      : `default${isNode ? ' in Node' : ' in the browser'} (WebAssembly, ships with the package)`;
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    ok = false;
    if (name === 'wasm') throw wasmLoadError(e);
  }
  if (!ok) {
    throw name === 'wasm' ? wasmLoadError(undefined) : new ParameterError(`tfjs backend '${name}' failed to initialise in this ${isNode ? 'Node process' : 'browser'}`);
  }
  await tf.ready();
  current = { name: tf.getBackend(), reason };
  return current;
}

function wasmLoadError(cause: unknown): ParameterError {
  const detail = cause && typeof cause === 'object' && 'message' in cause ? `: ${String((cause as { message: unknown }).message)}` : '';
  return new ParameterError(
    `the WebAssembly backend did not load${detail}. ` +
      (isNode
        ? 'Reinstall @tensorflow/tfjs-backend-wasm.'
        : "Serve the .wasm files of @tensorflow/tfjs-backend-wasm/dist beside the script, or pass initBackend('wasm', { wasmPaths }) (docs/browser.md)."),
  );
}

export function backendInfo(): BackendInfo | null {
  return current;
}
