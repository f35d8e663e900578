/**
 * The coverage check of a trained flow as `compare` and `train` run it
 * (src/diagnostics/coverage.ts has the statistics and what they can and cannot see):
 * - the flow's importance estimate of log Z and its marginal sds, from fresh draws;
 * - an independent log Z from tempered SMC: the run's own `smc` draws when they have at least 10
 *   runs (chains), else a
 *   probe run (10 runs x 500 particles, HMC moves: with fewer runs the between-run standard error
 *   is itself unreliable, see test/samplers.smc.test.ts);
 * - marginal sds from NUTS: the run's own `nuts` draws when it has them, else a short probe
 *   (4 chains x 500 draws after 500 warm-up).
 * A probe that fails (e.g. a target without a gradient) leaves its check out and says so.
 */
import type { Draws } from '../core/draws.js';
import { parameterChains } from '../core/draws.js';
import { FlowsamplerError } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import type { Target } from '../targets/target.js';
import type { Flow } from '../flows/flow.js';
import { flowImportanceSample } from '../samplers/flowImportance.js';
import { temperedSmc } from '../samplers/smc.js';
import { nuts } from '../samplers/nuts.js';
import { coverageCheck, marginalSds, type CoverageResult } from '../diagnostics/coverage.js';
import { mcseSd } from '../diagnostics/mcse.js';

/** Fewest SMC runs whose between-run standard error the check trusts. */
export const MIN_SMC_RUNS = 10;

export interface CoverageReport {
  result: CoverageResult;
  /** The flow's importance estimate on the check's own draws. */
  flow: { logZ: number; se: number; paretoK: number; essFraction: number; n: number; psisSmoothed: boolean };
  reference: { logZ: number; se: number; source: string } | null;
  probe: { source: string } | null;
  /** Short form for the table's coverage column. */
  cell: string;
  /** Probes that could not run, with why. */
  skipped: string[];
  seconds: number;
}

export interface CoverageOptions {
  seed: number | string;
  signal?: AbortSignal;
  /** The run's own SMC draws (info.logZ, info.logZSe), if any. */
  smcDraws?: Draws;
  /** Where `smcDraws` came from, for the report (default 'this run'). */
  smcLabel?: string;
  /** The run's own NUTS draws, if any. */
  nutsDraws?: Draws;
  /** Flow draws for the check (default 10 000). */
  n?: number;
  /** Run the thin-tails check (default true; false skips its NUTS probe: missed mass only). */
  tails?: boolean;
}

function sdsOfChains(d: Draws): { sd: Float64Array; se: Float64Array } {
  const sd = new Float64Array(d.dim);
  const se = new Float64Array(d.dim);
  for (let p = 0; p < d.dim; p++) {
    const ch = parameterChains(d, p);
    let n = 0;
    let s = 0;
    let s2 = 0;
    for (const c of ch) for (const v of c) { n++; s += v; s2 += v * v; }
    const m = s / n;
    sd[p] = Math.sqrt(Math.max(s2 / n - m * m, 0) * (n / (n - 1)));
    const e = mcseSd(ch);
    se[p] = Number.isFinite(e) ? e : Infinity;
  }
  return { sd, se };
}

/** log Ẑ and its delta-method SE from PSIS-smoothed log weights (normalised, with their log normaliser). */
function smoothedLogZ(logW: Float64Array, normConstLog: number): { logZ: number; se: number } {
  const n = logW.length;
  let ss = 0;
  for (const v of logW) ss += (Math.exp(v) - 1 / n) ** 2;
  return { logZ: normConstLog - Math.log(n), se: (Math.sqrt(ss / (n - 1)) * n) / Math.sqrt(n) };
}

/** Short text for the table: ok, missed, thin, missed+thin, unclear, or '-' when unchecked. */
export function coverageCell(r: CoverageResult): string {
  if (r.status === 'unchecked') return '-';
  if (r.status === 'ok') return r.inconclusive ? 'unclear' : 'ok';
  return r.status === 'missed-mass' ? 'missed' : r.status === 'thin-tails' ? 'thin' : 'missed+thin';
}

