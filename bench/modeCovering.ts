/**
 * Mode-covering training (the multimodal bars): the candidates on the multimodal targets and, for the
 * default's "no regression", on the unimodal ones. Each run trains a flow, then weights fresh
 * draws against the target:
 * - `reverse-kl`: the default IAF by reverse KL (`train --method reverse-kl`);
 * - `anneal`: the same with β rising from 0.02 to 1 over half the steps (`--anneal 0.02`);
 * - `mode-covering`: tempered SMC (10 runs x 1000) → spline-coupling flow by weighted maximum
 *   likelihood on the particles → refinement on its own importance-weighted draws, α = 1
 *   (`--method mode-covering`; src/flows/train/modeCovering.ts);
 * - `smc-ml`: the same without the refinement (maximum likelihood on the particles only);
 * - `refine-a2`: the refinement with FAB's α = 2 weights (p̃/q)²;
 * - `fab`: FAB with a prioritised buffer (bench/fab.ts), the same flow started on the SMC
 *   reference's box (the information SMC starts from), 110 s;
 * - `auto`: what `train` does by default (reverse KL, the missed-mass check, mode-covering if
 *   it finds missed mass).
 * Measured per run: training seconds (SMC included) and steps, then importance sampling with
 * 10 000 draws (the bars) and 100 000: modes visited (PSIS-resampled draws, a mode counted at ¼ of
 * its fair share), log Ẑ − log Z with its SE, Kish ESS/N, k-hat; on the many-well the weighted
 * P(x1 > 0) of each of the 16 wells against 0.844307, in MCSE units. `calibration` is the default
 * banana flow's reverse-KL steps/s at the start (167 on the quiet 2-vCPU machine), to read the
 * seconds of a busy machine.
 *
 *   npx tsx bench/modeCovering.ts [--seeds 1,2,3,4,5] [--targets gmm40,ring] [--methods mode-covering,auto] [--steps 3000]
 *     [--max-seconds T: each training phase's budget, default 120 s for reverse KL and 90 s for the mode-covering fit]
 */
import { initBackend } from '../src/core/backend.js';
import { parseTargetSpec } from '../src/targets/registry.js';
import type { Target } from '../src/targets/target.js';
import type { Flow } from '../src/flows/flow.js';
import { createDefaultFlow, trainReverseKL } from '../src/flows/index.js';
import { createModeCoveringFlow, trainModeCovering } from '../src/flows/train/modeCovering.js';
import { WeightedPoints } from '../src/flows/train/weightedLikelihood.js';
import { trainFlowFor, smcPopulation, type TrainRunOptions } from '../src/cli/flowTraining.js';
import { referenceFor } from '../src/samplers/smcReference.js';
import { flowImportanceSample } from '../src/samplers/flowImportance.js';
import { banana } from '../src/targets/index.js';
import { modeVisits } from '../src/diagnostics/modes.js';
import { trainFab } from './fab.js';
import { isMain, optionValue } from './standalone.js';

export const METHODS = ['reverse-kl', 'anneal', 'mode-covering', 'smc-ml', 'refine-a2', 'fab', 'auto'] as const;
export type Method = (typeof METHODS)[number];

export const TARGETS: Record<string, string> = {
  mix1d: 'mix1d',
  ring: 'ring',
  gmm40: 'gmm40',
  manywell32: 'manywell:dim=32',
  banana: 'banana',
  funnel10: 'funnel:dim=10',
  gauss50: 'illgauss:dim=50',
};

/** The many-well's right-hand well weight P(x1 > 0) (src/targets/manyWell.ts). */
const WELL_RIGHT = 0.844307;

export interface Evaluation {
  modesVisited: number | null;
  modes: number | null;
  logZError: number;
  logZSe: number;
  essFraction: number;
  khat: number;
  /** The same on 100 000 draws. */
  large: { logZError: number; logZSe: number; essFraction: number; khat: number };
  /** Many-well: (P̂(x1 > 0) − 0.844307) / MCSE per well, on the 100 000 weighted draws. */
  wellZ?: number[];
}

