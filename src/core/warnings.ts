/**
 * Warnings: what a result carries when it looks fine and may not be. Every result (Draws,
 * training results, importance results) has a `warnings` list; the CLI prints it under each
 * table and in the report, and `--strict` turns any warning into exit code 1.
 *
 * A warning has a stable `code` (tests and scripts match on it), a one-line `message` that says
 * what is wrong and what to do, and `values`: the numbers behind it (counts, shares, the
 * statistic and its threshold), so a reader can judge for themselves.
 */

export type WarningCode =
  /** HMC/NUTS transitions that diverged after warm-up: the draws may be biased. */
  | 'divergences'
  /** Max rank-normalised R-hat above 1.01 (Vehtari et al. 2021): chains disagree. */
  | 'rhat'
  /** Bulk or tail ESS below 100 per chain (Vehtari et al. 2021): estimates are noisy. */
  | 'low-ess'
  /** PSIS k-hat above the sample-size threshold (Vehtari et al. 2024): weights unreliable. */
  | 'khat'
  /** A large share of density evaluations were NaN/±Inf, or any were NaN/+Inf. */
  | 'non-finite'
  /** Flow training skipped a share of its steps (non-finite loss or gradient). */
  | 'skipped-steps'
  /** Flow training stopped on a plateau while its importance ESS/N on fresh draws is below 0.1. */
  | 'plateau-unconverged'
  /** The gradient or value paths of the target disagree (see checkTarget). */
  | 'gradient-check'
  /** NUTS hit its maximum tree depth often: step size too small or the posterior too long. */
  | 'max-tree-depth'
  /** Rejection sampling met draws above its envelope: the draws are not exact. */
  | 'envelope-violations'
  /** A residual flow's fixed-point inverse hit its iteration cap (its output is not exact). */
  | 'fixed-point'
  /** The input itself is suspect (e.g. a CSV counting negative divergences). */
  | 'input'
  /** A data column takes few distinct values: a continuous density fit can degenerate on them. */
  | 'discrete-data'
  /** A maximum-likelihood fit hit its time or step limit while the validation NLL still improved. */
  | 'fit-unconverged'
  /** On a target whose modes are known, the draws left out modes they should have visited. */
  | 'modes-missed';

export interface Warning {
  code: WarningCode;
  /** One line: what is wrong, the numbers, what to do. */
  message: string;
  /** The numbers behind the warning (counts, shares, statistic and threshold). */
  values: Record<string, number>;
}

export function makeWarning(code: WarningCode, message: string, values: Record<string, number> = {}): Warning {
  return { code, message, values };
}

/** Appends warnings to a result's list, skipping exact repeats (same code and message). */
export function addWarnings(list: Warning[], more: Iterable<Warning>): Warning[] {
  for (const w of more) {
    if (!list.some((v) => v.code === w.code && v.message === w.message)) list.push(w);
  }
  return list;
}

/** `label: message` lines, one per warning, for terminals and reports. */
export function formatWarnings(warnings: readonly Warning[], label?: string): string[] {
  return warnings.map((w) => `warning${label ? ` (${label})` : ''} [${w.code}]: ${w.message}`);
}

/** Numbers for messages: 3 significant digits, integers as they are. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

/** A share as a percentage with one decimal, e.g. 0.0143 → '1.4 %'. */
export function pct(share: number): string {
  return `${(100 * share).toFixed(share < 0.001 && share > 0 ? 2 : 1)} %`;
}
