/**
 * GradientShards on Node worker threads (the second core): each worker holds a replica of the
 * flow and its own copy of the target (rebuilt from a TargetSource, src/study/targetSource.ts),
 * and computes the gradient of its rows of every batch. Steps are synchronised through shared
 * memory (Atomics.wait/notify), not messages: the parameters go out and the gradients come back
 * in SharedArrayBuffers, so a step costs two copies of the parameters and no serialisation.
 *
 * Node only (worker_threads). Start-up (a thread, tfjs and its wasm module, the target) takes
 * about a second, so it pays for long trainings only; the caller decides.
 */
import { Worker } from 'node:worker_threads';
import type { Flow } from '../../flow.js';
import type { Param, ParamStore } from '../../params.js';
import { flowToJSON } from '../../serialize.js';
import { FlowsamplerError } from '../../../core/errors.js';
import { workerEntry } from '../../../core/workerReply.js';
import type { TargetSource } from '../../../study/targetSource.js';
import { shardRows, type GradientShards, type ShardResult } from '../shards.js';
import { CTRL, ctrlLength, doneSlot, failedSlot, type ShardInit } from './protocol.js';

export interface WorkerShardsOptions {
  flow: Flow;
  source: TargetSource;
  /** Folder relative paths in the source are taken from. */
  baseDir: string;
  /** Rows per batch (fixed for the run). */
  batchSize: number;
  /** Worker threads besides this one (the shards are workers + 1). */
  workers: number;
  /** How long a step may take before the workers are declared lost (default 10 min). */
  stepTimeoutMs?: number;
}

export class WorkerShards implements GradientShards {
  readonly shards: number;
  private readonly workers: Worker[];
  private readonly ctrl: Int32Array;
  private readonly beta: Float64Array;
  private readonly params: Float32Array;
  private readonly noise: Float64Array;
  private readonly grads: Float64Array[];
  private readonly stats: Float64Array;
  private readonly errors: Uint8Array[];
  private readonly trainable: Param[];
  private readonly offsets: number[];
  private readonly dim: number;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private generation = 0;
  private running = false;
  private closed = false;

  private constructor(opts: WorkerShardsOptions, workers: Worker[], bufs: ReturnType<typeof allocate>) {
    this.shards = opts.workers + 1;
    this.workers = workers;
    this.ctrl = new Int32Array(bufs.ctrl);
    this.beta = new Float64Array(bufs.beta);
    this.params = new Float32Array(bufs.params);
    this.noise = new Float64Array(bufs.noise);
    this.grads = bufs.grads.map((g) => new Float64Array(g));
    this.stats = new Float64Array(bufs.stats);
    this.errors = bufs.errors.map((e) => new Uint8Array(e));
    this.trainable = opts.flow.trainableParams();
    this.offsets = offsetsOf(this.trainable);
    this.dim = opts.flow.dim;
    this.batchSize = opts.batchSize;
    this.timeoutMs = opts.stepTimeoutMs ?? 600_000;
  }