export function evaluateFlow(flow: Flow, target: Target, seed: number, spec: string): Evaluation {
  const is = flowImportanceSample(flow, target, { n: 10_000, seed: `eval-${seed}`, resample: true });
  const mv = target.modes ? modeVisits(is.draws.values, target.dim, target.modes) : null;
  const n = 100_000;
  const big = flowImportanceSample(flow, target, { n, seed: `eval-large-${seed}` });
  const ev: Evaluation = {
    modesVisited: mv?.visited ?? null,
    modes: mv?.modes ?? null,
    logZError: is.logZ - target.logZ!,
    logZSe: is.logZSe,
    essFraction: is.kishEss / 10_000,
    khat: is.paretoK,
    large: { logZError: big.logZ - target.logZ!, logZSe: big.logZSe, essFraction: big.kishEss / n, khat: big.paretoK },
  };
  if (spec.startsWith('manywell')) {
    const D = target.dim;
    const lw = big.logWeights;
    let m = -Infinity;
    for (const v of lw) if (v > m) m = v;
    const w = Float64Array.from(lw, (v) => Math.exp(v - m));
    const s = w.reduce((a, b) => a + b, 0);
    for (let i = 0; i < n; i++) w[i] /= s;
    const x = big.draws.values;
    ev.wellZ = [];
    for (let k = 0; k < D / 2; k++) {
      let p = 0;
      for (let i = 0; i < n; i++) if (x[i * D + 2 * k] > 0) p += w[i];
      // MCSE of a self-normalised importance estimate: √(Σ W_i² (f_i − p̂)²).
      let v = 0;
      for (let i = 0; i < n; i++) v += w[i] * w[i] * ((x[i * D + 2 * k] > 0 ? 1 : 0) - p) ** 2;
      ev.wellZ.push((p - WELL_RIGHT) / Math.sqrt(v));
    }
  }
  return ev;
}

export interface Bars {
  modes: boolean | null;
  logZ: boolean;
  ess: boolean | null;
  khat: boolean | null;
  wells: boolean | null;
}

/** The issue's bars for the target (null where the target has none of that kind). */
export function bars(id: string, ev: Evaluation): Bars {
  const allModes = ev.modes !== null && ev.modes <= 256 ? ev.modesVisited === ev.modes : null;
  const err = Math.abs(ev.logZError);
  switch (id) {
    case 'gmm40':
      return { modes: allModes, logZ: err <= 0.02, ess: ev.essFraction >= 0.5, khat: ev.khat < 0.7, wells: null };
    case 'ring':
      return { modes: allModes, logZ: err <= 0.01, ess: null, khat: null, wells: null };
    case 'mix1d':
      return { modes: allModes, logZ: err <= 0.1, ess: null, khat: null, wells: null };
    case 'manywell32':
      return { modes: null, logZ: err <= 0.03, ess: null, khat: null, wells: ev.wellZ!.every((z) => Math.abs(z) <= 3) };
    default:
      // The IAF issue's unimodal bars.
      return { modes: null, logZ: err < 0.1, ess: ev.essFraction >= 0.3, khat: ev.khat < 0.7, wells: null };
  }
}

export async function trainWith(method: Method, target: Target, seed: number, steps: number, maxSeconds?: number): Promise<{ flow: Flow; seconds: number; detail: Record<string, unknown> }> {
  const t0 = performance.now();
  const detail: Record<string, unknown> = {};
  const base: TrainRunOptions = { seed, steps, ...(maxSeconds !== undefined ? { maxSeconds } : {}) };
  if (method === 'reverse-kl' || method === 'anneal' || method === 'auto' || method === 'mode-covering') {
    const opts: TrainRunOptions = { ...base, method: method === 'anneal' ? 'reverse-kl' : method, ...(method === 'anneal' ? { annealFrom: 0.02 } : {}), ...(method === 'reverse-kl' || method === 'anneal' ? { maxSeconds: maxSeconds ?? 120 } : {}) };
    const tf = await trainFlowFor(target, opts);
    Object.assign(detail, { method: tf.method, ...(tf.pilotSeconds !== undefined ? { pilotSeconds: tf.pilotSeconds } : {}), steps: tf.steps, stoppedBy: tf.stoppedBy, notes: tf.notes, ...(tf.modeCovering ? { smcLogZError: tf.modeCovering.smcLogZ - target.logZ!, populationSteps: tf.modeCovering.result.populationSteps } : {}) });
    return { flow: tf.flow, seconds: (performance.now() - t0) / 1000, detail };
  }
  const smc = await smcPopulation(target, seed);
  detail.smcSeconds = (performance.now() - t0) / 1000;
  detail.smcLogZError = smc.logZ - target.logZ!;
  const population = { x: smc.draws.values, logWeights: smc.draws.logWeights! };
  const D = target.dim;
  if (method === 'fab') {
    const ref = referenceFor(target);
    const flow = createModeCoveringFlow(D, { loc: Array.from(ref.mean), scale: Array.from(ref.sd), seed });
    const r = await trainFab(flow, target, { seed, maxSeconds: 110 });
    Object.assign(detail, { iterations: r.iterations, gradSteps: r.gradSteps, last: r.history.at(-1) });
    return { flow, seconds: (performance.now() - t0) / 1000 - (detail.smcSeconds as number), detail };
  }
  const { mean, sd } = new WeightedPoints(population.x, D, population.logWeights).moments();
  const flow = createModeCoveringFlow(D, { loc: mean, scale: sd, seed });
  const r = await trainModeCovering(flow, target, {
    population,
    seed,
    steps,
    maxSeconds: maxSeconds ?? 90,
    ...(method === 'smc-ml' ? { populationSteps: steps } : {}),
    ...(method === 'refine-a2' ? { refineAlpha: 2 } : {}),
  });
  Object.assign(detail, { steps: r.steps, populationSteps: r.populationSteps, stoppedBy: r.stoppedBy, populationEss: r.populationEss });
  return { flow, seconds: (performance.now() - t0) / 1000, detail };
}

