/**
 * Data-parallel gradients for reverse-KL training: a batch split into row shards whose
 * gradients other threads compute while this one does its own (src/flows/train/parallel/ has
 * the Node worker-thread implementation; this file is the contract, and runs anywhere).
 *
 * The trainer hands over the whole batch of base noise, so the draws are the same whatever the
 * number of shards; each shard returns its share of the ELBO objective (row weights 1/n of the
 * whole batch) and its parameter gradients, which are added in shard order. The sum of float
 * gradients over shards differs from the one-thread sum only in rounding.
 */
import type { Param, ParamStore } from '../params.js';

export interface ShardResult {
  /** Σ over the shard's rows of (β log p̃ − log q) and of (log p̃ − log q). */
  sumObjective: number;
  sumElbo: number;
  /** dL/d(parameter) of the shard's part of L = −mean(β log p̃ − log q) over the whole batch. */
  grads: Map<Param, Float64Array>;
}

export interface GradientShards {
  /** Number of shards (this thread's included). */
  readonly shards: number;
  /**
   * Starts the other shards on rows [rows[k], rows[k+1]) of `eps` (n x dim) with the current
   * parameters of `store`; `wait()` returns their results (in shard order).
   */
  start(store: ParamStore, eps: Float64Array, n: number, beta: number): void;
  wait(): ShardResult[];
  /** The row ranges: shard k owns rows rows[k] .. rows[k+1]−1; shard 0 is this thread's. */
  rows(n: number): number[];
  dispose(): void;
}

/** Splits n rows into k nearly equal consecutive shards: boundaries, length k + 1. */
export function shardRows(n: number, k: number): number[] {
  const out = [0];
  for (let i = 1; i <= k; i++) out.push(Math.round((i * n) / k));
  return out;
}
