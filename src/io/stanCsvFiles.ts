/**
 * CmdStan CSV files from disk (Node only): read or stream each file into the parser of
 * stanCsv.ts, then its checks. A file given twice is an error (it would count as two chains that
 * agree perfectly).
 */
import { createReadStream, readFileSync, realpathSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Draws } from '../core/draws.js';
import { AbortedError, FlowsamplerError, ParameterError, ParseError } from '../core/errors.js';
import { StanCsvParser, assembleChains, type StanCsvChains } from './stanCsv.js';

function readError(p: string, e: unknown): ParseError {
  const code = (e as NodeJS.ErrnoException).code;
  return new ParseError(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a CSV file' : `cannot read the file (${code ?? String(e)})`, undefined, p);
}

/** The same file given twice would be counted as two chains that agree perfectly. */
function checkDistinctFiles(paths: string[]): void {
  const seen = new Map<string, string>();
  for (const p of paths) {
    let key: string;
    try {
      key = realpathSync(p);
    } catch {
      key = resolvePath(p);
    }
    const first = seen.get(key);
    if (first !== undefined) throw new ParameterError(`${p}: the same file is given twice (also as ${first}); each chain must be its own file`);
    seen.set(key, p);
  }
}

/**
 * Reads one CmdStan CSV file per chain into Draws. All files must have the same columns in the
 * same order and the same number of draws; parameter values must be finite (a NaN/Inf names its
 * file, line and column) and below 1e150 in magnitude; `divergent__` must be 0 or 1. Sampler
 * columns go to `samplerColumns`; `acceptance` is the mean of accept_stat__ and `divergences` the
 * sum of divergent__ when those columns exist. A file given twice is an error; two files with
 * identical draws are a warning.
 */
export function readStanCsvChains(paths: string[]): StanCsvChains {
  if (paths.length === 0) throw new ParameterError('no CSV files given');
  checkDistinctFiles(paths);
  const parsers = paths.map((p) => {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      throw readError(p, e);
    }
    const parser = new StanCsvParser(p);
    for (const line of text.split(/\r?\n/)) parser.push(line);
    return parser.finish();
  });
  return assembleChains(paths, parsers);
}

/**
 * readStanCsvChains for files of any size: each file is streamed line by line (no whole-file
 * string, which V8 caps at about 512 MB), and the signal is checked between chunks of lines, so
 * Ctrl-C stops it (AbortedError).
 */
export async function readStanCsvChainsStreaming(paths: string[], options: { signal?: AbortSignal } = {}): Promise<StanCsvChains> {
  if (paths.length === 0) throw new ParameterError('no CSV files given');
  checkDistinctFiles(paths);
  const parsers: StanCsvParser[] = [];
  for (const p of paths) {
    const parser = new StanCsvParser(p);
    const stream = createReadStream(p, { encoding: 'utf8', highWaterMark: 1 << 20 });
    let opened = false;
    const ready = new Promise<void>((res, rej) => {
      stream.once('open', () => {
        opened = true;
        res();
      });
      stream.once('error', (e) => rej(readError(p, e)));
    });
    await ready;
    let rest = '';
    try {
      for await (const chunk of stream as AsyncIterable<string>) {
        if (options.signal?.aborted) throw new AbortedError('stopped by the user');
        const text = rest + chunk;
        const parts = text.split('\n');
        rest = parts.pop()!;
        for (const line of parts) parser.push(line);
      }
    } catch (e) {
      if (e instanceof FlowsamplerError) throw e;
      throw opened ? readError(p, e) : e;
    } finally {
      stream.destroy();
    }
    parser.push(rest);
    parsers.push(parser.finish());
  }
  return assembleChains(paths, parsers);
}

/** One CmdStan CSV file per chain -> Draws (sampler columns kept aside; see readStanCsvChains). */
export function readStanCsvFiles(paths: string[]): Draws {
  return readStanCsvChains(paths).draws;
}