/** The default banana flow's reverse-KL steps per second now (167 on the quiet machine). */
export async function calibration(): Promise<number> {
  const f = createDefaultFlow(2, { seed: 1 });
  const r = await trainReverseKL(f, banana(), { seed: 1, steps: 300, earlyStopping: false });
  f.dispose();
  return r.steps / r.seconds;
}

export async function benchModeCovering(opts: { seeds?: number[]; targets?: string[]; methods?: Method[]; steps?: number; maxSeconds?: number; quick?: boolean; log?: (l: string) => void } = {}) {
  await initBackend();
  const log = opts.log ?? console.log;
  const seeds = opts.seeds ?? (opts.quick ? [1] : [1, 2, 3, 4, 5]);
  const targets = opts.targets ?? (opts.quick ? ['mix1d'] : Object.keys(TARGETS));
  // The other candidates (anneal, smc-ml, refine-a2, fab) on request: --methods.
  const methods = opts.methods ?? (opts.quick ? (['mode-covering'] as Method[]) : (['reverse-kl', 'mode-covering', 'auto'] as Method[]));
  const steps = opts.steps ?? (opts.quick ? 300 : 3000);
  const calib = await calibration();
  log(`calibration: banana reverse-KL ${calib.toFixed(0)} steps/s (167 on the quiet machine)`);
  const rows: Record<string, unknown>[] = [];
  for (const id of targets) {
    const spec = TARGETS[id] ?? id;
    const target = parseTargetSpec(spec);
    for (const method of methods) {
      for (const seed of seeds) {
        const { flow, seconds, detail } = await trainWith(method, target, seed, steps, opts.maxSeconds);
        try {
          const ev = evaluateFlow(flow, target, seed, spec);
          const b = bars(id, ev);
          const met = Object.values(b).every((v) => v !== false);
          rows.push({ target: id, method, seed, seconds, ...ev, bars: b, met, detail });
          log(
            `${id} ${method} seed ${seed}: ${seconds.toFixed(0)} s, modes ${ev.modesVisited}/${ev.modes}, log Z err ${ev.logZError.toFixed(4)} ± ${ev.logZSe.toFixed(4)} (100k: ${ev.large.logZError.toFixed(4)} ± ${ev.large.logZSe.toFixed(4)}), ESS/N ${ev.essFraction.toFixed(3)}, k-hat ${ev.khat.toFixed(2)}${ev.wellZ ? `, wells |z| max ${Math.max(...ev.wellZ.map(Math.abs)).toFixed(1)}` : ''}, bars ${met ? 'met' : 'NOT met'} ${JSON.stringify(detail)}`,
          );
        } finally {
          flow.dispose();
        }
      }
    }
  }
  return { seeds, steps, maxSeconds: opts.maxSeconds ?? null, calibrationStepsPerSecond: calib, rows };
}

if (isMain(import.meta.url)) {
  const res = await benchModeCovering({
    seeds: optionValue('--seeds')?.split(',').map(Number),
    targets: optionValue('--targets')?.split(','),
    methods: optionValue('--methods')?.split(',') as Method[] | undefined,
    steps: optionValue('--steps') ? Number(optionValue('--steps')) : undefined,
    maxSeconds: optionValue('--max-seconds') ? Number(optionValue('--max-seconds')) : undefined,
    quick: process.argv.includes('--quick'),
  });
  const { writeResults } = await import('./run.js');
  const name = optionValue('--name') ?? 'modeCovering';
  console.log(`-> ${await writeResults(name, res)}`);
}
