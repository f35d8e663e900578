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
import type { Engine, Program } from '../engine/engine.js';
import type { Flow } from '../flow.js';
import type { Target } from '../../targets/target.js';
import { targetValueAndGrad } from '../../targets/batch.js';
import { objectiveGradient } from './objective.js';

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

/**
 * One shard's result: the ELBO objective's gradient on its `m` rows of noise `eps` (m x dim), as
 * its part of the mean over the whole batch of `n` rows. Computed the same way on the trainer's
 * thread (shard 0) and in every worker.
 */
export function shardGradient(engine: Engine, flow: Flow, program: Program, target: Target, eps: Float64Array, m: number, n: number, beta: number): ShardResult {
  const D = flow.dim;
  let sumObjective = NaN;
  let sumElbo = NaN;
  const r = engine.differentiate(flow.store, program, [{ values: eps, rows: m, cols: D }], ([x, logq]) => {
    const { logp, grad } = targetValueAndGrad(target, x, m, D);
    const obj = objectiveGradient(logp, grad, logq, D, beta, 1);
    sumObjective = -obj.loss * m;
    sumElbo = obj.elbo * m;
    const c = m / n;
    for (let i = 0; i < obj.dX.length; i++) obj.dX[i] *= c;
    for (let i = 0; i < obj.dLogq.length; i++) obj.dLogq[i] *= c;
    return [obj.dX, obj.dLogq];
  });
  return { sumObjective, sumElbo, grads: r.paramGrads };
}
