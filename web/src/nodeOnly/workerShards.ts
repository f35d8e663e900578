/**
 * The browser's stand-in for src/flows/train/parallel/workerShards.ts, which runs on Node's
 * worker_threads: web/build.ts points the bundles here. A page trains on one thread (its flow
 * worker), so only the one-thread path of the trainer is reachable.
 */
import { FlowsamplerError } from '../../../src/core/errors.js';

export class WorkerShards {
  static async create(): Promise<never> {
    throw new FlowsamplerError('data-parallel training (worker threads) runs in Node only; in the browser a flow trains on one thread');
  }
}