  /** Starts the workers and waits until each has built its flow and target. */
  static async create(opts: WorkerShardsOptions): Promise<WorkerShards> {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new FlowsamplerError(`parallel training needs at least 1 worker, got ${opts.workers}`);
    const trainable = opts.flow.trainableParams();
    const total = trainable.reduce((s, p) => s + p.size, 0);
    const bufs = allocate(opts.workers, total, opts.batchSize * opts.flow.dim);
    const rows = shardRows(opts.batchSize, opts.workers + 1);
    const workers: Worker[] = [];
    try {
      const ready: Promise<void>[] = [];
      for (let w = 0; w < opts.workers; w++) {
        const init: ShardInit = {
          index: w,
          flow: flowToJSON(opts.flow),
          source: opts.source,
          baseDir: opts.baseDir,
          dim: opts.flow.dim,
          batchSize: opts.batchSize,
          rowBegin: rows[w + 1],
          rowEnd: rows[w + 2],
          ctrl: bufs.ctrl,
          beta: bufs.beta,
          params: bufs.params,
          noise: bufs.noise,
          grads: bufs.grads[w],
          stats: bufs.stats,
          error: bufs.errors[w],
        };
        const worker = new Worker(workerEntry(import.meta.url, './devShardWorker.mjs', './shardWorker.js'), { workerData: init });
        worker.unref();
        workers.push(worker);
        ready.push(
          new Promise<void>((resolve, reject) => {
            worker.once('message', (m: { ready?: true; error?: string }) => (m.ready ? resolve() : reject(new FlowsamplerError(`parallel training: worker ${w}: ${m.error}`))));
            worker.once('error', (e) => reject(e));
            worker.once('exit', (code) => reject(new FlowsamplerError(`parallel training: worker ${w} exited (code ${code}) before it was ready`)));
          }),
        );
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw e;
    }
    return new WorkerShards(opts, workers, bufs);
  }

  rows(n: number): number[] {
    return shardRows(n, this.shards);
  }

  start(store: ParamStore, eps: Float64Array, n: number, beta: number): void {
    if (this.closed) throw new Error('parallel training: used after dispose');
    if (n !== this.batchSize) throw new FlowsamplerError(`parallel training was set up for batches of ${this.batchSize}, got ${n}`);
    if (this.running) throw new Error('parallel training: start() twice without wait()');
    this.trainable.forEach((p, i) => this.params.set(store.data(p), this.offsets[i]));
    this.noise.set(eps.subarray(0, n * this.dim));
    this.beta[0] = beta;
    this.generation++;
    Atomics.store(this.ctrl, CTRL.generation, this.generation);
    Atomics.notify(this.ctrl, CTRL.generation);
    this.running = true;
  }

  wait(): ShardResult[] {
    if (!this.running) throw new Error('parallel training: wait() without start()');
    this.running = false;
    const out: ShardResult[] = [];
    for (let w = 0; w < this.workers.length; w++) {
      const slot = doneSlot(w);
      const t0 = Date.now();
      for (;;) {
        const seen = Atomics.load(this.ctrl, slot);
        if (seen === this.generation) break;
        if (Date.now() - t0 > this.timeoutMs) throw new FlowsamplerError(`parallel training: worker ${w} did not finish a step in ${this.timeoutMs / 1000} s`);
        Atomics.wait(this.ctrl, slot, seen, 1000);
      }
      if (Atomics.load(this.ctrl, failedSlot(w)) !== 0) {
        const bytes = this.errors[w];
        const end = bytes.indexOf(0);
        throw new FlowsamplerError(new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end)));
      }
      const grads = new Map<Param, Float64Array>();
      const g = this.grads[w];
      this.trainable.forEach((p, i) => grads.set(p, g.slice(this.offsets[i], this.offsets[i] + p.size)));
      out.push({ sumObjective: this.stats[2 * w], sumElbo: this.stats[2 * w + 1], grads });
    }
    return out;
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, CTRL.stop, 1);
    this.generation++;
    Atomics.store(this.ctrl, CTRL.generation, this.generation);
    Atomics.notify(this.ctrl, CTRL.generation);
    for (const w of this.workers) void w.terminate();
  }
}

function offsetsOf(params: Param[]): number[] {
  const out: number[] = [];
  let o = 0;
  for (const p of params) {
    out.push(o);
    o += p.size;
  }
  return out;
}

function allocate(workers: number, paramCount: number, noiseCount: number) {
  return {
    ctrl: new SharedArrayBuffer(4 * ctrlLength(workers)),
    beta: new SharedArrayBuffer(8),
    params: new SharedArrayBuffer(4 * Math.max(1, paramCount)),
    noise: new SharedArrayBuffer(8 * Math.max(1, noiseCount)),
    grads: Array.from({ length: workers }, () => new SharedArrayBuffer(8 * Math.max(1, paramCount))),
    stats: new SharedArrayBuffer(8 * 2 * workers),
    errors: Array.from({ length: workers }, () => new SharedArrayBuffer(4096)),
  };
}
