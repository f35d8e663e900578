/**
 * The worker pool: piscina (worker threads) running the tasks of tasks.ts. Why piscina over
 * tinypool (its fork): both queue tasks and cancel them with an AbortSignal; piscina is the one
 * built for servers and long-lived pools (maintained by Node.js core contributors, task
 * cancellation that terminates a busy thread, per-thread resource limits, utilisation stats),
 * while tinypool trims those for vitest's needs and sizes itself by *physical* cores, which
 * would halve a 2-vCPU VM's default. We set the size ourselves either way (`--workers`).
 *
 * Progress crosses threads on a MessagePort per task; a Ctrl-C aborts a task by terminating its
 * thread (the pool starts a fresh one), so a chain in a worker stops at once.
 */
import os from 'node:os';
import { setMaxListeners } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AbortedError, FlowsamplerError } from '../core/errors.js';
import { unwrapReply, workerEntry } from '../core/workerReply.js';
import type { PoolReply, PoolTask } from './poolWorker.js';

export interface TaskProgress {
  done: number;
  total: number;
  phase: 'warmup' | 'sampling' | 'training';
}

/** The default worker count: every core the process may use. */
export function defaultWorkers(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

export class WorkerPool {
  private readonly pool: Piscina;

  constructor(readonly workers: number) {
    if (!Number.isInteger(workers) || workers < 1) throw new FlowsamplerError(`workers must be an integer >= 1, got ${workers}`);
    // Threads start with the first tasks (minThreads 0): a run that sends none pays nothing.
    this.pool = new Piscina({ filename: workerEntry(import.meta.url, './devWorker.mjs', './poolWorker.js').href, minThreads: 0, maxThreads: workers, idleTimeout: 60_000 });
  }

  /** Runs one task on some worker; rejects with AbortedError when `signal` fires. */
  async run<R>(task: PoolTask, opts: { signal?: AbortSignal; onProgress?: (p: TaskProgress) => void } = {}): Promise<R> {
    if (opts.signal?.aborted) throw new AbortedError('stopped by the user');
    // Every queued task listens to the run's one signal; a study queues hundreds.
    if (opts.signal) setMaxListeners(0, opts.signal);
    let channel: MessageChannel | undefined;
    let sent: PoolTask = task;
    if (opts.onProgress && task.kind !== 'noop') {
      channel = new MessageChannel();
      const onProgress = opts.onProgress;
      channel.port1.on('message', (m: TaskProgress) => onProgress(m));
      sent = { ...task, port: channel.port2 };
    }
    try {
      const reply = (await this.pool.run(sent, {
        ...(channel ? { transferList: [channel.port2] } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      })) as PoolReply;
      return unwrapReply(reply) as R;
    } catch (e) {
      if (opts.signal?.aborted || (e instanceof Error && e.name === 'AbortError')) throw new AbortedError('stopped by the user');
      throw e;
    } finally {
      channel?.port1.close();
    }
  }

  /** Starts every worker and loads its modules, so that timed work does not pay for it. */
  async warmUp(): Promise<void> {
    await Promise.all(Array.from({ length: this.workers }, () => this.run({ kind: 'noop', sleepMs: 50 })));
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** Runs `fn` with a pool of `workers` threads and closes the pool afterwards. */
export async function withPool<R>(workers: number, fn: (pool: WorkerPool) => Promise<R>): Promise<R> {
  const pool = new WorkerPool(workers);
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}
