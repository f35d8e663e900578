/**
 * Quality within a fixed training budget: does an autoregressive RQ-spline flow
 * (the `spline` family of src/flows/builder.ts) fit banana2d and funnel10 better than the affine IAF in
 * the same wall time? Each flow is trained by reverse KL (trainReverseKL, batch 256, constant
 * Adam lr, no early stopping) for `seconds` (default 60) of wall time, then 10k fresh draws give
 * log w = log p̃(x) − log q(x) (float64 target density) and
 *   ELBO = mean(log w),  Kish ESS/N,  PSIS k-hat (Vehtari et al. 2024),  log Ẑ − log Z.
 *
 * Flows compared (all with base N(0, I)):
 *   'affine-iaf': createDefaultFlow (learnable diagonal affine, 3 gated affine IAF layers, affine);
 *   'spline-iaf': createSplineFlow (4 RQ-spline AR layers, K = 8 bins, B = 4, then a diagonal affine).
 *
 * Run: `npx tsx bench/flowsQuality.ts [--seconds 60] [--targets banana2d,funnel10]` -> bench/results/flowsQuality.json
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/core/backend.js';
import { writeJsonAtomic } from '../src/core/atomicWrite.js';
import { createDefaultFlow } from '../src/flows/builder.js';
import { createSplineFlow } from '../src/flows/builder.js';
import { trainReverseKL } from '../src/flows/train/reverseKL.js';
import type { Flow } from '../src/flows/flow.js';
import { kishEss, logZEstimate } from '../src/diagnostics/importance.js';
import { psis } from '../src/diagnostics/psis.js';
import { benchTarget, type BenchTargetName } from './flowsTargets.js';
import { isMain, optionValue } from './standalone.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export type QualityFlow = 'affine-iaf' | 'spline-iaf';

function build(kind: QualityFlow, dim: number, seed: number): Flow {
  return kind === 'affine-iaf' ? createDefaultFlow(dim, { layers: 4, seed }) : createSplineFlow(dim, { layers: 4, bins: 8, bound: 4, seed });
}

export async function benchFlowQuality(opts: { targets?: BenchTargetName[]; seconds?: number; seed?: number; out?: string | null; learningRate?: number } = {}) {
  await initBackend();
  const names = opts.targets ?? ['banana2d', 'funnel10'];
  const seconds = opts.seconds ?? 60;
  const seed = opts.seed ?? 0;
  const lr = opts.learningRate ?? 2e-3;
  const rows: Record<string, unknown>[] = [];
  for (const name of names) {
    const { target, dim } = benchTarget(name);
    for (const kind of ['affine-iaf', 'spline-iaf'] as QualityFlow[]) {
      const flow = build(kind, dim, seed);
      const load0 = loadavg()[0];
      const tr = await trainReverseKL(flow, target, {
        steps: 1_000_000,
        maxSeconds: seconds,
        learningRate: lr,
        schedule: 'constant',
        warmupSteps: 100,
        earlyStopping: false,
        seed,
      });
      const n = 10_000;
      const { x, logq } = flow.sampleArrays(n, `${seed}/eval`);
      const lw = new Float64Array(n);
      const row = new Float64Array(dim);
      for (let i = 0; i < n; i++) {
        for (let d = 0; d < dim; d++) row[d] = x[i * dim + d];
        lw[i] = target.logDensity(row) - logq[i];
      }
      let elbo = 0;
      for (const v of lw) elbo += v / n;
      const z = logZEstimate(lw);
      const k = psis(lw).paretoK;
      const sd0 = (() => {
        let m = 0, s = 0;
        for (let i = 0; i < n; i++) m += x[i * dim] / n;
        for (let i = 0; i < n; i++) s += (x[i * dim] - m) ** 2 / (n - 1);
        return Math.sqrt(s);
      })();
      const r = {
        target: name,
        flow: kind,
        params: flow.parameterCount(),
        trainSteps: tr.steps,
        trainSeconds: +tr.seconds.toFixed(1),
        stepsPerSec: +(tr.steps / tr.seconds).toFixed(1),
        skippedNonFinite: tr.skippedNonFinite,
        elboMinusLogZ: +(elbo - target.logZ!).toFixed(4),
        essOverN: +(kishEss(lw) / n).toFixed(4),
        paretoK: +k.toFixed(3),
        logZHatMinusLogZ: +(z.logZ - target.logZ!).toFixed(4),
        logZHatSe: +z.se.toFixed(4),
        sdX1: +sd0.toFixed(3),
        load1: +load0.toFixed(2),
      };
      rows.push(r);
      console.log(JSON.stringify(r));
      flow.dispose();
      tf.engine().startScope();
      tf.engine().endScope();
    }
  }
  const result = { bench: 'flowsQuality', seconds, learningRate: lr, seed, note: 'sdX1 truth: banana 10, funnel (v) 3', rows };
  const out = opts.out === undefined ? join(HERE, 'results', 'flowsQuality.json') : opts.out;
  if (out) await writeJsonAtomic(out, result);
  return result;
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const get = (k: string) => optionValue(k, argv);
  await benchFlowQuality({
    targets: get('--targets')?.split(',') as BenchTargetName[] | undefined,
    seconds: get('--seconds') ? Number(get('--seconds')) : undefined,
    out: get('--out'),
  });
}
