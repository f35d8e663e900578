/**
 * Data tables from CSV for density fitting: one row per observation, one column per variable,
 * a header line of names. The same reader takes CmdStan CSV draws: `#` comment lines are
 * skipped, rows before `# Adaptation terminated` (saved warm-up) are dropped, and sampler
 * columns (names ending in `__`, lp__ included) are left out unless asked for by name.
 *
 * Which columns: `columns` by name (in that order), else every column that holds numbers.
 * Columns holding only text (labels such as a species) are left out and reported; a column that
 * mixes numbers with text or gaps is an error naming its line, unless the missing values
 * ('', NA, NaN, null, ., ?) are dropped with `dropMissing`. Every message is one line with file
 * and line number.
 */
import { ParseError, ParameterError } from '../core/errors.js';
import { checkArray, FLOAT64_BYTES } from '../core/memory.js';
import { splitCsvLine, isSamplerColumn } from './stanCsv.js';

export interface DataTable {
  /** The chosen columns' names. */
  names: string[];
  /** n x names.length, row-major. */
  values: Float64Array;
  rows: number;
  /** 1-based data-row number (in the file, after the header and warm-up) of each kept row. */
  rowIds: Int32Array;
  /** Columns left out because they hold only text. */
  textColumns: string[];
  /** Sampler columns (`__`) left out. */
  samplerColumns: string[];
  /** Rows dropped for missing values (with dropMissing). */
  droppedRows: number;
  /** Warm-up rows skipped (CmdStan save_warmup). */
  warmupRows: number;
}

export interface DataCsvOptions {
  columns?: readonly string[];
  dropMissing?: boolean;
}

const MISSING = new Set(['', 'na', 'nan', 'null', 'none', '.', '?', 'n/a']);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"').trim() : t;
}

type Cell = number | 'missing' | 'text';

function cell(raw: string): Cell {
  const s = unquote(raw);
  if (NUMBER.test(s)) return Number(s);
  const low = s.toLowerCase();
  if (MISSING.has(low)) return 'missing';
  if (low === 'inf' || low === '+inf' || low === 'infinity' || low === '-inf' || low === '-infinity') return low.startsWith('-') ? -Infinity : Infinity;
  return 'text';
}

/** Parses one CSV text (see the file header). `file` names it in messages. */
export function readDataCsv(text: string, file: string, options: DataCsvOptions = {}): DataTable {
  const lines = text.split(/\r?\n/);
  let header: string[] | null = null;
  let headerLine = 0;
  const rows: { line: number; cells: Cell[]; raw: string[] }[] = [];
  let warmupRows = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const t = line.trim();
    if (t === '') continue;
    if (t.startsWith('#')) {
      if (/^#\s*Adaptation terminated/i.test(t) && header) {
        warmupRows += rows.length;
        rows.length = 0;
      }
      continue;
    }
    const fields = splitCsvLine(line);
    if (!header) {
      header = fields.map(unquote);
      headerLine = i + 1;
      const seen = new Set<string>();
      header.forEach((h, j) => {
        if (h === '') throw new ParseError(`header column ${j + 1} is empty: the first line must name every column`, i + 1, file);
        if (NUMBER.test(h)) throw new ParseError(`expected a header line of column names, found the number '${h}' (add a header line)`, i + 1, file);
        if (seen.has(h)) throw new ParseError(`duplicate column '${h}' in the header`, i + 1, file);
        seen.add(h);
      });
      continue;
    }
    if (fields.length !== header.length) throw new ParseError(`expected ${header.length} values (one per column of the header), got ${fields.length}`, i + 1, file);
    rows.push({ line: i + 1, cells: fields.map(cell), raw: fields });
  }
  if (!header) throw new ParseError('the file is empty: expected a header line of column names and rows of numbers', undefined, file);
  if (rows.length === 0) throw new ParseError(`the file has a header (line ${headerLine}) but no data rows`, undefined, file);

  const samplerColumns = header.filter((h) => isSamplerColumn(h));
  let chosen: number[];
  const textColumns: string[] = [];
  if (options.columns && options.columns.length > 0) {
    chosen = options.columns.map((c) => {
      const j = header!.indexOf(c);
      if (j < 0) throw new ParameterError(`${file}: no column '${c}' (columns: ${header!.join(', ')})`);
      return j;
    });
  } else {
    chosen = [];
    header.forEach((h, j) => {
      if (isSamplerColumn(h)) return;
      const allText = rows.every((r) => r.cells[j] === 'text' || r.cells[j] === 'missing');
      if (allText) textColumns.push(h);
      else chosen.push(j);
    });
    if (chosen.length === 0) throw new ParseError(`no numeric columns (text columns: ${textColumns.join(', ') || 'none'}; sampler columns: ${samplerColumns.join(', ') || 'none'})`, undefined, file);
  }
  const d = chosen.length;
  checkArray(`${file}: ${rows.length} rows of ${d} columns`, rows.length * d, FLOAT64_BYTES);
  const values = new Float64Array(rows.length * d);
  const rowIds = new Int32Array(rows.length);
  let n = 0;
  let dropped = 0;
  rows.forEach((r, idx) => {
    let missing = false;
    for (let k = 0; k < d; k++) {
      const j = chosen[k];
      const c = r.cells[j];
      if (c === 'text') throw new ParseError(`column '${header![j]}': '${unquote(r.raw[j])}' is not a number (choose the numeric columns with --columns)`, r.line, file);
      if (c === 'missing') {
        if (!options.dropMissing) throw new ParseError(`column '${header![j]}' has a missing value ('${unquote(r.raw[j])}'); drop such rows with --drop-missing`, r.line, file);
        missing = true;
        continue;
      }
      if (!Number.isFinite(c)) throw new ParseError(`column '${header![j]}' is ${c}: a density needs finite values`, r.line, file);
      values[n * d + k] = c;
    }
    if (missing) {
      dropped++;
      return;
    }
    rowIds[n] = idx + 1;
    n++;
  });
  if (n === 0) throw new ParseError(`every row has a missing value in the chosen columns (${chosen.map((j) => header![j]).join(', ')})`, undefined, file);
  return { names: chosen.map((j) => header![j]), values: values.slice(0, n * d), rows: n, rowIds: rowIds.slice(0, n), textColumns, samplerColumns, droppedRows: dropped, warmupRows };
}

/** Several files with the same columns (e.g. one CmdStan CSV per chain), rows concatenated. */
export function concatTables(tables: { file: string; table: DataTable }[]): DataTable {
  const first = tables[0].table;
  for (const { file, table } of tables.slice(1)) {
    if (table.names.length !== first.names.length || table.names.some((n, j) => n !== first.names[j])) {
      throw new ParameterError(`${file}: columns ${table.names.join(', ')} differ from ${tables[0].file}'s ${first.names.join(', ')}`);
    }
  }
  const d = first.names.length;
  const rows = tables.reduce((a, t) => a + t.table.rows, 0);
  const values = new Float64Array(rows * d);
  const rowIds = new Int32Array(rows);
  let off = 0;
  for (const { table } of tables) {
    values.set(table.values, off * d);
    rowIds.set(table.rowIds, off);
    off += table.rows;
  }
  return { ...first, values, rows, rowIds, droppedRows: tables.reduce((a, t) => a + t.table.droppedRows, 0), warmupRows: tables.reduce((a, t) => a + t.table.warmupRows, 0) };
}
