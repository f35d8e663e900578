/**
 * Flow speed against the PyTorch reference IAF, in ONE run and timed the same way on both
 * sides (bench/flowsTorch.py mirrors the timing below). For banana2d (D = 2, H = 64), funnel10
 * (D = 10, H = 128) and gauss50 (D = 50, H = 256), the anchors' architecture: K = 6 gated IAF
 * layers, MADE with 2 hidden ReLU layers of H units, order reversed between layers, base N(0, I),
 * batch 256, Adam lr 1e-3.
 *
 * - Training: 30 warm-up steps, then `blocks` blocks of a fixed number of steps, all in one
 *   training run (trainReverseKL's progress callback marks the blocks; torch's loop likewise);
 *   steps/s per block. The headline is the median block of each side; the best block is kept
 *   too.
 * - Sampling: sampleArrays(10 000) with log q, 2 warm-up calls and 7 timed calls; median and best.
 * - Ours on the heap engine on 1 thread and on 2 (data-parallel gradients,
 *   src/flows/train/parallel/), and on the tfjs engine; torch on 1 thread with OpenBLAS on 1 thread
 *   (the anchors' fair reference: torch's 2-thread configuration was slower here), on the
 *   OpenBLAS core it reports (a generic "Prescott" fallback is reported and can be overridden with
 *   --openblas-coretype, e.g. SkylakeX or Zen, for the torch command alone).
 * - A batch sweep at D = 2 (64 … 1024) on both sides, and the other families (coupling, MAF,
 *   spline) against the IAF at D = 10 on ours.
 *
 * Writes bench/results/flows.json. Run alone: `npx tsx bench/flows.ts` (a few minutes). Options:
 * --targets banana2d,funnel10  --no-anchor  --no-sweep  --no-families  --blocks 7
 * --openblas-coretype NAME
 */
import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import { loadavg, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { initBackend } from '../src/core/backend.js';
import type { Flow } from '../src/flows/flow.js';
import { createDefaultFlow, createFamilyFlow, type FlowFamily } from '../src/flows/builder.js';
import { trainReverseKL } from '../src/flows/train/reverseKL.js';
import { WorkerShards } from '../src/flows/train/parallel/workerShards.js';
import type { EngineChoice } from '../src/flows/engine/engine.js';
import { BENCH_TARGETS, benchTarget, type BenchTarget, type BenchTargetName } from './flowsTargets.js';
import { isMain, optionValue } from './standalone.js';

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.FLOWSAMPLER_PYTHON ?? 'python3';

export const K_LAYERS = 6;
export const BATCH = 256;
export const SAMPLE_N = 10_000;
/** Steps per timed block, per target (about half a second each on this machine). */
export const BLOCK_STEPS: Record<BenchTargetName, number> = { banana2d: 100, funnel10: 50, gauss50: 15 };
export const SWEEP_BATCHES = [64, 128, 256, 512, 1024];
export const FAMILIES: FlowFamily[] = ['iaf', 'coupling', 'maf', 'spline'];

interface Timed {
  median: number;
  best: number;
  blocks: number[];
}

function timed(rates: number[]): Timed {
  const s = [...rates].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], best: s[s.length - 1], blocks: rates.map((r) => +r.toPrecision(4)) };
}

function load1(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}

/** The anchors' architecture on one engine. */
export function anchorFlow(t: BenchTarget, engine: EngineChoice = 'auto', seed = 0): Flow {
  const flow = createDefaultFlow(t.dim, { layers: K_LAYERS, hidden: [t.hidden, t.hidden], affine: 'none', seed });
  flow.engine = engine;
  return flow;
}

/** Steps/s of `blocks` blocks of `steps` steps after 30 warm-up steps, in one training run. */
export async function trainingBlocks(flow: Flow, t: BenchTarget, opts: { blocks: number; steps: number; batch?: number; threads?: number }): Promise<number[]> {
  const batch = opts.batch ?? BATCH;
  const warm = 30;
  let shards: WorkerShards | null = null;
  if ((opts.threads ?? 1) > 1) {
    shards = await WorkerShards.create({ flow, source: { kind: 'module', module: join(HERE, 'flowsTargets.ts'), export: 'benchTargetDensity', args: [t.name] }, baseDir: HERE, batchSize: batch, workers: opts.threads! - 1 });
  }
  const marks: number[] = [];
  let lastMarked = -1;
  try {
    await trainReverseKL(flow, t.target, {
      steps: warm + opts.blocks * opts.steps,
      batchSize: batch,
      learningRate: 1e-3,
      schedule: 'constant',
      warmupSteps: 0,
      earlyStopping: false,
      pilot: false,
      seed: 0,
      ...(shards ? { shards } : {}),
      progressEvery: 1,
      onProgress: (step) => {
        // (The trainer also reports once more at the end, at the same step.)
        if (step >= warm && (step - warm) % opts.steps === 0 && step !== lastMarked) {
          lastMarked = step;
          marks.push(performance.now());
        }
      },
    });
  } finally {
    shards?.dispose();
  }
  const rates: number[] = [];
  for (let b = 1; b < marks.length; b++) rates.push(opts.steps / ((marks[b] - marks[b - 1]) / 1000));
  return rates;
}

