/**
 * Data-parallel reverse-KL gradients on a worker thread (src/flows/train/parallel/): the same
 * draws and, to rounding, the same steps as one thread; errors in a shard come back as one-line
 * errors; the workers stop with dispose().
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/core/backend.js';
import { createDefaultFlow } from '../src/flows/builder.js';
import { trainReverseKL } from '../src/flows/train/reverseKL.js';
import { WorkerShards } from '../src/flows/train/parallel/workerShards.js';
import { parseTargetSpec } from '../src/targets/registry.js';
import { FlowsamplerError } from '../src/core/errors.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('training on two threads', () => {
  it('follows the one-thread run step by step (loss to rounding), for a spec target', async () => {
    const spec = 'funnel:dim=4';
    const t = parseTargetSpec(spec);
    const o = { steps: 20, batchSize: 64, seed: 3, historyEvery: 1, earlyStopping: false as const, pilot: false, learningRate: 3e-3 };
    const a = createDefaultFlow(4, { layers: 2, hidden: [16, 16], seed: 1 });
    const b = createDefaultFlow(4, { layers: 2, hidden: [16, 16], seed: 1 });
    const shards = await WorkerShards.create({ flow: b, source: { kind: 'spec', spec }, baseDir: process.cwd(), batchSize: 64, workers: 1 });
    try {
      const ra = await trainReverseKL(a, t, o);
      const rb = await trainReverseKL(b, t, { ...o, shards });
      expect(rb.threads).toBe(2);
      expect(ra.threads).toBe(1);
      ra.history.forEach((h, i) => expect(Math.abs(h.loss - rb.history[i].loss), `step ${h.step}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(h.loss))));
      // A batch of another size than the shards were made for is refused.
      await expect(trainReverseKL(b, t, { ...o, batchSize: 32, shards })).rejects.toThrow(/set up for batches of 64/);
    } finally {
      shards.dispose();
      a.dispose();
      b.dispose();
    }
  });

  it('a shard whose target fails reports it in one line', async () => {
    const flow = createDefaultFlow(2, { layers: 1, hidden: [8], seed: 1 });
    await expect(WorkerShards.create({ flow, source: { kind: 'spec', spec: 'nosuch' }, baseDir: process.cwd(), batchSize: 16, workers: 1 })).rejects.toThrow(FlowsamplerError);
    flow.dispose();
  });
});
