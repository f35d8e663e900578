/**
 * Time to a usable proposal: `flowsampler train`'s path (trainFlowFor, default flow and
 * settings, stopping at the first usable proposal) on the anchor targets, with the wall time
 * until it stops, then an independent evaluation of the flow it returned on fresh draws.
 *
 * The flow engine's time-to-proposal bar: PSIS k̂ < 0.7 and Kish ESS/N ≥ 0.5 within 3 s (banana2d),
 * 10 s (funnel10) and 20 s (gauss50), for `--method auto` (the CLI's default: reverse KL, then
 * a tempered-SMC pilot that checks for missed mass) and `--method reverse-kl`. "met" needs both
 * evaluation seeds to pass and the time to be within the bar. Times include the Laplace pilot,
 * the proposal checks and, with auto, the SMC pilot.
 *
 *   npx tsx bench/timeToProposal.ts [--seeds 1,2,3,4] [--targets banana2d,funnel10,gauss50] [--methods auto,reverse-kl] [--workers 1]
 *
 * Writes bench/results/timeToProposal.json.
 */
import { loadavg } from 'node:os';
import { initBackend } from '../src/core/backend.js';
import { trainFlowFor, type TrainMethod } from '../src/cli/flowTraining.js';
import { flowImportanceSample } from '../src/samplers/flowImportance.js';
import { benchTarget, type BenchTargetName } from './flowsTargets.js';
import { isMain, optionValue } from './standalone.js';

export const TIME_BARS: Record<BenchTargetName, number> = { banana2d: 3, funnel10: 10, gauss50: 20 };
const EVAL_DRAWS = 10_000;
const EVAL_SEEDS = [101, 102];

export interface TimeToProposalRow {
  target: BenchTargetName;
  method: TrainMethod;
  seed: number;
  seconds: number;
  steps: number;
  stoppedBy: string;
  pilot: string;
  paretoK: number[];
  essFraction: number[];
  logZError: number;
  usable: boolean;
  withinTime: boolean;
  met: boolean;
}

export async function benchTimeToProposal(opts: { seeds?: number[]; targets?: BenchTargetName[]; methods?: TrainMethod[]; workers?: number; log?: (line: string) => void } = {}): Promise<{ bars: typeof TIME_BARS; workers: number; load: number[]; rows: TimeToProposalRow[] }> {
  await initBackend();
  const log = opts.log ?? (() => undefined);
  const seeds = opts.seeds ?? [1, 2, 3, 4];
  const targets = opts.targets ?? (['banana2d', 'funnel10', 'gauss50'] as BenchTargetName[]);
  const rows: TimeToProposalRow[] = [];
  const load = [loadavg()[0]];
  const methods = opts.methods ?? (['auto', 'reverse-kl'] as TrainMethod[]);
  for (const name of targets) {
    const t = benchTarget(name);
    for (const method of methods) for (const seed of seeds) {
      const trained = await trainFlowFor(t.target, { seed, method, threads: opts.workers ?? 1 });
      const evals = EVAL_SEEDS.map((s) => flowImportanceSample(trained.flow, t.target, { n: EVAL_DRAWS, seed: s }));
      const paretoK = evals.map((e) => e.paretoK);
      const essFraction = evals.map((e) => e.kishEss / EVAL_DRAWS);
      const usable = paretoK.every((k) => k < 0.7) && essFraction.every((f) => f >= 0.5);
      const seconds = trained.trainTimeMs / 1000;
      const withinTime = seconds <= TIME_BARS[name];
      const row: TimeToProposalRow = {
        target: name,
        method,
        seed,
        seconds,
        steps: trained.steps,
        stoppedBy: trained.stoppedBy,
        pilot: trained.result?.pilot ?? trained.method ?? 'none',
        paretoK,
        essFraction,
        logZError: evals[0].logZ - (t.target.logZ ?? NaN),
        usable,
        withinTime,
        met: usable && withinTime,
      };
      rows.push(row);
      log(`${name} ${method} seed ${seed}: ${seconds.toFixed(1)} s, ${row.steps} steps (${row.stoppedBy}), k̂ ${paretoK.map((k) => k.toFixed(2)).join('/')}, ESS/N ${essFraction.map((f) => f.toFixed(2)).join('/')}${row.met ? '  met' : ''}`);
      trained.flow.dispose();
    }
    load.push(loadavg()[0]);
  }
  return { bars: TIME_BARS, workers: opts.workers ?? 1, load, rows };
}

if (isMain(import.meta.url)) {
  const { writeResults } = await import('./run.js');
  const seeds = optionValue('--seeds')?.split(',').map(Number);
  const targets = optionValue('--targets')?.split(',') as BenchTargetName[] | undefined;
  const workers = optionValue('--workers') ? Number(optionValue('--workers')) : undefined;
  const methods = optionValue('--methods')?.split(',') as TrainMethod[] | undefined;
  const t0 = performance.now();
  const res = await benchTimeToProposal({ seeds, targets, methods, workers, log: (l) => console.log(l) });
  console.log(await writeResults('timeToProposal', res, (performance.now() - t0) / 1000));
}
