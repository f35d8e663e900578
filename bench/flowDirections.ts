/**
 * The cost of a default flow's two directions (docs/flows.md, "Cost of the two directions"): for
 * the default IAF of each anchor target, training steps/s at the default batch, sampling with
 * log q (the parallel direction) and `logProbArrays` at given points (an IAF's sequential
 * direction: `dim` MADE passes per layer), each the median of a few timed calls.
 *
 *   npx tsx bench/flowDirections.ts      -> bench/results/flowDirections.json
 */
import { loadavg } from 'node:os';
import { initBackend } from '../src/core/backend.js';
import { createDefaultFlow } from '../src/flows/builder.js';
import { defaultBatchSize, trainReverseKL } from '../src/flows/train/reverseKL.js';
import { benchTarget, type BenchTargetName } from './flowsTargets.js';
import { isMain } from './standalone.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function benchFlowDirections(opts: { quick?: boolean; log?: (l: string) => void } = {}) {
  await initBackend();
  const log = opts.log ?? (() => undefined);
  const rows = [];
  for (const name of ['banana2d', 'funnel10', 'gauss50'] as BenchTargetName[]) {
    const t = benchTarget(name);
    const flow = createDefaultFlow(t.dim, { seed: 1 });
    const batch = defaultBatchSize(t.dim);
    const steps = opts.quick ? 10 : t.dim >= 50 ? 60 : 300;
    await trainReverseKL(flow, t.target, { steps: 10, batchSize: batch, seed: 1, pilot: false, earlyStopping: false });
    const t0 = performance.now();
    await trainReverseKL(flow, t.target, { steps, batchSize: batch, seed: 2, pilot: false, earlyStopping: false });
    const trainPerSec = steps / ((performance.now() - t0) / 1000);
    const n = 10_000;
    const sampleTimes: number[] = [];
    let x: Float64Array = new Float64Array(0);
    for (let k = 0; k < 5; k++) {
      const s0 = performance.now();
      x = flow.sampleArrays(n, k).x;
      sampleTimes.push((performance.now() - s0) / 1000);
    }
    const m = t.dim >= 50 ? 500 : n;
    const points = x.subarray(0, m * t.dim);
    const densityTimes: number[] = [];
    for (let k = 0; k < 3; k++) {
      const s0 = performance.now();
      flow.logProbArrays(points);
      densityTimes.push((performance.now() - s0) / 1000);
    }
    const row = { target: name, dim: t.dim, params: flow.parameterCount(), batch, trainStepsPerSec: trainPerSec, samplePerSec: n / median(sampleTimes), logProbPerSec: m / median(densityTimes) };
    log(`${name}: ${row.params} params, train ${trainPerSec.toFixed(1)} steps/s (batch ${batch}), sample ${row.samplePerSec.toExponential(2)}/s, logProb ${row.logProbPerSec.toExponential(2)}/s`);
    rows.push(row);
    flow.dispose();
  }
  return { load: loadavg(), rows };
}

if (isMain(import.meta.url)) {
  const { writeResults } = await import('./run.js');
  const res = await benchFlowDirections({ log: (l) => console.log(l) });
  console.log(await writeResults('flowDirections', res));
}
