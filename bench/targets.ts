/**
 * Target micro-benchmarks (benchmark.js): log-density evaluations per second on the float64
 * path, fused value+gradient evaluations per second, and rows per second of the batched tfjs
 * logProb (batch 256, including the read-back), on 256 seeded points spread over each
 * target's plot box. Run alone with `npx tsx bench/targets.ts`.
 */
import { pathToFileURL } from 'node:url';
import Benchmark from 'benchmark';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { RandomStream } from '../src/core/random.js';
import { banana } from '../src/targets/banana.js';
import { energy } from '../src/targets/energy.js';
import { expressionTarget } from '../src/targets/expression.js';
import { funnel } from '../src/targets/funnel.js';
import { illConditionedGaussian } from '../src/targets/gaussian.js';
import { midgley40, ring } from '../src/targets/mixture.js';
import type { Target } from '../src/targets/target.js';
import { machineInfo } from '../src/cli/runInfo.js';

const POINTS = 256;

function benchPoints(t: Target): Float64Array[] {
  const rng = new RandomStream(`bench/${t.name}`);
  const out: Float64Array[] = [];
  const b = t.plotBounds;
  for (let r = 0; r < POINTS; r++) {
    out.push(Float64Array.from({ length: t.dim }, (_, i) => (b ? b[i][0] + (b[i][1] - b[i][0]) * rng.uniform() : rng.normal())));
  }
  return out;
}

function targets(): Target[] {
  return [
    banana(),
    funnel(),
    ring(),
    midgley40(),
    illConditionedGaussian({ dim: 50, condition: 100, seed: 0 }),
    energy('u1'),
    energy('u4'),
    expressionTarget('-x1^2/200 - (x2 + 0.1*x1^2 - 10)^2/2', { name: 'expr-banana' }),
  ];
}

/** Runs the suite; keys like `banana.logDensity_per_s`, `banana.grad_per_s`, `banana.logProb_rows_per_s`. */
export async function benchTargets(options: { maxTime?: number } = {}): Promise<Record<string, number>> {
  await initBackend();
  const maxTime = options.maxTime ?? 0.5;
  const results: Record<string, number> = {};
  const suite = new Benchmark.Suite('targets');
  let sink = 0;
  for (const t of targets()) {
    const pts = benchPoints(t);
    const g = new Float64Array(t.dim);
    let i = 0;
    // One benchmark op = a sweep over all POINTS points, so benchmark.js's per-op overhead
    // does not swamp a 40 ns evaluation; results are scaled back to evaluations per second.
    suite.add(`${t.name}.logDensity_per_s`, () => {
      for (i = 0; i < POINTS; i++) sink += t.logDensity(pts[i]);
    }, { maxTime });
    suite.add(`${t.name}.grad_per_s`, () => {
      for (i = 0; i < POINTS; i++) sink += t.gradLogDensity(pts[i], g);
    }, { maxTime });
    const flat = new Float32Array(POINTS * t.dim);
    pts.forEach((p, r) => flat.set(p, r * t.dim));
    const x = tf.tensor2d(flat, [POINTS, t.dim]);
    // Warm the wasm kernels first, or the first target in the suite pays for their set-up.
    for (let w = 0; w < 20; w++) t.logProb!(x).dispose();
    suite.add(`${t.name}.logProb_rows_per_s`, () => {
      const y = t.logProb!(x);
      sink += y.dataSync()[0];
      y.dispose();
    }, { maxTime });
  }
  suite.on('cycle', (ev: Benchmark.Event) => {
    const b = ev.target as unknown as Benchmark;
    // Every op covers POINTS evaluations (or POINTS rows of one batched logProb call).
    results[String(b.name)] = Math.round(b.hz * POINTS);
  });
  suite.run({ async: false });
  if (sink === 0.123456789) console.log(''); // keep the work observable to the optimiser
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchTargets();
  console.log(JSON.stringify({ machine: machineInfo(), backend: tf.getBackend(), results: r }, null, 2));
}
