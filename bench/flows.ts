/**
 * Flow speed benchmark, side by side with the PyTorch reference IAF in ONE run
 * (bench/anchors/iaf_anchor.py; see bench/anchors/README.md). For banana2d (D=2, H=64), funnel10
 * (D=10, H=128) and gauss50 (D=50, H=256) it measures, for the anchor architecture (K = 6 gated
 * IAF layers, MADE with 2 hidden ReLU layers of H units, order reversed between layers, base
 * N(0, I), batch 256, Adam lr 1e-3):
 *   - reverse-KL training steps/s of our flows,
 *   - sampling throughput with log q (batches of 10k),
 * for three implementations:
 *   - 'd1':      IafAffine + Permute (src/flows/iaf.ts, permute.ts) with tf.train.adam, all tfjs;
 *   - 'fast':    FastIafAffine (src/flows/fastIaf.ts; fused op with a hand-written backward,
 *                reversal folded into the MADE order) with FusedAdam, through tfjs autodiff;
 *   - 'default': what the library does: createDefaultFlow + trainReverseKL + sampleArrays, which
 *                run on the wasm kernels (src/flows/wasmFlow.ts, wasmTrainer.ts);
 * ('d1' and 'fast' sample through the tfjs forward, `forwardFromNoise`; 'default' through the
 * kernels);
 * then runs the anchor's `--bench-only` (training steps/s, 1 thread for torch and OpenBLAS) and
 * bench/flowsAnchor.py (sampling, 1 thread), and writes ours, torch's and the ratios to
 * bench/results/flows.json (atomically). A benchmark.js micro bench times one forward step and
 * one training step at D = 2.
 *
 * Timing: the two implementations are interleaved in blocks and the best block is reported
 * (other processes share the 2 cores; the minimum time is the least disturbed estimate), and the
 * 1-minute load average is recorded beside every number.
 *
 * Run alone: `npx tsx bench/flows.ts` (about 2-4 minutes). Options:
 *   --targets banana2d,funnel10  --no-anchor  --no-micro  --seconds 2  --out path
 *   --wasm-fix (install src/flows/wasmSliceFix.ts's kernels first, for both implementations)
 */
import * as tf from '@tensorflow/tfjs';
import Benchmark from 'benchmark';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { initBackend } from '../src/core/backend.js';
import { writeJsonAtomic } from '../src/core/atomicWrite.js';
import { Flow } from '../src/flows/flow.js';
import { createDefaultFlow } from '../src/flows/builder.js';
import { trainReverseKL } from '../src/flows/train/reverseKL.js';
import type { EngineChoice } from '../src/flows/engine/engine.js';
import { RandomStream } from '../src/core/random.js';
import { ANCHOR_DIR, BENCH_TARGETS, benchTarget, type BenchTarget, type BenchTargetName } from './flowsTargets.js';
import { isMain, optionValue } from './standalone.js';

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.FLOWSAMPLER_PYTHON ?? '/usr/bin/python3';

/** The library path on each engine: 'heap' (the default) and 'tfjs'. */
export type FlowVariant = 'heap' | 'tfjs';

/** The anchors' published 1-thread numbers on a quiet machine (anchors README, headline table). */
export const PUBLISHED_TORCH: Record<BenchTargetName, { train: number; sample: number }> = {
  banana2d: { train: 371, sample: 7.4e5 },
  funnel10: { train: 233, sample: 2.7e5 },
  gauss50: { train: 78, sample: 6.6e4 },
};
export const K_LAYERS = 6;
export const BATCH = 256;
export const SAMPLE_BATCH = 10_000;
export const VARIANTS: FlowVariant[] = ['heap', 'tfjs'];

/** The anchor architecture (6 gated IAF layers, reversals folded into the MADE orders, no affine layers). */
export function anchorFlow(dim: number, hidden: number, variant: FlowVariant, seed = 0): Flow {
  const flow = createDefaultFlow(dim, { layers: K_LAYERS, hidden: [hidden, hidden], affine: 'none', seed });
  flow.engine = variant as EngineChoice;
  return flow;
}

