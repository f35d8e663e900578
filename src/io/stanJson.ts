/**
 * Stan JSON data (the format of CmdStan's `data file=` and posteriordb): an object of named
 * numbers and (nested) arrays of numbers, with "inf", "-inf" and "NaN" strings for the
 * non-finite values. Read as plain numbers and arrays; anything else is a ParseError naming the
 * entry.
 */
import { readFileSync } from 'node:fs';
import { ParseError } from '../core/errors.js';

export type StanData = Record<string, number | unknown[]>;

const SPECIAL: Record<string, number> = { inf: Infinity, '+inf': Infinity, infinity: Infinity, '-inf': -Infinity, '-infinity': -Infinity, nan: NaN };

function convert(v: unknown, path: string, file?: string): unknown {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.toLowerCase() in SPECIAL) return SPECIAL[v.toLowerCase()];
  if (Array.isArray(v)) return v.map((x, i) => convert(x, `${path}[${i + 1}]`, file));
  throw new ParseError(`data entry ${path} must be a number or an array of numbers, got ${v === null ? 'null' : typeof v === 'string' ? `"${v}"` : typeof v}`, undefined, file);
}

/** Parses Stan JSON text. */
export function parseStanJson(text: string, file?: string): StanData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ParseError(`not JSON: ${(e as Error).message.split('\n')[0]}`, undefined, file);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ParseError('Stan JSON data must be an object of named values', undefined, file);
  const out: StanData = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) out[k] = convert(v, k, file) as number | unknown[];
  return out;
}

/** Reads a Stan JSON data file. */
export function readStanJson(path: string): StanData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ParseError(`cannot read the data file (${(e as NodeJS.ErrnoException).code ?? 'error'})`, undefined, path);
  }
  return parseStanJson(text, path);
}
