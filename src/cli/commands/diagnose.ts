/**
 * `flowsampler diagnose FILE.csv [FILE2.csv ...]`: posterior-style summary (mean, median, sd,
 * mad, q5, q95, rhat, ess_bulk, ess_tail) of CmdStan CSV files, one file per chain, written by
 * any tool. `--json` prints the rows as JSON with posterior's column names, NaN as null.
 */
import type { Command } from '../command.js';
import { parseCommandArgs, UsageError } from '../command.js';
import { summariseChains, type SummaryRow } from '../../diagnostics/summarise.js';
import { readStanCsvChainsStreaming } from '../../io/stanCsvFiles.js';
import { parameterChains, type Draws } from '../../core/draws.js';
import { AbortedError } from '../../core/errors.js';
import { addWarnings, formatWarnings } from '../../core/warnings.js';
import { drawsWarnings } from '../../diagnostics/drawsWarnings.js';
import { strictHelp, strictOption, warningsExitCode } from '../exitCodes.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** summarise, one parameter at a time with a yield in between, so Ctrl-C stops a long one. */
async function summariseInterruptibly(draws: Draws, signal: AbortSignal): Promise<SummaryRow[]> {
  const rows: SummaryRow[] = [];
  for (let p = 0; p < draws.dim; p++) {
    if (signal.aborted) throw new AbortedError('stopped by the user');
    rows.push(summariseChains(draws.paramNames[p], parameterChains(draws, p)));
    await yieldToEventLoop();
  }
  return rows;
}

const COLUMNS: (keyof SummaryRow)[] = ['variable', 'mean', 'median', 'sd', 'mad', 'q5', 'q95', 'rhat', 'ess_bulk', 'ess_tail'];

/** Three significant digits for summaries, as posterior prints them; NA for NaN. */
function fmtStat(v: number): string {
  if (Number.isNaN(v)) return 'NA';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  if (a >= 1000) return v.toFixed(1);
  return String(Number(v.toPrecision(3)));
}

function fmtCell(col: keyof SummaryRow, v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isNaN(v)) return 'NA';
  if (col === 'rhat') return v.toFixed(3);
  if (col === 'ess_bulk' || col === 'ess_tail') return String(Math.round(v));
  return fmtStat(v);
}

export function formatSummaryTable(rows: SummaryRow[]): string[] {
  const cells = rows.map((r) => COLUMNS.map((c) => fmtCell(c, r[c])));
  const widths = COLUMNS.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j].length)));
  const line = (fields: string[]) =>
    fields.map((f, j) => (j === 0 ? f.padEnd(widths[j]) : f.padStart(widths[j]))).join('  ').trimEnd();
  return [line(COLUMNS as string[]), ...cells.map(line)];
}

/** JSON text of the rows: posterior's column names, NaN (posterior's NA) as null. */
export function summaryToJson(rows: SummaryRow[]): string {
  return JSON.stringify(rows, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
}

export const diagnoseCommand: Command = {
  name: 'diagnose',
  summary: 'summarise CmdStan CSV files (one per chain): mean, sd, quantiles, R-hat, bulk and tail ESS',
  help: [
    'usage: flowsampler diagnose FILE.csv [FILE2.csv ...] [--json]',
    '',
    'Reads CmdStan CSV output (one file per chain, from CmdStan, cmdstanr, cmdstanpy or',
    "flowsampler) and prints posterior's summarise_draws columns for every parameter:",
    'mean, median, sd, mad, q5, q95, rhat (rank-normalized split R-hat), ess_bulk, ess_tail.',
    'Sampler columns ending in __ (lp__, accept_stat__, ...) are kept aside.',
    'NA marks values posterior reports as NA (e.g. a constant parameter).',
    '',
    'Files are streamed, so their size is limited only by memory (8 bytes per value); Ctrl-C stops',
    'the reading and the statistics. Suspect input is an error (a divergent__ other than 0/1, values',
    'too large to summarise, the same file twice) or a warning (two chains with identical draws).',
    '',
    'options:',
    '  --json   print a JSON array, one object per variable, NaN as null',
    strictHelp,
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('diagnose', argv, { json: { type: 'boolean' }, ...strictOption }, true);
    if (positionals.length === 0) {
      throw new UsageError("give at least one CmdStan CSV file (see 'flowsampler diagnose --help')");
    }
    const { draws, samplerColumns, warnings: inputWarnings } = await readStanCsvChainsStreaming(positionals, { signal: io.signal });
    const rows = await summariseInterruptibly(draws, io.signal);
    const warnings = addWarnings([...inputWarnings], drawsWarnings(draws, { summary: rows }));
    const strict = Boolean(values.strict);
    if (values.json) {
      io.out(summaryToJson(rows));
      for (const line of formatWarnings(warnings)) io.err(line);
      return warningsExitCode(strict, warnings.length, io, 'diagnose');
    }
    const aside = Object.keys(samplerColumns);
    io.out(
      `${draws.chains} chain${draws.chains === 1 ? '' : 's'} x ${draws.draws} draws, ${draws.dim} parameter${draws.dim === 1 ? '' : 's'}` +
        (aside.length ? `; sampler columns kept aside: ${aside.join(', ')}` : ''),
    );
    for (const l of formatSummaryTable(rows)) io.out(l);
    // Vehtari et al. (2021): trust the draws when R-hat < 1.01 and ESS > 100 per chain.
    const minEss = 100 * draws.chains;
    const flagged = rows.filter((r) => !(r.rhat < 1.01) || !(r.ess_bulk > minEss) || !(r.ess_tail > minEss));
    if (flagged.length > 0) {
      io.out(
        `note: ${flagged.map((r) => r.variable).join(', ')}: rhat >= 1.01, ess below ${minEss} (100 per chain) or NA; ` +
          'these estimates are not yet reliable (Vehtari et al. 2021).',
      );
    }
    for (const line of formatWarnings(warnings)) io.out(line);
    return warningsExitCode(strict, warnings.length, io, 'diagnose');
  },
};
