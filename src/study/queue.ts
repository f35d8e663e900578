/**
 * Studies on many machines: BullMQ on a real Redis server. `study --queue` enqueues the jobs
 * (job id = the job's hash, so enqueueing twice is a no-op) and collects their results;
 * `flowsampler worker --queue` on any number of machines runs them on its local worker pool.
 *
 * Where results land: in Redis, as each job's return value, and from there in the study
 * folder of the machine that ran `study`, written by that one process. Workers need nothing
 * but the Redis URL (no shared file system, whose rename is not atomic everywhere), and a
 * result is stored once: BullMQ completes a job only under the lock of the worker holding it,
 * so a worker that lost its lock (killed, frozen) cannot complete it a second time.
 *
 * A killed worker loses nothing: its job's lock runs out after `lockMs`, another worker's
 * stalled-job check puts the job back in the queue, and it runs again from the start (a job
 * that kills its worker every time fails after MAX_STALLS tries and is reported).
 */
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { FlowsamplerError } from '../core/errors.js';
import { flowsamplerVersion } from '../cli/runInfo.js';
import type { JobDef } from './cells.js';
import type { CellResult } from './cellRun.js';
import type { CellJobTask } from './cellRun.js';
import { WorkerPool } from './pool.js';

export interface QueueConfig {
  url: string;
  name: string;
}

/** What a queued job carries: the cells (portable target sources) and who made it. */
export interface QueueJobData {
  cells: CellJobTask['cells'];
  baseDir: string;
  flowsampler: string;
}

const MAX_STALLS = 5;

/** Waits `ms`, or less if `signal` fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
const ATTEMPTS = 3;

function connection(url: string) {
  return { url, maxRetriesPerRequest: null, lazyConnect: false };
}

/** Waits for Redis, or fails with one line saying where it looked. */
async function ready(x: { waitUntilReady(): Promise<unknown> }, url: string, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FlowsamplerError(`cannot reach Redis at ${url} within ${timeoutMs / 1000} s (is redis-server running there?)`)), timeoutMs);
  });
  try {
    await Promise.race([x.waitUntilReady(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Enqueues `jobs` and hands each finished job's results to `onResults` (once per job), until
 * every job is done or failed, or `signal` fires (the jobs then stay queued for the workers; the
 * next `study --queue` collects them).
 */
export async function runJobsOnQueue(
  q: QueueConfig,
  jobs: JobDef[],
  baseDir: string,
  onResults: (job: JobDef, results: CellResult[]) => Promise<void>,
  onFailure: (job: JobDef, message: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const queue = new Queue<QueueJobData, CellResult[]>(q.name, { connection: connection(q.url) });
  queue.on('error', () => undefined); // connection errors surface through ready() and the calls below
  const events = new QueueEvents(q.name, { connection: connection(q.url) });
  events.on('error', () => undefined);
  try {
    await ready(queue, q.url);
    await ready(events, q.url);
    const byId = new Map(jobs.map((j) => [j.id, j]));
    // A job that failed in an earlier run is retried; one that completed meanwhile is collected.
    for (const j of jobs) {
      const old = await queue.getJob(j.id);
      if (old && (await old.isFailed())) await old.remove();
    }
    await queue.addBulk(
      jobs.map((j) => ({
        name: 'cells',
        data: { cells: j.cells, baseDir, flowsampler: flowsamplerVersion() },
        opts: { jobId: j.id, attempts: ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    const pending = new Set(byId.keys());
    const busy = new Map<string, Promise<void>>();
    const settle = (id: string): Promise<void> => {
      if (!pending.has(id)) return Promise.resolve();
      const running = busy.get(id);
      if (running) return running;
      const p = (async () => {
        const job: Job<QueueJobData, CellResult[]> | undefined = await queue.getJob(id);
        if (!job) return;
        const state = await job.getState();
        if (state === 'completed') {
          pending.delete(id);
          await onResults(byId.get(id)!, job.returnvalue ?? []);
          await job.remove().catch(() => undefined); // the result now lives in the study folder
        } else if (state === 'failed') {
          pending.delete(id);
          onFailure(byId.get(id)!, job.failedReason ?? 'failed');
        }
      })().finally(() => busy.delete(id));
      busy.set(id, p);
      return p;
    };
    events.on('completed', ({ jobId }) => void settle(jobId).catch(() => undefined));
    events.on('failed', ({ jobId }) => void settle(jobId).catch(() => undefined));
    // Events can be missed (a reconnect, jobs finished before we listened): sweep now and then.
    while (pending.size > 0 && !signal.aborted) {
      for (const id of [...pending]) {
        if (signal.aborted) break;
        await settle(id);
      }
      if (pending.size === 0) break;
      await sleep(1000, signal);
    }
    await Promise.all(busy.values());
  } finally {
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
  }
}

export interface WorkerOptions {
  workers: number;
  /** How long a job's lock lasts without renewal: the time a killed worker's job waits. */
  lockMs: number;
  /** Stop when the queue has nothing waiting or running. */
  untilEmpty: boolean;
  signal: AbortSignal;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Runs queued jobs on a local pool of `workers` threads until `signal` fires (or the queue empties). */
export async function runQueueWorker(q: QueueConfig, opts: WorkerOptions): Promise<{ completed: number; failed: number }> {
  const pool = new WorkerPool(opts.workers);
  const queue = new Queue(q.name, { connection: connection(q.url) });
  queue.on('error', () => undefined);
  let completed = 0;
  let failed = 0;
  let worker: Worker<QueueJobData, CellResult[]> | undefined;
  try {
    await ready(queue, q.url);
    const version = flowsamplerVersion();
    worker = new Worker<QueueJobData, CellResult[]>(
      q.name,
      async (job) => {
        opts.out(`running ${job.data.cells.map((c) => c.id).join(', ')}`);
        if (job.data.flowsampler !== version) opts.err(`job ${job.id}: made by flowsampler ${job.data.flowsampler}, run by ${version}`);
        // The cells run on a pool thread, so this thread keeps renewing the job's lock.
        return pool.run<CellResult[]>({ kind: 'cells', cells: job.data.cells, baseDir: job.data.baseDir });
      },
      { connection: connection(q.url), concurrency: opts.workers, lockDuration: opts.lockMs, stalledInterval: Math.max(500, Math.floor(opts.lockMs / 2)), maxStalledCount: MAX_STALLS, autorun: true },
    );
    worker.on('error', (e) => opts.err(`worker: ${e.message}`));
    worker.on('completed', (job) => {
      completed++;
      opts.out(`done ${job.data.cells.map((c) => c.id).join(', ')}`);
    });
    worker.on('failed', (job, e) => {
      failed++;
      opts.err(`failed ${job?.data.cells.map((c) => c.id).join(', ') ?? '?'}: ${e.message.split('\n')[0]}`);
    });
    await ready(worker, q.url);
    opts.out(`worker: ${opts.workers} thread(s) on the queue '${q.name}' at ${q.url}${opts.untilEmpty ? ' (until it is empty)' : ' (Ctrl-C to stop)'}`);
    while (!opts.signal.aborted) {
      await sleep(500, opts.signal);
      if (opts.untilEmpty) {
        const c = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
        if (Object.values(c).every((n) => n === 0)) break;
      }
    }
    // Ctrl-C: stop taking jobs; running ones are cut off and go back to the queue when their lock runs out.
    await worker.close(opts.signal.aborted);
  } finally {
    await worker?.close(true).catch(() => undefined);
    await queue.close().catch(() => undefined);
    await pool.close();
  }
  return { completed, failed };
}
