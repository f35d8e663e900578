/**
 * Mode-covering training candidates (issue 13), measured on gmm40, the ring of 8 and the 1-D
 * mixture against today's reverse-KL default, on the current flow API:
 * - `reverse-kl`: the default flow and trainer (the baseline);
 * - `smc-ml`: tempered SMC (10 runs x 1000 particles) → weighted maximum likelihood of the default
 *   flow on the particles (src/flows/objectives/maxLikelihood.ts);
 * - `smc-ml-polish`: the same, then 500 reverse-KL steps at learning rate 1e-3;
 * - `smc-ml-spline`: SMC → maximum likelihood of the (unexported) autoregressive spline flow;
 * - `fab`: FAB with a prioritised buffer (src/flows/objectives/fab.ts), default flow whose output
 *   affine layer starts at the box of the target's plotBounds (the same information SMC uses);
 * - `anneal`: reverse KL with tempering β 0.02 → 1 over half the steps (today's --anneal).
 * Each run: training seconds (≤ 120 s), then 10 000 importance draws: modes visited (of the
 * PSIS-resampled draws, a mode counted at ¼ of its fair share), log Ẑ − log Z, Kish ESS/N, k-hat.
 *
 *   npx tsx bench/modeCovering.ts [--seeds 1,2,3,4,5] [--targets gmm40,ring,mix1d] [--methods smc-ml,fab]
 */
import { initBackend } from '../src/core/backend.js';
import { parseTargetSpec } from '../src/targets/registry.js';
import type { Target } from '../src/targets/target.js';
import { createDefaultFlow } from '../src/flows/defaults.js';
import { createSplineFlow } from '../src/flows/splineAutoregressive.js';
import type { Flow } from '../src/flows/flow.js';
import { trainReverseKL } from '../src/flows/train.js';
import { trainMaxLikelihood } from '../src/flows/objectives/maxLikelihood.js';
import { trainFab } from '../src/flows/objectives/fab.js';
import { temperedSmc } from '../src/samplers/smc.js';
import { flowImportanceSample } from '../src/samplers/flowImportance.js';
import { modeVisits } from '../src/diagnostics/modes.js';
import { isMain, optionValue } from './standalone.js';

export const METHODS = ['reverse-kl', 'anneal', 'smc-ml', 'smc-ml-polish', 'smc-ml-spline', 'fab'] as const;
export type Method = (typeof METHODS)[number];

export interface Evaluation {
  modesVisited: number | null;
  modes: number | null;
  logZError: number;
  logZSe: number;
  essFraction: number;
  khat: number;
}

export function evaluateFlow(flow: Flow, target: Target, seed: number): Evaluation {
  const is = flowImportanceSample(flow, target, { n: 10_000, seed: `eval-${seed}`, resample: true });
  const mv = target.modes ? modeVisits(is.draws.values, target.dim, target.modes) : null;
  return {
    modesVisited: mv?.visited ?? null,
    modes: mv?.modes ?? null,
    logZError: is.logZ - target.logZ!,
    logZSe: is.logZSe,
    essFraction: is.kishEss / 10_000,
    khat: is.paretoK,
  };
}

/** Moments of weighted points, for the output affine layer's starting loc and scale. */
function weightedMoments(x: Float64Array, logW: Float64Array, dim: number): { loc: number[]; scale: number[] } {
  let m = -Infinity;
  for (const v of logW) if (v > m) m = v;
  const w = Float64Array.from(logW, (v) => Math.exp(v - m));
  const s = w.reduce((a, b) => a + b, 0);
  const loc = new Array(dim).fill(0);
  const sq = new Array(dim).fill(0);
  for (let i = 0; i < w.length; i++) for (let j = 0; j < dim; j++) loc[j] += (w[i] * x[i * dim + j]) / s;
  for (let i = 0; i < w.length; i++) for (let j = 0; j < dim; j++) sq[j] += (w[i] * (x[i * dim + j] - loc[j]) ** 2) / s;
  return { loc, scale: sq.map(Math.sqrt) };
}

