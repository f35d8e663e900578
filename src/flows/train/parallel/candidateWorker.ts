/**
 * A worker thread of the density selection (../densitySelection.ts): fits one candidate flow by
 * maximum likelihood on the rows it is sent and returns the fitted flow as its saved JSON with
 * the fit's result. Progress goes back on the task's port; an `abort` message on the same port
 * stops the fit the way a signal stops it in one thread (the best parameters so far are kept),
 * so an interrupted selection still chooses among what was fitted.
 */
import type { MessagePort } from 'node:worker_threads';
import { initBackend } from '../../../core/backend.js';
import { replyOf, type WorkerReply } from '../../../core/workerReply.js';
import { createDensityFlow, type DensityFlowOptions } from '../../densityFlow.js';
import { flowToJSON, type SavedFlow } from '../../serialize.js';
import { fitMaximumLikelihood, type FitOptions, type FitProgress, type FitResult } from '../maximumLikelihood.js';

/** The fit options that cross threads (plain data: no callbacks, no signal, no data). */
export type CandidateFitOptions = Omit<FitOptions, 'onProgress' | 'signal' | 'validation' | 'validationFraction'>;

export interface CandidateTask {
  dim: number;
  /** Training rows and validation rows, row-major n x dim. */
  train: Float64Array;
  validation: Float64Array;
  flow: DensityFlowOptions;
  fit: CandidateFitOptions;
  /** Date.now() by which the fit must end: its budget is the smaller of `fit.maxSeconds` and the time left (start-up included). */
  deadline: number;
  /** Receives { abort: true }; sends FitProgress. */
  port: MessagePort;
}

/** The fitted flow, its fit, and its log q at every validation row (the selection compares on them; computed here, warm). */
export type CandidateReply = WorkerReply<{ flow: SavedFlow; fit: FitResult; validationLogQ: Float64Array }>;

export default async function fitCandidate(task: CandidateTask): Promise<CandidateReply> {
  const controller = new AbortController();
  task.port.on('message', (m: { abort?: boolean }) => {
    if (m?.abort) controller.abort();
  });
  try {
    return await replyOf(async () => {
      await initBackend('wasm');
      const flow = createDensityFlow(task.dim, task.flow);
      try {
        const left = (task.deadline - Date.now()) / 1000;
        const fit = await fitMaximumLikelihood(flow, task.train, {
          ...task.fit,
          maxSeconds: Math.max(1e-3, Math.min(task.fit.maxSeconds ?? Infinity, left)),
          validation: task.validation,
          signal: controller.signal,
          onProgress: (p: FitProgress) => task.port.postMessage(p),
        });
        return { flow: flowToJSON(flow), fit, validationLogQ: flow.logProbArrays(task.validation) };
      } finally {
        flow.dispose();
      }
    });
  } finally {
    task.port.close();
  }
}
