/** Paths of the reference data vendored in test/fixtures/reference (see its README.md). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const REFERENCE_DIR = path.resolve(import.meta.dirname, '..', 'fixtures', 'reference');

export function referencePath(...parts: string[]): string {
  return path.join(REFERENCE_DIR, ...parts);
}

/** A CSV matrix without header (one row per line) as a row-major Float64Array. */
export function readCsvMatrix(file: string): Float64Array {
  const rows = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  return Float64Array.from(rows.flatMap((r) => r.split(',').map(Number)));
}
