import type { Warning } from '../core/warnings.js';

/**
 * One row of the comparison table (the CLI prints it, results.json stores it, the report shows
 * it and plots its columns). `null` means "not available for this sampler", e.g. KL without
 * ground truth or k-hat for an MCMC sampler; never NaN in files.
 */
export interface SummaryRow {
  sampler: string;
  /** Minimum over parameters of bulk ESS (Vehtari et al. 2021). */
  essBulk: number | null;
  /** Minimum over parameters of tail ESS. */
  essTail: number | null;
  /** Maximum over parameters of rank-normalised split R-hat. */
  rhat: number | null;
  /** min bulk ESS / total seconds (training included for flows). */
  essPerSecond: number | null;
  /** min bulk ESS per 1000 target density evaluations (training evaluations included). */
  essPer1000Evals: number | null;
  /** KL(p || q_draws) estimate against exact draws, when the target has an exact sampler. */
  kl: number | null;
  /** PSIS Pareto k-hat of the importance weights (importance-based samplers only). */
  khat: number | null;
  /** Sampling wall time in seconds. */
  wallTimeS: number;
  /** Flow training time in seconds (0 for classical samplers). */
  trainTimeS: number;
  densityEvals: number;
  gradEvals: number;
  acceptance: number | null;
  divergences: number | null;
  /**
   * What may be wrong with this row's numbers (divergences, R-hat, low ESS, k-hat, the flow's
   * training): the table shows their codes in the row, the lines under it say what they mean.
   */
  warnings?: Warning[];
  /** Set when the sampler failed; the other numbers are then null/0. */
  error?: string;
}

export const tableColumns: { key: keyof SummaryRow; header: string; digits: number }[] = [
  { key: 'sampler', header: 'sampler', digits: 0 },
  { key: 'essBulk', header: 'ESS bulk', digits: 0 },
  { key: 'essTail', header: 'ESS tail', digits: 0 },
  { key: 'rhat', header: 'R-hat', digits: 3 },
  { key: 'divergences', header: 'div', digits: 0 },
  { key: 'essPerSecond', header: 'ESS/s', digits: 1 },
  { key: 'essPer1000Evals', header: 'ESS/1k evals', digits: 2 },
  { key: 'kl', header: 'KL', digits: 3 },
  { key: 'khat', header: 'k-hat', digits: 2 },
  { key: 'wallTimeS', header: 'wall s', digits: 2 },
  { key: 'trainTimeS', header: 'train s', digits: 1 },
  { key: 'warnings', header: 'warnings', digits: 0 },
];

/** The warning codes of a row, for its 'warnings' cell ('-' when there are none). */
export function warningCodes(row: SummaryRow): string {
  const codes = [...new Set((row.warnings ?? []).map((w) => w.code))];
  return codes.length ? codes.join(',') : '-';
}

export function formatCell(v: unknown, digits: number): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return warningCodes({ warnings: v } as SummaryRow);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '-';
    return digits === 0 ? String(Math.round(v)) : v.toFixed(digits);
  }
  return String(v);
}

/** The table as aligned plain text, for the terminal. */
export function formatTable(rows: SummaryRow[]): string {
  const cells = rows.map((r) => tableColumns.map((c) => (r.error && c.key !== 'sampler' ? '' : formatCell(r[c.key], c.digits))));
  const widths = tableColumns.map((c, k) => Math.max(c.header.length, ...cells.map((row) => row[k].length)));
  const last = tableColumns.length - 1;
  const line = (vals: string[]) => vals.map((v, k) => (k === 0 || k === last ? v.padEnd(widths[k]) : v.padStart(widths[k]))).join('  ').trimEnd();
  const out = [line(tableColumns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  ')];
  rows.forEach((r, i) => out.push(r.error ? `${line(cells[i]).trimEnd()}  failed: ${r.error}` : line(cells[i])));
  return out.join('\n');
}
