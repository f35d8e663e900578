/**
 * `--workers N`, shared by compare, demo, study and worker: how many worker threads run chains,
 * samplers, flows and study cells. Default: every core. With 1, everything runs on the main
 * thread (no pool), exactly as before pools existed; any N gives the same numbers.
 */
import { intOption } from './command.js';
import { defaultWorkers, WorkerPool } from '../study/pool.js';

export const workersHelp = `  --workers N        worker threads for chains, samplers and flows (default: all ${defaultWorkers()} cores;
                     1 runs everything on the main thread; the numbers are the same for any N)`;

export function workersOption(raw: string | undefined): number {
  return intOption('workers', raw, defaultWorkers(), 1);
}

/** Runs `fn` with a pool of `workers` threads (none for 1), closing the pool afterwards. */
export async function withWorkers<R>(workers: number, fn: (pool: WorkerPool | undefined) => Promise<R>): Promise<R> {
  if (workers <= 1) return fn(undefined);
  const pool = new WorkerPool(workers);
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}
