/**
 * Density candidates fitted side by side, one worker thread each (piscina, as the study pool in
 * src/study/pool.ts). The wasm backend runs one thread per fit, so on a machine with a core per
 * candidate the selection takes the time of one fit. Node only (worker_threads).
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { FlowsamplerError } from '../../../core/errors.js';
import { unwrapReply, workerEntry } from '../../../core/workerReply.js';
import type { DensityFlowOptions } from '../../densityFlow.js';
import { flowFromJSON } from '../../serialize.js';
import type { Flow } from '../../flow.js';
import type { FitProgress, FitResult } from '../maximumLikelihood.js';
import type { CandidateFitOptions, CandidateReply, CandidateTask } from './candidateWorker.js';

export interface CandidateJob {
  flow: DensityFlowOptions;
  fit: CandidateFitOptions;
  onProgress?: (p: FitProgress) => void;
}

/**
 * Fits every job on `threads` worker threads (at most one per job) and returns the fitted flows
 * in job order. `signal` stops every running fit, which then returns its best parameters so far;
 * jobs not started by then are fitted with the signal already set, so they return at once.
 */
export async function fitCandidatesInThreads(
  dim: number,
  train: Float64Array,
  validation: Float64Array,
  jobs: readonly CandidateJob[],
  opts: { threads: number; signal?: AbortSignal; deadline: number },
): Promise<{ flow: Flow; fit: FitResult; validationLogQ: Float64Array }[]> {
  const threads = Math.min(opts.threads, jobs.length);
  if (!Number.isInteger(threads) || threads < 1) throw new FlowsamplerError(`candidate fits need at least 1 thread, got ${opts.threads}`);
  const pool = new Piscina({ filename: workerEntry(import.meta.url, './devCandidateWorker.mjs', './candidateWorker.js').href, minThreads: 0, maxThreads: threads, idleTimeout: 1000 });
  const ports: MessageChannel[] = [];
  const abortAll = (): void => ports.forEach((c) => c.port1.postMessage({ abort: true }));
  opts.signal?.addEventListener('abort', abortAll);
  try {
    const replies = await Promise.all(
      jobs.map((job) => {
        const channel = new MessageChannel();
        ports.push(channel);
        channel.port1.on('message', (p: FitProgress) => job.onProgress?.(p));
        if (opts.signal?.aborted) channel.port1.postMessage({ abort: true });
        const task: CandidateTask = { dim, train, validation, flow: job.flow, fit: job.fit, deadline: opts.deadline, port: channel.port2 };
        return pool.run(task, { transferList: [channel.port2] }) as Promise<CandidateReply>;
      }),
    );
    // Every reply has arrived, and no flow is built before all have succeeded: a failure leaves nothing to dispose.
    const values = replies.map((r) => unwrapReply(r));
    return values.map((v) => ({ flow: flowFromJSON(v.flow), fit: v.fit, validationLogQ: v.validationLogQ }));
  } finally {
    opts.signal?.removeEventListener('abort', abortAll);
    ports.forEach((c) => c.port1.close());
    await pool.destroy();
  }
}