/** samples/s of sampleArrays(10 000) with log q: 2 warm-up calls, then `reps` timed. */
export function samplingBlocks(flow: Flow, reps = 7): number[] {
  for (let i = 0; i < 2; i++) flow.sampleArrays(SAMPLE_N, i);
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    flow.sampleArrays(SAMPLE_N, 100 + r);
    rates.push(SAMPLE_N / ((performance.now() - t0) / 1000));
  }
  return rates;
}

interface TorchOut {
  torch: string;
  threads: number;
  openblas: { corename: string | null; config?: string };
  OPENBLAS_CORETYPE: string | null;
  gflops_1024_fp32_1thr: number;
  train: Record<string, number[]>;
  sample: Record<string, number[]>;
  sweep: Record<string, Record<string, number[]>>;
}

async function benchTorch(names: BenchTargetName[], blocks: number, sweep: boolean, coretype?: string): Promise<TorchOut> {
  const cfg = {
    targets: names,
    blocks,
    steps: BLOCK_STEPS,
    batch: BATCH,
    ...(sweep ? { sweep: { banana2d: SWEEP_BATCHES }, sweepSteps: 50 } : {}),
  };
  const env = { ...process.env, ...(coretype ? { OPENBLAS_CORETYPE: coretype } : {}), OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
  const { stdout } = await run(PYTHON, [join(HERE, 'flowsTorch.py'), JSON.stringify(cfg)], { timeout: 1_800_000, maxBuffer: 1 << 24, env });
  return JSON.parse(stdout.trim().split('\n').pop()!) as TorchOut;
}

export interface BenchFlowsOptions {
  targets?: BenchTargetName[];
  blocks?: number;
  anchor?: boolean;
  sweep?: boolean;
  families?: boolean;
  openblasCoretype?: string;
  log?: (line: string) => void;
}

export async function benchFlows(opts: BenchFlowsOptions = {}) {
  const log = opts.log ?? console.log;
  const names = opts.targets ?? BENCH_TARGETS;
  const blocks = opts.blocks ?? 7;
  const backend = await initBackend();
  const started = new Date().toISOString();
  const t0 = performance.now();
  const ours: Record<string, Record<string, { train: Timed; sample?: Timed; params: number }>> = {};
  const loads: Record<string, number[]> = {};
  for (const n of names) {
    const t = benchTarget(n);
    loads[n] = [load1()];
    ours[n] = {};
    for (const [variant, engine, threads] of [
      ['heap', 'auto', 1],
      ['heap-2threads', 'auto', 2],
      ['tfjs', 'tfjs', 1],
    ] as [string, EngineChoice, number][]) {
      const flow = anchorFlow(t, engine);
      // The tfjs engine is the slow reference: fewer blocks.
      const train = timed(await trainingBlocks(flow, t, { blocks: engine === 'tfjs' ? 3 : blocks, steps: engine === 'tfjs' ? Math.ceil(BLOCK_STEPS[n] / 3) : BLOCK_STEPS[n], threads }));
      const sample = threads === 1 ? timed(samplingBlocks(flow, engine === 'tfjs' ? 3 : 7)) : undefined;
      ours[n][variant] = { train, ...(sample ? { sample } : {}), params: flow.parameterCount() };
      flow.dispose();
      log(`${n} ${variant}: train ${train.median.toFixed(1)} steps/s (best ${train.best.toFixed(1)})${sample ? `, sample ${sample.median.toExponential(2)}/s` : ''}`);
    }
    loads[n].push(load1());
  }
  // Batch sweep at D = 2 (ours, heap, 1 thread).
  const sweep: Record<string, Timed> = {};
  if (opts.sweep ?? true) {
    const t = benchTarget('banana2d');
    for (const b of SWEEP_BATCHES) {
      const flow = anchorFlow(t);
      sweep[String(b)] = timed(await trainingBlocks(flow, t, { blocks, steps: 50, batch: b }));
      flow.dispose();
      log(`sweep banana2d batch ${b}: ${sweep[String(b)].median.toFixed(1)} steps/s`);
    }
  }
  // The other families at D = 10, same depth and width, against the IAF.
  const families: Record<string, Timed> = {};
  if (opts.families ?? true) {
    const t = benchTarget('funnel10');
    for (const fam of FAMILIES) {
      const flow = createFamilyFlow(fam, t.dim, { layers: K_LAYERS, hidden: [t.hidden, t.hidden], affine: 'none', seed: 0 });
      families[fam] = timed(await trainingBlocks(flow, t, { blocks: 5, steps: fam === 'maf' ? 10 : 30 }));
      flow.dispose();
      log(`family ${fam} at D = 10: ${families[fam].median.toFixed(1)} steps/s`);
    }
  }
  let torch: TorchOut | null = null;
  if (opts.anchor ?? true) {
    try {
      torch = await benchTorch(names, blocks, opts.sweep ?? true, opts.openblasCoretype);
      log(`torch ${torch.torch}, OpenBLAS core ${torch.openblas.corename}${torch.OPENBLAS_CORETYPE ? ` (OPENBLAS_CORETYPE=${torch.OPENBLAS_CORETYPE})` : ''}, ${torch.gflops_1024_fp32_1thr.toFixed(0)} GFLOP/s fp32 on 1 thread`);
    } catch (e) {
      log(`torch anchor failed (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); ratios omitted`);
    }
  }
  const ratios: Record<string, Record<string, { train: number; sample?: number }>> = {};
  const torchTimed: Record<string, { train: Timed; sample: Timed }> = {};
  if (torch) {
    for (const n of names) {
      torchTimed[n] = { train: timed(torch.train[n]), sample: timed(torch.sample[n]) };
      ratios[n] = {};
      for (const [v, r] of Object.entries(ours[n])) {
        ratios[n][v] = {
          train: +(r.train.median / torchTimed[n].train.median).toFixed(3),
          ...(r.sample ? { sample: +(r.sample.median / torchTimed[n].sample.median).toFixed(3) } : {}),
        };
      }
      log(`${n}: ratio to torch (medians) ${Object.entries(ratios[n]).map(([v, r]) => `${v} train ${r.train}${r.sample !== undefined ? ` sample ${r.sample}` : ''}`).join(' | ')}`);
    }
  }
  const sweepRatios: Record<string, number> = {};
  if (torch?.sweep.banana2d) for (const b of SWEEP_BATCHES) sweepRatios[String(b)] = +(sweep[String(b)].median / timed(torch.sweep.banana2d[String(b)]).median).toFixed(3);
  const familyRatios = Object.fromEntries(Object.entries(families).map(([f, r]) => [f, +(r.median / families.iaf.median).toFixed(3)]));
  const result = {
    bench: 'flows',
    started,
    wallSeconds: +((performance.now() - t0) / 1000).toFixed(1),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version, tfjs: tf.version.tfjs, backend: backend.name, load: loads },
    config: { layers: K_LAYERS, batch: BATCH, sampleN: SAMPLE_N, lr: 1e-3, blocks, blockSteps: BLOCK_STEPS, timing: 'median of equal blocks within one training run, on both sides' },
    ours,
    torch: torch ? { version: torch.torch, openblas: torch.openblas, coretype: torch.OPENBLAS_CORETYPE, gflops: torch.gflops_1024_fp32_1thr, ...torchTimed } : null,
    ratios,
    sweep: { ours: sweep, torch: torch?.sweep.banana2d ? Object.fromEntries(Object.entries(torch.sweep.banana2d).map(([b, r]) => [b, timed(r)])) : null, ratios: sweepRatios },
    families: { stepsPerSec: families, ratioToIaf: familyRatios },
    bars: { trainD2: 1.0, trainD10: 0.6, trainD50: 0.6, sampleAll: 1.0, familiesAtD10: 0.5 },
  };
  return result;
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const get = (k: string) => optionValue(k, argv);
  const { writeResults } = await import('./run.js');
  const res = await benchFlows({
    targets: get('--targets')?.split(',') as BenchTargetName[] | undefined,
    blocks: get('--blocks') ? Number(get('--blocks')) : undefined,
    anchor: !argv.includes('--no-anchor'),
    sweep: !argv.includes('--no-sweep'),
    families: !argv.includes('--no-families'),
    openblasCoretype: get('--openblas-coretype'),
  });
  console.log(await writeResults('flows', res));
}
