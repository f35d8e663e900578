/** CmdStan CSV files from disk (Node only): read each file, then the parser and checks of stanCsv.ts. */
import { readFileSync } from 'node:fs';
import type { Draws } from '../core/draws.js';
import { ParseError } from '../core/errors.js';
import { readStanCsv, stanCsvChains, type SamplerColumns, type StanCsv } from './stanCsv.js';

/** One CmdStan CSV file per chain -> Draws, sampler columns and the parsed files (see stanCsvChains). */
export function readStanCsvChains(paths: string[]): { draws: Draws; samplerColumns: SamplerColumns; files: StanCsv[] } {
  const files = paths.map((p) => {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ParseError(code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? String(e)})`, undefined, p);
    }
    return readStanCsv(text, p);
  });
  return stanCsvChains(files);
}

/** One CmdStan CSV file per chain -> Draws (sampler columns kept aside; see readStanCsvChains). */
export function readStanCsvFiles(paths: string[]): Draws {
  return readStanCsvChains(paths).draws;
}