export async function trainWith(method: Method, target: Target, seed: number, budgetS = 120): Promise<{ flow: Flow; seconds: number; detail: Record<string, unknown> }> {
  const t0 = performance.now();
  const dim = target.dim;
  const detail: Record<string, unknown> = {};
  if (method === 'reverse-kl' || method === 'anneal') {
    const flow = createDefaultFlow(dim, { seed });
    const r = await trainReverseKL(flow, target, { seed, maxSeconds: budgetS, ...(method === 'anneal' ? { anneal: { from: 0.02, steps: 1500 } } : {}) });
    detail.steps = r.steps;
    return { flow, seconds: (performance.now() - t0) / 1000, detail };
  }
  if (method === 'fab') {
    const bounds = target.plotBounds ?? Array.from({ length: dim }, () => [-5, 5] as [number, number]);
    const flow = createDefaultFlow(dim, { seed, loc: bounds.map(([a, b]) => (a + b) / 2), scale: bounds.map(([a, b]) => (b - a) / 4) });
    const r = await trainFab(flow, target, { seed, maxSeconds: budgetS, iterations: 100_000 });
    Object.assign(detail, { iterations: r.iterations, gradSteps: r.gradSteps, lastAcceptance: r.history.at(-1)?.acceptance, lastAisEss: r.history.at(-1)?.aisEss });
    return { flow, seconds: (performance.now() - t0) / 1000, detail };
  }
  // SMC population → maximum likelihood (→ reverse-KL polish).
  const smc = await temperedSmc(target, { seed, chains: 10, draws: 1000 });
  detail.smcSeconds = (performance.now() - t0) / 1000;
  detail.smcLogZError = smc.logZ - target.logZ!;
  const x = smc.draws.values;
  const logW = smc.draws.logWeights!;
  const { loc, scale } = weightedMoments(x, logW, dim);
  const flow = method === 'smc-ml-spline' ? createSplineFlow(dim, { seed }) : createDefaultFlow(dim, { seed, loc, scale });
  const left = budgetS - (performance.now() - t0) / 1000;
  const ml = await trainMaxLikelihood(flow, x, logW, { seed, steps: 3000, batchSize: 512, learningRate: 5e-3, maxSeconds: method === 'smc-ml-polish' ? left - 15 : left });
  detail.mlSteps = ml.steps;
  detail.finalNll = ml.history.at(-1)?.nll;
  if (method === 'smc-ml-polish') {
    const r = await trainReverseKL(flow, target, { seed, steps: 500, learningRate: 1e-3, earlyStopping: false, warmupSteps: 0 });
    detail.polishSteps = r.steps;
  }
  return { flow, seconds: (performance.now() - t0) / 1000, detail };
}

export async function benchModeCovering(opts: { seeds?: number[]; targets?: string[]; methods?: Method[]; budgetS?: number; log?: (l: string) => void } = {}) {
  await initBackend();
  const log = opts.log ?? console.log;
  const seeds = opts.seeds ?? [1, 2, 3, 4, 5];
  const targets = opts.targets ?? ['mix1d', 'ring', 'gmm40'];
  const methods = opts.methods ?? [...METHODS];
  const rows: Record<string, unknown>[] = [];
  for (const spec of targets) {
    const target = parseTargetSpec(spec);
    for (const method of methods) {
      for (const seed of seeds) {
        const { flow, seconds, detail } = await trainWith(method, target, seed, opts.budgetS ?? 120);
        try {
          const ev = evaluateFlow(flow, target, seed);
          rows.push({ target: spec, method, seed, seconds, ...ev, detail });
          log(
            `${spec} ${method} seed ${seed}: ${seconds.toFixed(0)} s, modes ${ev.modesVisited}/${ev.modes}, log Z err ${ev.logZError.toFixed(3)} ± ${ev.logZSe.toFixed(3)}, ESS/N ${ev.essFraction.toFixed(3)}, k-hat ${ev.khat.toFixed(2)} ${JSON.stringify(detail)}`,
          );
        } finally {
          flow.dispose();
        }
      }
    }
  }
  return { seeds, rows };
}

if (isMain(import.meta.url)) {
  const res = await benchModeCovering({
    seeds: optionValue('--seeds')?.split(',').map(Number),
    targets: optionValue('--targets')?.split(','),
    methods: optionValue('--methods')?.split(',') as Method[] | undefined,
    budgetS: optionValue('--budget') ? Number(optionValue('--budget')) : undefined,
  });
  const { writeResults } = await import('./run.js');
  console.log(`-> ${await writeResults('modeCovering', res)}`);
}
