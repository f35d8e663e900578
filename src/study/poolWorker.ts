/**
 * The pool's worker thread: runs one task and returns its result as a WorkerReply
 * (core/workerReply.ts: a user-facing error comes back as data; pool.ts throws it again).
 */
import { replyOf, type WorkerReply } from '../core/workerReply.js';
import { runChainTask, runSamplerTask, runFlowTask, runNoopTask, type ChainTask, type SamplerTask, type FlowTask, type NoopTask } from './tasks.js';
import { runCellJob, type CellJobTask } from './cellRun.js';

export type PoolTask = ChainTask | SamplerTask | FlowTask | NoopTask | CellJobTask;

export type PoolReply = WorkerReply<unknown>;

async function dispatch(task: PoolTask): Promise<unknown> {
  switch (task.kind) {
    case 'chain':
      return runChainTask(task);
    case 'sampler':
      return runSamplerTask(task);
    case 'flow':
      return runFlowTask(task);
    case 'noop':
      return runNoopTask(task);
    case 'cells':
      return runCellJob(task);
  }
}

export default async function run(task: PoolTask): Promise<PoolReply> {
  try {
    return await replyOf(() => dispatch(task));
  } finally {
    task.kind !== 'noop' && task.port?.close();
  }
}
