/** Data CSV files for `fit` and `score` (Node only): read, checked, concatenated. */
import { readFileSync, statSync } from 'node:fs';
import { ParseError } from '../core/errors.js';
import { checkMemory } from '../core/memory.js';
import { concatTables, readDataCsv, type DataCsvOptions, type DataTable } from '../io/dataCsv.js';
import { UsageError } from './command.js';

export function readDataFiles(files: string[], options: DataCsvOptions, command: string): DataTable {
  if (files.length === 0) throw new UsageError(`missing DATA.csv (see 'flowsampler ${command} --help')`);
  const tables = files.map((file) => {
    let size: number;
    try {
      const s = statSync(file);
      if (s.isDirectory()) throw new ParseError('is a directory, not a CSV file', undefined, file);
      size = s.size;
    } catch (e) {
      if (e instanceof ParseError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new ParseError(code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? String(e)})`, undefined, file);
    }
    // The text, its lines and their cells live at once (a data table is read whole).
    checkMemory(`reading ${file}`, 12 * size, 'a smaller file');
    return { file, table: readDataCsv(readFileSync(file, 'utf8'), file, options) };
  });
  return concatTables(tables);
}

/** `--columns a,b,c`. */
export function columnsOption(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const cols = raw.split(',').map((c) => c.trim());
  if (cols.some((c) => c === '')) throw new UsageError(`--columns must be comma-separated column names, got '${raw}'`);
  return cols;
}
