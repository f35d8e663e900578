/**
 * What this machine itself gives from a second thread: the same fixed arithmetic (a 50 x 50
 * matrix-vector product in a loop, no allocation, no shared memory) in one thread alone and in
 * two threads at once. A virtual machine's two vCPUs may share a physical core or be lent out
 * to other guests, so two threads need not run at twice one thread's rate; the parallel bench
 * reports its speed-up beside this one, measured in the same minutes.
 */
import { Worker } from 'node:worker_threads';

const KERNEL = `
const { parentPort, workerData } = require('node:worker_threads');
const a = new Float64Array(2500).map((_, i) => Math.sin(i));
const x = new Float64Array(50).map((_, i) => Math.cos(i));
const y = new Float64Array(50);
parentPort.once('message', () => {
  const t0 = performance.now();
  let s = 0;
  for (let it = 0; it < workerData.iterations; it++) {
    for (let i = 0; i < 50; i++) {
      let acc = 0;
      for (let j = 0; j < 50; j++) acc += a[i * 50 + j] * x[j];
      y[i] = acc;
    }
    s += y[it % 50];
    x[it % 50] = y[(it + 1) % 50] * 1e-3 + 0.5;
  }
  parentPort.postMessage({ ms: performance.now() - t0, s });
});
`;

/** Wall time (ms) of `threads` threads each doing `iterations` of the kernel, started together. */
async function runThreads(threads: number, iterations: number): Promise<number> {
  const workers = Array.from({ length: threads }, () => new Worker(KERNEL, { eval: true, workerData: { iterations } }));
  try {
    // Started once every thread is up, so start-up is not timed.
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));
    const t0 = performance.now();
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
            w.postMessage('go');
          }),
      ),
    );
    return performance.now() - t0;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Two threads' throughput over one thread's: 2 on two free cores. */
export async function machineTwoThreadSpeedup(iterations = 300_000): Promise<{ oneMs: number; twoMs: number; speedup: number }> {
  const oneMs = await runThreads(1, iterations);
  const twoMs = await runThreads(2, iterations);
  return { oneMs, twoMs, speedup: (2 * oneMs) / twoMs };
}