/**
 * `n` steps of the library's own trainer (trainReverseKL: Adam, clipping, the non-finite guard,
 * history, cooperative yielding) at the anchor's settings: batch 256, constant lr 1e-3.
 */
export async function defaultTrainSteps(flow: Flow, t: BenchTarget, n: number, seed = 0): Promise<void> {
  await trainReverseKL(flow, t.target, { steps: n, batchSize: BATCH, learningRate: 1e-3, schedule: 'constant', warmupSteps: 0, earlyStopping: false, seed });
}

function load1(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}

interface Timed {
  /** Best block (least disturbed). */
  best: number;
  /** Median over blocks. */
  median: number;
  blocks: number[];
}

function summarise(rates: number[]): Timed {
  const s = [...rates].sort((a, b) => a - b);
  return { best: s[s.length - 1], median: s[Math.floor(s.length / 2)], blocks: rates.map((r) => +r.toPrecision(4)) };
}

interface VariantResult {
  trainStepsPerSec: Timed;
  samplesPerSec: Timed;
  /** The same blocks timed by this process's CPU time (user + system): far less sensitive to
   * other processes on the machine than wall time, but not the same quantity as torch's wall time. */
  trainStepsPerCpuSec: Timed;
  samplesPerCpuSec: Timed;
  params: number;
}

function cpuMs(c: NodeJS.CpuUsage): number {
  return (c.user + c.system) / 1000;
}

/** Our training steps/s and samples/s for both implementations, interleaved in blocks. */
async function benchOurs(t: BenchTarget, seconds: number, variants: FlowVariant[]): Promise<Record<FlowVariant, VariantResult>> {
  const flows = variants.map((v) => anchorFlow(t.dim, t.hidden, v));
  const steps = variants.map((_, i) => ({ run: (n: number) => defaultTrainSteps(flows[i], t, n), dispose: () => {} }));
  // Blocks long enough that trainReverseKL's per-call set-up (the default variant; ~2-5 ms) stays small.
  const stepsPerBlock = t.dim <= 2 ? 60 : t.dim <= 10 ? 40 : 20;
  for (const s of steps) await s.run(30); // warm-up, as the anchor
  const rates: number[][] = variants.map(() => []);
  const cpuRates: number[][] = variants.map(() => []);
  const blocks = Math.max(3, Math.round(seconds / 0.25));
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < variants.length; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await steps[i].run(stepsPerBlock / 2);
      rates[i].push(stepsPerBlock / 2 / ((performance.now() - t0) / 1000));
      cpuRates[i].push(stepsPerBlock / 2 / (cpuMs(process.cpuUsage(c0)) / 1000));
    }
    await new Promise((r) => setImmediate(r));
  }
  // Sampling with log q, 10k per batch, 2 warm-up + 7 timed, interleaved.
  const srates: number[][] = variants.map(() => []);
  const scpu: number[][] = variants.map(() => []);
  const sampleOnce = (f: Flow, seed: number, _variant: FlowVariant) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f.sampleArrays(SAMPLE_BATCH, seed);
    const dt = performance.now() - t0;
    const dc = cpuMs(process.cpuUsage(c0));
    return [SAMPLE_BATCH / (dt / 1000), SAMPLE_BATCH / (dc / 1000)];
  };
  for (let r = 0; r < 9; r++) {
    flows.forEach((f, i) => {
      const [rate, cpuRate] = sampleOnce(f, r, variants[i]);
      if (r >= 2) {
        srates[i].push(rate);
        scpu[i].push(cpuRate);
      }
    });
  }
  const out = {} as Record<FlowVariant, VariantResult>;
  variants.forEach((v, i) => {
    out[v] = {
      trainStepsPerSec: summarise(rates[i]),
      samplesPerSec: summarise(srates[i]),
      trainStepsPerCpuSec: summarise(cpuRates[i]),
      samplesPerCpuSec: summarise(scpu[i]),
      params: flows[i].parameterCount(),
    };
    steps[i].dispose();
    flows[i].dispose();
  });
  return out;
}

