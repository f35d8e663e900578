/**
 * The shared-memory protocol between WorkerShards (this thread) and its shard workers: slots of
 * the control array, and what a worker gets at start. The main thread bumps `generation` for
 * every step (and sets `stop` to end); worker w copies the parameters, computes its rows,
 * writes its gradient and sums, then stores the generation into its done slot (and a non-zero
 * failed flag with a message when the step threw).
 */
import type { SavedFlow } from '../../serialize.js';
import type { TargetSource } from '../../../study/targetSource.js';

export const CTRL = { generation: 0, stop: 1 } as const;

export function doneSlot(w: number): number {
  return 2 + 2 * w;
}

export function failedSlot(w: number): number {
  return 3 + 2 * w;
}

/** Control slots for `workers` workers. */
export function ctrlLength(workers: number): number {
  return 2 + 2 * workers;
}

export interface ShardInit {
  index: number;
  flow: SavedFlow;
  source: TargetSource;
  baseDir: string;
  dim: number;
  batchSize: number;
  rowBegin: number;
  rowEnd: number;
  ctrl: SharedArrayBuffer;
  beta: SharedArrayBuffer;
  params: SharedArrayBuffer;
  noise: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  error: SharedArrayBuffer;
}
