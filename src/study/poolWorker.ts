/**
 * The pool's worker thread: runs one task and returns its result. A user-facing error
 * (FlowsamplerError) comes back as data with its class name and message, because error classes
 * do not survive the trip between threads; pool.ts turns it back into an error.
 */
import { FlowsamplerError } from '../core/errors.js';
import { runChainTask, runSamplerTask, runFlowTask, runNoopTask, type ChainTask, type SamplerTask, type FlowTask, type NoopTask } from './tasks.js';
import { runCellJob, type CellJobTask } from './cellRun.js';

export type PoolTask = ChainTask | SamplerTask | FlowTask | NoopTask | CellJobTask;

export type PoolReply = { ok: true; value: unknown } | { ok: false; name: string; message: string };

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
    return { ok: true, value: await dispatch(task) };
  } catch (e) {
    if (e instanceof FlowsamplerError) return { ok: false, name: e.name, message: e.message };
    throw e;
  } finally {
    task.kind !== 'noop' && task.port?.close();
  }
}
