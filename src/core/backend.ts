/**
 * tfjs backend set-up. In Node the default is the WebAssembly backend
 * (@tensorflow/tfjs-backend-wasm ships its .wasm in the package and is ~5x the pure-JS `cpu`
 * backend here). `cpu` on request; `tensorflow` (tfjs-node) only if the user installed it
 * themselves — it is never a dependency, because its install downloads a binary.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ParameterError } from './errors.js';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow';

export interface BackendInfo {
  name: string;
  reason: string;
}

let current: BackendInfo | null = null;

/**
 * Selects and initialises a tfjs backend once per process (idempotent for the same name).
 * `FLOWSAMPLER_BACKEND` in the environment overrides the default.
 */
export async function initBackend(requested?: BackendName): Promise<BackendInfo> {
  const env = process.env.FLOWSAMPLER_BACKEND as BackendName | undefined;
  const name: BackendName = requested ?? env ?? 'wasm';
  if (current && current.name === name) return current;
  let reason: string;
  if (name === 'tensorflow') {
    try {
      // Optional: only present when the user installed @tensorflow/tfjs-node themselves.
      const mod = '@tensorflow/tfjs-node';
      await import(mod);
    } catch {
      throw new ParameterError(
        "backend 'tensorflow' needs @tensorflow/tfjs-node, which is not installed (flowsampler never installs it: its install downloads a binary). Use --backend wasm or cpu.",
      );
    }
    reason = 'requested; @tensorflow/tfjs-node is installed';
  } else if (name === 'wasm') {
    reason = requested ? 'requested' : env ? 'FLOWSAMPLER_BACKEND' : 'default in Node (WebAssembly, ships with the package)';
  } else if (name === 'cpu') {
    reason = requested ? 'requested' : 'FLOWSAMPLER_BACKEND';
  } else {
    throw new ParameterError(`unknown backend '${String(name)}': use wasm, cpu or tensorflow`);
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new ParameterError(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
  current = { name: tf.getBackend(), reason };
  return current;
}

export function backendInfo(): BackendInfo | null {
  return current;
}