/** torch training steps/s (anchor --bench-only) and sampling (flowsAnchor.py), 1 thread. */
async function benchTorch(names: BenchTargetName[]) {
  const dir = await mkdtemp(join(tmpdir(), 'flowsbench-'));
  try {
    const out = join(dir, 'anchor.json');
    const load0 = load1();
    await run(PYTHON, [join(ANCHOR_DIR, 'iaf_anchor.py'), '--bench-only', '--repeats', '1', '--targets', names.join(','), '--out', out], {
      timeout: 600_000,
      maxBuffer: 1 << 24,
    });
    const anchor = JSON.parse(await readFile(out, 'utf8'));
    const load1a = load1();
    const { stdout } = await run(PYTHON, [join(HERE, 'flowsAnchor.py'), names.join(',')], { timeout: 600_000 });
    const sampling = JSON.parse(stdout.trim().split('\n').pop()!);
    const res: Record<string, { trainStepsPerSec1thr: number; trainStepsPerSecAll: Record<string, number>; samplesPerSec1thr: number }> = {};
    for (const n of names) {
      const a = anchor.targets[n];
      res[n] = { trainStepsPerSec1thr: a.steps_per_s['1thr'], trainStepsPerSecAll: a.steps_per_s, samplesPerSec1thr: sampling[n] };
    }
    return { results: res, torch: anchor.config.torch as string, loadBefore: load0, loadBetween: load1a, loadAfter: load1() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** benchmark.js: one forward step (256 samples + log q) and one training step at D = 2. */
async function microBench(): Promise<Record<string, { hz: number; rme: number; samples: number }>> {
  const t = benchTarget('banana2d');
  const res: Record<string, { hz: number; rme: number; samples: number }> = {};
  const suite = new Benchmark.Suite('flows-micro');
  const cleanup: (() => void)[] = [];
  for (const v of VARIANTS) {
    const flow = anchorFlow(t.dim, t.hidden, v);
    cleanup.push(() => flow.dispose());
    suite.add(`${v}: forward (256 samples + log q)`, () => flow.sampleArrays(BATCH, 1), { minSamples: 10, maxTime: 1.5 });
    suite.add(`${v}: training step (batch 256)`, { defer: true, minSamples: 10, maxTime: 2, fn: (d: { resolve(): void }) => void defaultTrainSteps(flow, t, 1).then(() => d.resolve()) });
  }
  suite.on('cycle', (e: Benchmark.Event) => {
    const b = e.target as unknown as Benchmark;
    res[String(b.name)] = { hz: +b.hz!.toPrecision(4), rme: +b.stats!.rme.toFixed(2), samples: b.stats!.sample.length };
    console.log('  micro', String(e.target));
  });
  await new Promise<void>((resolve) => suite.on('complete', () => resolve()).run({ async: true }));
  for (const c of cleanup) c();
  return res;
}

export interface BenchFlowsOptions {
  targets?: BenchTargetName[];
  /** Seconds of timed training per implementation and target (default 2). */
  seconds?: number;
  /** Run the PyTorch anchor beside ours (default true). */
  anchor?: boolean;
  /** benchmark.js micro bench (default true). */
  micro?: boolean;
  /** Output path (default bench/results/flows.json); null to skip writing. */
  out?: string | null;
  log?: (line: string) => void;
}

export async function benchFlows(opts: BenchFlowsOptions = {}) {
  const log = opts.log ?? console.log;
  const names = opts.targets ?? BENCH_TARGETS;
  const seconds = opts.seconds ?? 2;
  const backend = await initBackend();
  const started = new Date().toISOString();
  const t0 = performance.now();
  const ours: Record<string, Record<FlowVariant, VariantResult> & { loadBefore: number; loadAfter: number }> = {};
  for (const n of names) {
    const t = benchTarget(n);
    const loadBefore = load1();
    const r = await benchOurs(t, seconds, VARIANTS);
    ours[n] = { ...r, loadBefore, loadAfter: load1() };
    log(
      `${n}: train steps/s ${VARIANTS.map((v) => `${v} ${r[v].trainStepsPerSec.best.toFixed(1)}`).join(' ')} | ` +
        `samples/s ${VARIANTS.map((v) => `${v} ${r[v].samplesPerSec.best.toExponential(2)}`).join(' ')} (load ${loadBefore})`,
    );
  }
  let torch: Awaited<ReturnType<typeof benchTorch>> | null = null;
  if (opts.anchor ?? true) {
    try {
      torch = await benchTorch(names);
      for (const n of names) {
        const a = torch.results[n];
        log(`${n}: torch 1thr train steps/s ${a.trainStepsPerSec1thr.toFixed(1)} samples/s ${a.samplesPerSec1thr.toExponential(2)}`);
      }
    } catch (e) {
      log(`torch anchor failed (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); ratios omitted`);
    }
  }
  const ratios: Record<string, Record<string, { train: number; sample: number }>> = {};
  if (torch) {
    for (const n of names) {
      const a = torch.results[n];
      ratios[n] = {};
      for (const v of VARIANTS) {
        ratios[n][v] = {
          train: +(ours[n][v].trainStepsPerSec.best / a.trainStepsPerSec1thr).toFixed(3),
          sample: +(ours[n][v].samplesPerSec.best / a.samplesPerSec1thr).toFixed(3),
        };
      }
      log(`${n}: ratio vs torch 1thr  ${VARIANTS.map((v) => `${v} train ${ratios[n][v].train} sample ${ratios[n][v].sample}`).join(' | ')}`);
    }
  }
  // Secondary: our CPU-time rates against the anchors' published quiet-machine numbers — a
  // contention-robust view when the shared machine is busy (both sides ~one undisturbed core).
  const ratiosCpuVsPublished: Record<string, Record<string, { train: number; sample: number }>> = {};
  for (const n of names) {
    ratiosCpuVsPublished[n] = {};
    for (const v of VARIANTS) {
      ratiosCpuVsPublished[n][v] = {
        train: +(ours[n][v].trainStepsPerCpuSec.best / PUBLISHED_TORCH[n].train).toFixed(3),
        sample: +(ours[n][v].samplesPerCpuSec.best / PUBLISHED_TORCH[n].sample).toFixed(3),
      };
    }
    log(`${n}: CPU-time rate / published torch  ${VARIANTS.map((v) => `${v} train ${ratiosCpuVsPublished[n][v].train} sample ${ratiosCpuVsPublished[n][v].sample}`).join(' | ')}`);
  }
  const micro = (opts.micro ?? true) ? await microBench() : null;
  const result = {
    bench: 'flows',
    started,
    wallSeconds: +((performance.now() - t0) / 1000).toFixed(1),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version, tfjs: tf.version.tfjs, backend: backend.name },
    config: { layers: K_LAYERS, batch: BATCH, sampleBatch: SAMPLE_BATCH, lr: 1e-3, timing: 'best of interleaved blocks; 1-min load average alongside' },
    ours,
    torch,
    ratios,
    ratiosCpuVsPublished,
    publishedTorch: PUBLISHED_TORCH,
    bars: { trainD2: 0.5, trainD50: 0.3, sampleAll: 0.5 },
    micro,
  };
  const out = opts.out === undefined ? join(HERE, 'results', 'flows.json') : opts.out;
  if (out) {
    await mkdir(dirname(out), { recursive: true });
    await writeJsonAtomic(out, result);
    log(`wrote ${out}`);
  }
  return result;
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const get = (k: string) => optionValue(k, argv);
  await benchFlows({
    targets: get('--targets')?.split(',') as BenchTargetName[] | undefined,
    seconds: get('--seconds') ? Number(get('--seconds')) : undefined,
    anchor: !argv.includes('--no-anchor'),
    micro: !argv.includes('--no-micro'),
    out: get('--out'),
  });
}