export async function flowCoverage(target: Target, flow: Flow, opts: CoverageOptions): Promise<CoverageReport> {
  const t0 = performance.now();
  const root = new RandomStream(opts.seed).derive('coverage');
  const n = opts.n ?? 10_000;
  const is = flowImportanceSample(flow, target, { n, seed: root.derive('flow').seed });
  const proposalSd = marginalSds(is.draws.values, target.dim, is.psis.logWeights);
  const skipped: string[] = [];

  let reference: CoverageReport['reference'] = null;
  const smcInfo = opts.smcDraws?.info;
  // The run's own SMC only with enough runs for its between-run standard error (see smc.ts).
  if (smcInfo && typeof smcInfo.logZ === 'number' && opts.smcDraws!.chains >= MIN_SMC_RUNS) {
    reference = { logZ: smcInfo.logZ, se: typeof smcInfo.logZSe === 'number' ? smcInfo.logZSe : NaN, source: `smc (${opts.smcLabel ?? 'this run'}, ${opts.smcDraws!.chains} runs x ${opts.smcDraws!.draws} particles)` };
  } else {
    try {
      const r = await temperedSmc(target, { seed: root.derive('smc').seed, chains: 10, draws: 500, signal: opts.signal });
      reference = { logZ: r.logZ, se: r.logZSe, source: 'smc probe (10 runs x 500 particles)' };
    } catch (e) {
      if (!(e instanceof FlowsamplerError) || opts.signal?.aborted) throw e;
      skipped.push(`SMC probe failed: ${e.message}`);
    }
  }

  let probeSd: { sd: Float64Array; se: Float64Array } | undefined;
  let probe: CoverageReport['probe'] = null;
  if (opts.tails === false) {
    // Missed mass only (the 'auto' training method's question).
  } else if (opts.nutsDraws && opts.nutsDraws.chains >= 2) {
    probeSd = sdsOfChains(opts.nutsDraws);
    probe = { source: `nuts (this run, ${opts.nutsDraws.chains} x ${opts.nutsDraws.draws})` };
  } else {
    try {
      const d = await nuts(target, { seed: root.derive('nuts').seed, chains: 4, draws: 500, warmup: 500, signal: opts.signal });
      probeSd = sdsOfChains(d);
      probe = { source: 'nuts probe (4 x 500 after 500 warm-up)' };
    } catch (e) {
      if (!(e instanceof FlowsamplerError) || opts.signal?.aborted) throw e;
      skipped.push(`NUTS probe failed: ${e.message}`);
    }
  }

  // With k-hat > 0.7 one huge weight can dominate the raw estimate and its standard error (the
  // flow is then flagged by k-hat already); the PSIS-smoothed estimate is stabler, so use it.
  const smoothed = is.paretoK > 0.7;
  const proposal = smoothed ? smoothedLogZ(is.psis.logWeights, is.psis.normConstLog) : { logZ: is.logZ, se: is.logZSe };
  const result = coverageCheck({
    proposal,
    ...(reference ? { reference: { logZ: reference.logZ, se: reference.se } } : {}),
    ...(probeSd ? { proposalSd, probeSd } : {}),
    paramNames: target.paramNames,
  });
  if (smoothed) result.messages.unshift(`k-hat ${is.paretoK.toFixed(2)} > 0.7: the flow's log Z is the PSIS-smoothed estimate`);
  return {
    result,
    flow: { logZ: proposal.logZ, se: proposal.se, paretoK: is.paretoK, essFraction: is.kishEss / n, n, psisSmoothed: smoothed },
    reference,
    probe,
    cell: coverageCell(result),
    skipped,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The lines the CLI prints (and the report shows) for a coverage report. */
export function coverageLines(c: CoverageReport): string[] {
  const head = c.result.flagged ? 'coverage: FLAGGED' : `coverage: ${c.cell === 'unclear' ? 'unclear' : 'nothing flagged'}`;
  const lines = [`${head} (flow k-hat ${c.flow.paretoK.toFixed(2)}, ESS/N ${c.flow.essFraction.toFixed(2)} on ${c.flow.n} draws; reference: ${c.reference?.source ?? 'none'}; sds: ${c.probe?.source ?? 'none'})`];
  for (const m of c.result.messages) lines.push(`  ${m}`);
  for (const s of c.skipped) lines.push(`  ${s}`);
  return lines;
}
