/**
 * The numbers of one comparison row, from a sampler's Draws (diagnostics do the statistics;
 * this file only chooses which ones and how costs are charged).
 *
 * - ESS bulk/tail: minimum over parameters; R-hat: maximum (Vehtari et al. 2021).
 * - Importance samplers: their draws are resampled from weighted flow draws, so rank-based ESS
 *   of the resampled values would not see the weight degeneracy. Their ESS is capped by Kish's
 *   ESS of the weights, (Σw)²/Σw², the usual importance-sampling efficiency.
 * - Costs: ESS/s divides by sampling + training time; ESS per 1000 evaluations divides by the
 *   sampler's density evaluations plus those of training, so flows pay for what they learnt.
 */
import type { Draws } from '../core/draws.js';
import type { SummaryRow } from './summaryRow.js';
import { addWarnings, type Warning } from '../core/warnings.js';
import { summarise, kishEss, type SummaryRow as ParamSummary } from '../diagnostics/index.js';

export interface RowExtras {
  /** Density evaluations spent training a flow this sampler used. */
  trainEvals?: number;
  kl?: number | null;
  khat?: number | null;
  /** Warnings beyond the draws' own (e.g. the flow's training). */
  warnings?: Warning[];
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export function summaryRowFor(d: Draws, extras: RowExtras = {}): { row: SummaryRow; params: ParamSummary[] } {
  const params = summarise(d);
  let essBulk = Math.min(...params.map((p) => p.ess_bulk));
  let essTail = Math.min(...params.map((p) => p.ess_tail));
  const rhat = Math.max(...params.map((p) => p.rhat));
  const infoKish = typeof d.info?.kishEss === 'number' ? d.info.kishEss : undefined;
  if (d.logWeights || infoKish !== undefined) {
    const kish = d.logWeights ? kishEss(d.logWeights) : infoKish!;
    essBulk = Math.min(essBulk, kish);
    essTail = Math.min(essTail, kish);
  }
  const seconds = (d.wallTimeMs + d.trainTimeMs) / 1000;
  const evals = d.densityEvals + (extras.trainEvals ?? 0);
  const row: SummaryRow = {
    sampler: d.sampler,
    essBulk: finiteOrNull(essBulk),
    essTail: finiteOrNull(essTail),
    rhat: finiteOrNull(rhat),
    essPerSecond: seconds > 0 ? finiteOrNull(essBulk / seconds) : null,
    essPer1000Evals: evals > 0 ? finiteOrNull((1000 * essBulk) / evals) : null,
    kl: extras.kl ?? null,
    khat: extras.khat ?? null,
    wallTimeS: d.wallTimeMs / 1000,
    trainTimeS: d.trainTimeMs / 1000,
    densityEvals: evals,
    gradEvals: d.gradEvals,
    acceptance: finiteOrNull(d.acceptance),
    divergences: d.divergences ?? null,
    warnings: addWarnings([...(extras.warnings ?? [])], d.warnings ?? []),
    // Importance samplers and SMC estimate log Z (src/samplers/flowImportance.ts, smc.ts).
    logZ: typeof d.info?.logZ === 'number' ? finiteOrNull(d.info.logZ) : null,
    logZSe: typeof d.info?.logZSe === 'number' ? finiteOrNull(d.info.logZSe) : null,
  };
  return { row, params };
}

/** A row with nothing measured: every statistic null, every cost 0. */
export function emptyRow(sampler: string): SummaryRow {
  return {
    sampler,
    essBulk: null,
    essTail: null,
    rhat: null,
    essPerSecond: null,
    essPer1000Evals: null,
    kl: null,
    khat: null,
    wallTimeS: 0,
    trainTimeS: 0,
    densityEvals: 0,
    gradEvals: 0,
    acceptance: null,
    divergences: null,
    warnings: [],
  };
}

/** The row of a sampler that failed with a user-facing error. */
export function failedRow(sampler: string, message: string): SummaryRow {
  return { ...emptyRow(sampler), error: message };
}
