/**
 * The coverage diagnostic and the tail proposals on today's default flow (the multimodal bars):
 * for each target and seed, the default flow is trained as `train` and `compare` train it (3000
 * steps, at most 60 s), then
 * - the flow bars of 10 000 importance draws: k-hat, Kish ESS/N, log Ẑ − log Z, modes visited;
 * - the coverage check with its probes (SMC 10 runs x 500, NUTS 4 x 500): flagged or not, why;
 * - each tail proposal of bench/tailProposals.ts for importance sampling (k-hat, ESS/N, log Z
 *   error, the largest relative error of a weighted marginal sd against the exact one) and for
 *   independence MH (acceptance, min bulk ESS, the largest relative sd error of its draws).
 *
 *   npx tsx bench/coverage.ts [--seeds 1,2,3] [--targets mix1d,ring] [--quick]
 */
import { initBackend } from '../src/core/backend.js';
import { parseTargetSpec } from '../src/targets/registry.js';
import type { Target } from '../src/targets/target.js';
import { trainFlowFor } from '../src/cli/flowTraining.js';
import { flowCoverage } from '../src/cli/coverageProbe.js';
import { kishEss, logZEstimate, psis, summarise } from '../src/diagnostics/index.js';
import { modeVisits } from '../src/diagnostics/modes.js';
import { makeDraws } from '../src/core/draws.js';
import { RandomStream } from '../src/core/random.js';
import { PROPOSALS, proposalPool, type Pool, type ProposalKind } from './tailProposals.js';
import { isMain, optionValue } from './standalone.js';

export const COVERAGE_TARGETS: { id: string; spec: string }[] = [
  { id: 'mix1d', spec: 'mix1d' },
  { id: 'ring', spec: 'ring' },
  { id: 'gmm40', spec: 'gmm40' },
  { id: 'banana', spec: 'banana' },
  { id: 'funnel10', spec: 'funnel:dim=10' },
  { id: 'gauss50', spec: 'illgauss:dim=50' },
];

function logWeightsOf(target: Target, pool: Pool): Float64Array {
  const d = target.dim;
  const n = pool.logq.length;
  const lw = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = target.logDensity(pool.x.subarray(i * d, (i + 1) * d)) - pool.logq[i];
    lw[i] = Number.isNaN(v) || v === Infinity ? -Infinity : v;
  }
  return lw;
}

/** max_j |sd_j − sd_true_j| / sd_true_j of weighted (or unweighted) draws. */
function sdError(target: Target, x: Float64Array, w?: Float64Array): number {
  const d = target.dim;
  const n = x.length / d;
  let worst = 0;
  for (let j = 0; j < d; j++) {
    let sw = 0;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const wi = w ? w[i] : 1;
      sw += wi;
      m += wi * x[i * d + j];
    }
    m /= sw;
    let v = 0;
    for (let i = 0; i < n; i++) v += (w ? w[i] : 1) * (x[i * d + j] - m) ** 2;
    const sd = Math.sqrt(v / sw);
    const truth = Math.sqrt(target.variance![j]);
    worst = Math.max(worst, Math.abs(sd - truth) / truth);
  }
  return worst;
}

function importanceMetrics(target: Target, pool: Pool) {
  const lw = logWeightsOf(target, pool);
  const ps = psis(lw);
  const { logZ, se } = logZEstimate(lw);
  let m = -Infinity;
  for (const v of lw) if (v > m) m = v;
  const w = Float64Array.from(lw, (v) => Math.exp(v - m));
  return { khat: ps.paretoK, essFraction: kishEss(lw) / lw.length, logZError: logZ - target.logZ!, logZSe: se, sdError: sdError(target, pool.x, w) };
}

/** Independence MH over a pool: chain c walks proposals c·(warmup + draws) … in order. */
function imhMetrics(target: Target, pool: Pool, chains: number, draws: number, warmup: number, seed: string) {
  const d = target.dim;
  const lw = logWeightsOf(target, pool);
  const rng = new RandomStream(seed).derive('imh');
  const values = new Float64Array(chains * draws * d);
  let accepted = 0;
  for (let c = 0; c < chains; c++) {
    const base = c * (warmup + draws + 1);
    let cur = base;
    for (let it = 0; it < warmup + draws; it++) {
      const p = base + 1 + it;
      if (lw[cur] === -Infinity || Math.log(rng.uniform()) < lw[p] - lw[cur]) {
        cur = p;
        if (it >= warmup) accepted++;
      }
      if (it >= warmup) values.set(pool.x.subarray(cur * d, (cur + 1) * d), (c * draws + it - warmup) * d);
    }
  }
  const dr = makeDraws({ sampler: 'imh', chains, draws, dim: d, values, wallTimeMs: 0, densityEvals: 0, gradEvals: 0, acceptance: accepted / (chains * draws) });
  const rows = summarise(dr);
  return { acceptance: dr.acceptance, minEssBulk: Math.min(...rows.map((r) => r.ess_bulk)), maxRhat: Math.max(...rows.map((r) => r.rhat)), sdError: sdError(target, values) };
}

