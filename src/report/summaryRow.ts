/**
 * One row of the comparison table (the CLI prints it, results.json stores it, the report shows
 * it and plots its columns). `null` means "not available for this sampler", e.g. KL without
 * ground truth or k-hat for an MCMC sampler; never NaN in files.
 */
import type { Warning } from '../core/warnings.js';
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
  /** Set when the sampler failed; the other numbers are then null/0. */
  error?: string;
  /**
   * What may be wrong with this row's numbers (divergences, R-hat, low ESS, k-hat, the flow's
   * training): the table shows their codes in the row, the lines under it say what they mean.
   */
  warnings?: Warning[];
  /** log Z estimate and its standard error (importance samplers and SMC). */
  logZ?: number | null;
  logZSe?: number | null;
  /** Modes visited and modes known, when the target's modes (mixture components) are known. */
  modesVisited?: number | null;
  modes?: number | null;
  /** Coverage check of a flow sampler (src/diagnostics/coverage.ts): 'ok', 'missed', 'thin', 'missed+thin' or null. */
  coverage?: string | null;
}

/** A table column: a row field with its digits, or a cell computed from the row. */
export interface TableColumn {
  key: string;
  header: string;
  digits: number;
  /** Computed cell text (null for '-'). */
  cell?: (r: SummaryRow) => string | null;
  /** Shown only when some row has a value. */
  optional?: boolean;
}

export const tableColumns: TableColumn[] = [
  { key: 'sampler', header: 'sampler', digits: 0 },
  { key: 'essBulk', header: 'ESS bulk', digits: 0 },
  { key: 'essTail', header: 'ESS tail', digits: 0 },
  { key: 'rhat', header: 'R-hat', digits: 3 },
  { key: 'divergences', header: 'div', digits: 0 },
  { key: 'essPerSecond', header: 'ESS/s', digits: 1 },
  { key: 'essPer1000Evals', header: 'ESS/1k evals', digits: 2 },
  { key: 'kl', header: 'KL', digits: 3 },
  { key: 'khat', header: 'k-hat', digits: 2 },
  {
    key: 'logZ',
    header: 'log Z',
    digits: 3,
    optional: true,
    cell: (r) => (typeof r.logZ === 'number' && Number.isFinite(r.logZ) ? `${r.logZ.toFixed(3)}${typeof r.logZSe === 'number' && Number.isFinite(r.logZSe) ? ` ± ${r.logZSe.toFixed(3)}` : ''}` : null),
  },
  {
    key: 'modes',
    header: 'modes',
    digits: 0,
    optional: true,
    cell: (r) => (typeof r.modes === 'number' && typeof r.modesVisited === 'number' ? `${r.modesVisited}/${r.modes}` : null),
  },
  { key: 'coverage', header: 'coverage', digits: 0, optional: true },
  { key: 'wallTimeS', header: 'wall s', digits: 2 },
  { key: 'trainTimeS', header: 'train s', digits: 1 },
  { key: 'warnings', header: 'warnings', digits: 0, cell: (r) => warningCodes(r) },
];

/** The warning codes of a row, for its 'warnings' cell ('-' when there are none). */
export function warningCodes(row: SummaryRow): string {
  const codes = [...new Set((row.warnings ?? []).map((w) => w.code))];
  return codes.length ? codes.join(',') : '-';
}

/** The text of one cell ('-' when not available). */
export function cellText(r: SummaryRow, c: TableColumn): string {
  if (c.cell) return c.cell(r) ?? '-';
  return formatCell((r as unknown as Record<string, unknown>)[c.key], c.digits);
}

/** The columns to show for these rows: optional ones only when some row has a value. */
export function columnsFor(rows: SummaryRow[]): TableColumn[] {
  return tableColumns.filter((c) => !c.optional || rows.some((r) => !r.error && cellText(r, c) !== '-'));
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
  const cols = columnsFor(rows);
  const cells = rows.map((r) => cols.map((c) => (r.error && c.key !== 'sampler' ? '' : cellText(r, c))));
  const widths = cols.map((c, k) => Math.max(c.header.length, ...cells.map((row) => row[k].length)));
  const last = cols.length - 1;
  const line = (vals: string[]) => vals.map((v, k) => (k === 0 || k === last ? v.padEnd(widths[k]) : v.padStart(widths[k]))).join('  ').trimEnd();
  const out = [line(cols.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  ')];
  rows.forEach((r, i) => out.push(r.error ? `${line(cells[i]).trimEnd()}  failed: ${r.error}` : line(cells[i])));
  return out.join('\n');
}
