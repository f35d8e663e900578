/**
 * A shard worker of data-parallel reverse-KL training (see workerShards.ts and protocol.ts):
 * builds its flow replica and its own target, then computes the gradient of its rows of every
 * batch the main thread announces, until told to stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../../core/backend.js';
import { flowFromJSON } from '../../serialize.js';
import { loadTarget } from '../../../study/targetSource.js';
import { shardGradient } from '../shards.js';
import { CTRL, doneSlot, failedSlot, type ShardInit } from './protocol.js';

const init = workerData as ShardInit;

async function main(): Promise<void> {
  await initBackend('wasm');
  const flow = flowFromJSON(init.flow);
  const target = await loadTarget(init.source, { baseDir: init.baseDir });
  const engine = flow.activeEngine();
  const program = flow.samplingProgram();
  const trainable = flow.trainableParams();
  const ctrl = new Int32Array(init.ctrl);
  const beta = new Float64Array(init.beta);
  const params = new Float32Array(init.params);
  const noise = new Float64Array(init.noise);
  const grads = new Float64Array(init.grads);
  const stats = new Float64Array(init.stats);
  const error = new Uint8Array(init.error);
  const D = init.dim;
  const n = init.batchSize;
  const m = init.rowEnd - init.rowBegin;
  const w = init.index;
  const offsets: number[] = [];
  let o = 0;
  for (const p of trainable) {
    offsets.push(o);
    o += p.size;
  }
  parentPort!.postMessage({ ready: true });
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, CTRL.generation, seen);
    const gen = Atomics.load(ctrl, CTRL.generation);
    if (gen === seen) continue;
    seen = gen;
    if (Atomics.load(ctrl, CTRL.stop) !== 0) break;
    try {
      trainable.forEach((p, i) => flow.store.set(p, params.subarray(offsets[i], offsets[i] + p.size)));
      const b = beta[0];
      const eps = noise.subarray(init.rowBegin * D, init.rowEnd * D);
      const r = shardGradient(engine, flow, program, target, eps, m, n, b);
      grads.fill(0);
      trainable.forEach((p, i) => {
        const g = r.grads.get(p);
        if (g) grads.set(g, offsets[i]);
      });
      stats[2 * w] = r.sumObjective;
      stats[2 * w + 1] = r.sumElbo;
      Atomics.store(ctrl, failedSlot(w), 0);
    } catch (e) {
      const msg = new TextEncoder().encode(`parallel training, shard ${w + 1}: ${(e as Error).message ?? String(e)}`.slice(0, 1000));
      error.fill(0);
      error.set(msg.subarray(0, error.length - 1));
      Atomics.store(ctrl, failedSlot(w), 1);
    }
    Atomics.store(ctrl, doneSlot(w), gen);
    Atomics.notify(ctrl, doneSlot(w));
  }
  flow.dispose();
}

main().catch((e) => parentPort!.postMessage({ error: (e as Error).message ?? String(e) }));