export async function benchCoverage(opts: { seeds?: number[]; targets?: string[]; quick?: boolean; log?: (l: string) => void } = {}) {
  await initBackend();
  const log = opts.log ?? console.log;
  const seeds = opts.seeds ?? (opts.quick ? [1] : [1, 2, 3, 4, 5]);
  const out: Record<string, unknown>[] = [];
  for (const t of COVERAGE_TARGETS.filter((x) => !opts.targets || opts.targets.includes(x.id))) {
    const target = parseTargetSpec(t.spec);
    for (const seed of seeds) {
      const trained = await trainFlowFor(target, { seed, method: 'reverse-kl', maxSeconds: opts.quick ? 10 : 60, ...(opts.quick ? { steps: 300 } : {}) });
      try {
        const flow = trained.flow;
        const plain = proposalPool('plain', flow, 10_000, `eval-${seed}`);
        const bars = importanceMetrics(target, plain);
        let modes: { visited: number; of: number } | null = null;
        if (target.modes) {
          // Modes of the importance-resampled draws (what the `iaf` row shows).
          const lw = logWeightsOf(target, plain);
          const ps = psis(lw);
          const rng = new RandomStream(`resample-${seed}`);
          const idx: number[] = [];
          const cum = new Float64Array(ps.weights.length);
          ps.weights.reduce((a, v, i) => (cum[i] = a + v), 0);
          for (let k = 0; k < 10_000; k++) {
            const u = (k + rng.uniform()) / 10_000;
            let lo = 0;
            let hi = cum.length - 1;
            while (lo < hi) {
              const mid = (lo + hi) >> 1;
              if (cum[mid] < u) lo = mid + 1;
              else hi = mid;
            }
            idx.push(lo);
          }
          const xs = new Float64Array(idx.length * target.dim);
          idx.forEach((i, k) => xs.set(plain.x.subarray(i * target.dim, (i + 1) * target.dim), k * target.dim));
          const mv = modeVisits(xs, target.dim, target.modes);
          modes = { visited: mv.visited, of: mv.modes };
        }
        const cov = await flowCoverage(target, flow, { seed });
        const tails: Record<string, unknown> = {};
        for (const kind of PROPOSALS as ProposalKind[]) {
          const pool = kind === 'plain' ? plain : proposalPool(kind, flow, 10_000, `eval-${seed}`);
          const imhPool = proposalPool(kind, flow, 4 * 1101, `imh-${seed}`);
          tails[kind] = { is: importanceMetrics(target, pool), imh: imhMetrics(target, imhPool, 4, 1000, 100, `imh-${seed}`) };
        }
        const meetsBars = bars.khat < 0.7 && bars.essFraction >= 0.3 && Math.abs(bars.logZError) < 0.1;
        const row = {
          target: t.id,
          seed,
          trainSeconds: trained.trainTimeMs / 1000,
          bars: { ...bars, meetsIafBars: meetsBars },
          modes,
          coverage: {
            flagged: cov.result.flagged,
            status: cov.result.status,
            cell: cov.cell,
            logZGap: cov.result.logZGap,
            gapSe: cov.result.gapSe,
            reference: cov.reference,
            thin: cov.result.thin,
            messages: cov.result.messages,
            seconds: cov.seconds,
          },
          tails,
        };
        out.push(row);
        log(
          `${t.id} seed ${seed}: train ${row.trainSeconds.toFixed(0)} s; k-hat ${bars.khat.toFixed(2)}, ESS/N ${bars.essFraction.toFixed(2)}, log Z err ${bars.logZError.toFixed(3)}${modes ? `, modes ${modes.visited}/${modes.of}` : ''}${meetsBars ? ' (meets IAF bars)' : ''}; coverage ${cov.cell}${cov.result.flagged ? ' FLAGGED' : ''} (${cov.seconds.toFixed(0)} s): ${cov.result.messages.join(' | ')}`,
        );
        for (const kind of PROPOSALS) {
          const r = tails[kind] as { is: ReturnType<typeof importanceMetrics>; imh: ReturnType<typeof imhMetrics> };
          log(
            `    ${kind.padEnd(10)} IS k-hat ${r.is.khat.toFixed(2)} ESS/N ${r.is.essFraction.toFixed(2)} log Z err ${r.is.logZError.toFixed(3)} sd err ${(100 * r.is.sdError).toFixed(1)} % | IMH acc ${r.imh.acceptance.toFixed(2)} ESS ${r.imh.minEssBulk.toFixed(0)} R-hat ${r.imh.maxRhat.toFixed(3)} sd err ${(100 * r.imh.sdError).toFixed(1)} %`,
          );
        }
      } finally {
        trained.flow.dispose();
      }
    }
  }
  return { seeds, rows: out };
}

if (isMain(import.meta.url)) {
  const seeds = optionValue('--seeds')?.split(',').map(Number);
  const targets = optionValue('--targets')?.split(',');
  const res = await benchCoverage({ seeds, targets, quick: process.argv.includes('--quick') });
  const { writeResults } = await import('./run.js');
  console.log(`-> ${await writeResults('coverage', res)}`);
}
