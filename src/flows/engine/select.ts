/** Which engine runs a flow's programs: the heap engine where its kernels are reachable, else tfjs. */
import * as tf from '@tensorflow/tfjs';
import { ParameterError } from '../../core/errors.js';
import type { Engine, EngineChoice } from './engine.js';
import { HeapKernels } from './heap/kernels.js';
import { HeapEngine } from './heap/heapEngine.js';
import { TfjsEngine } from './tfjs/tfjsEngine.js';

let heapEngine: HeapEngine | null = null;
const tfjsEngine = new TfjsEngine();

/** The heap engine when the backend allows it (or when asked for and available), else tfjs. */
export function selectEngine(choice: EngineChoice = 'auto'): Engine {
  if (choice === 'tfjs') return tfjsEngine;
  const k = HeapKernels.get();
  if (!k) {
    if (choice === 'heap') throw new ParameterError(`the heap engine needs the tfjs wasm backend 4.22 (active backend: ${tf.getBackend()})`);
    return tfjsEngine;
  }
  if (!heapEngine || heapEngine.kernels !== k) heapEngine = new HeapEngine(k);
  return heapEngine;
}
