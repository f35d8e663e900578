/**
 * The warnings every Draws gets, from the draws themselves and the sampler's counters:
 * - 'divergences': any divergent HMC/NUTS transition after warm-up (as Stan warns);
 * - 'rhat': max rank-normalised R-hat above 1.01; 'low-ess': min bulk or tail ESS below 100 per
 *   chain (both thresholds from Vehtari et al. 2021);
 * - 'khat': PSIS k-hat of importance weights above min(1 − 1/log10 S, 0.7) (Vehtari et al. 2024);
 * - 'non-finite': a share of the density evaluations came back NaN/±Inf (treated as zero
 *   density). −∞ is how a density says "outside the support", so a few are expected near a
 *   boundary; above `nonFiniteShare` (default 10 %) the sampler spent much of its budget there.
 * - 'max-tree-depth': NUTS trajectories cut at the maximum depth in more than 1 % of transitions;
 * - 'envelope-violations': rejection draws above the envelope (the draws are then not exact).
 */
import type { Draws } from '../core/draws.js';
import { parameterChains } from '../core/draws.js';
import { fmt, makeWarning, pct, type Warning } from '../core/warnings.js';
import { MIN_DRAWS } from './chains.js';
import { kishEss } from './importance.js';
import { paretoKThreshold } from './psis.js';
import { summariseChains, type SummaryRow } from './summarise.js';

export const WARNING_THRESHOLDS = {
  rhat: 1.01,
  essPerChain: 100,
  nonFiniteShare: 0.1,
  maxTreeDepthShare: 0.01,
} as const;

export interface DrawsWarningOptions {
  /** Per-parameter summaries already computed (saves recomputing them). */
  summary?: SummaryRow[];
  /** PSIS k-hat of the raw importance weights and their count, for resampled draws. */
  khat?: { value: number; n: number };
}

function worst<T>(rows: T[], score: (r: T) => number): { row: T; value: number } | null {
  let best: { row: T; value: number } | null = null;
  for (const r of rows) {
    const v = score(r);
    if (Number.isNaN(v)) continue;
    if (!best || v > best.value) best = { row: r, value: v };
  }
  return best;
}

/** The warnings of a Draws (see the file header); never throws on odd input, it skips what it cannot judge. */
export function drawsWarnings(d: Draws, options: DrawsWarningOptions = {}): Warning[] {
  const out: Warning[] = [];
  const transitions = d.chains * d.draws;
  if (d.divergences !== undefined && d.divergences > 0) {
    const share = d.divergences / transitions;
    out.push(
      makeWarning(
        'divergences',
        `${d.sampler}: ${d.divergences} of ${transitions} transitions after warm-up diverged (${pct(share)}); the draws may be biased where the posterior curves sharply (e.g. a funnel's neck): reparameterise, or raise the target acceptance rate`,
        { count: d.divergences, share, transitions },
      ),
    );
  }
  const weighted = d.logWeights !== undefined;
  if (!weighted && d.draws >= MIN_DRAWS && d.values.length > 0) {
    let rows = options.summary;
    if (!rows) {
      try {
        rows = Array.from({ length: d.dim }, (_, p) => summariseChains(d.paramNames[p], parameterChains(d, p)));
      } catch {
        rows = [];
      }
    }
    const r = worst(rows, (row) => row.rhat);
    if (r && r.value > WARNING_THRESHOLDS.rhat) {
      out.push(
        makeWarning(
          'rhat',
          `${d.sampler}: R-hat of ${r.row.variable} is ${r.value.toFixed(3)} (above ${WARNING_THRESHOLDS.rhat}): the chains disagree; run longer or check for multimodality`,
          { rhat: r.value, threshold: WARNING_THRESHOLDS.rhat },
        ),
      );
    }
    const minEss = WARNING_THRESHOLDS.essPerChain * d.chains;
    const e = worst(rows, (row) => -Math.min(row.ess_bulk, row.ess_tail));
    if (e && -e.value < minEss) {
      const which = e.row.ess_bulk <= e.row.ess_tail ? 'bulk' : 'tail';
      out.push(
        makeWarning(
          'low-ess',
          `${d.sampler}: ${which} ESS of ${e.row.variable} is ${Math.round(-e.value)}, below ${minEss} (100 per chain): its estimates are not yet reliable`,
          { ess: -e.value, threshold: minEss, essBulk: e.row.ess_bulk, essTail: e.row.ess_tail },
        ),
      );
    }
  }
  const k = options.khat ?? (d.logWeights && d.logWeights.length > 1 && typeof d.info?.paretoK === 'number' ? { value: d.info.paretoK, n: d.logWeights.length } : undefined);
  if (k && k.n > 1 && Number.isFinite(paretoKThreshold(k.n))) {
    const threshold = paretoKThreshold(k.n);
    if (!(k.value <= threshold)) {
      out.push(
        makeWarning(
          'khat',
          `${d.sampler}: PSIS k-hat ${fmt(k.value)} is above ${fmt(threshold)} for ${k.n} draws: the importance weights are unreliable, so are the ESS and estimates from them`,
          { khat: k.value, threshold, n: k.n },
        ),
      );
    }
  }
  // Importance draws, weighted or resampled: Kish's ESS of the raw weights bounds what they are worth.
  const kish = weighted && d.logWeights!.length > 0 ? kishEss(d.logWeights!) : typeof d.info?.kishEss === 'number' ? d.info.kishEss : undefined;
  if (kish !== undefined && kish < WARNING_THRESHOLDS.essPerChain) {
    const n = weighted ? d.logWeights!.length : d.chains * d.draws;
    out.push(makeWarning('low-ess', `${d.sampler}: Kish ESS of the importance weights is ${fmt(kish)} of ${n} draws: a few weights dominate`, { ess: kish, n }));
  }
  const evals = d.densityEvals;
  const invalid = typeof d.info?.invalidDensities === 'number' ? d.info.invalidDensities : 0;
  if (d.nonFinite > 0 && evals > 0) {
    const share = d.nonFinite / evals;
    if (share > WARNING_THRESHOLDS.nonFiniteShare || invalid > 0) {
      out.push(
        makeWarning(
          'non-finite',
          `${d.sampler}: ${d.nonFinite} of ${evals} density evaluations were not finite (${pct(share)}${invalid > 0 ? `, ${invalid} of them NaN or +Infinity` : ''}) and were treated as zero density; ` +
            (invalid > 0 ? 'a density should return -Infinity outside its support, never NaN' : 'the sampler spent much of its budget outside the support'),
          { count: d.nonFinite, share, evaluations: evals, invalid },
        ),
      );
    }
  }
  const hits = typeof d.info?.maxTreeDepthHits === 'number' ? d.info.maxTreeDepthHits : 0;
  if (hits > WARNING_THRESHOLDS.maxTreeDepthShare * transitions) {
    out.push(
      makeWarning(
        'max-tree-depth',
        `${d.sampler}: ${hits} of ${transitions} transitions stopped at the maximum tree depth (${pct(hits / transitions)}): the step size is small for the posterior's scale; the draws are valid but slow`,
        { count: hits, share: hits / transitions },
      ),
    );
  }
  const violations = typeof d.info?.envelopeViolations === 'number' ? d.info.envelopeViolations : 0;
  if (violations > 0) {
    out.push(
      makeWarning('envelope-violations', `${d.sampler}: the envelope was violated at ${violations} proposals: the draws are biased toward the proposal where p̃ > M q`, { count: violations }),
    );
  }
  return out;
}
