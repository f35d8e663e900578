/**
 * Re-running `compare` into the same --out must not leave the old run's draws beside the new
 * ones (`diagnose DIR/draws/*.csv` would then mix two runs). results.json lists every file a run
 * wrote (`outputs`); at the end of the next run, the files of that list which the new run did
 * not rewrite are removed. Draw files from runs before that list existed are recognised by their
 * first line. Nothing outside DIR is ever touched, and nothing flowsampler did not write.
 */
import { readFile, readdir, unlink } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';

/** CmdStan CSV files written by flowsampler start with this line (src/io/stanCsv.ts). */
const DRAWS_HEADER = '# flowsampler: draws in CmdStan CSV layout';

function inside(dir: string, rel: unknown): string | null {
  if (typeof rel !== 'string' || rel === '' || isAbsolute(rel)) return null;
  const abs = resolve(dir, normalize(rel));
  const r = relative(dir, abs);
  return r && !r.startsWith('..') && !isAbsolute(r) && !r.split(sep).includes('..') ? abs : null;
}

/** Absolute paths of the files an earlier run recorded in DIR/results.json, plus old flowsampler draw files. */
export async function previousOutputs(dir: string): Promise<string[]> {
  const out = new Set<string>();
  try {
    const doc = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as { outputs?: unknown; targets?: { files?: unknown }[] };
    const lists = [doc.outputs, ...(Array.isArray(doc.targets) ? doc.targets.map((t) => t?.files) : [])];
    for (const list of lists) {
      if (!Array.isArray(list)) continue;
      for (const f of list) {
        const abs = inside(dir, f);
        if (abs) out.add(abs);
      }
    }
  } catch {
    // no earlier run, or not ours
  }
  try {
    for (const name of await readdir(join(dir, 'draws'))) {
      if (!name.endsWith('.csv')) continue;
      const file = join(dir, 'draws', name);
      const head = (await readFile(file, 'utf8').catch(() => '')).slice(0, DRAWS_HEADER.length);
      if (head === DRAWS_HEADER) out.add(file);
    }
  } catch {
    // no draws folder
  }
  return [...out];
}

/** Removes the earlier run's files that this run did not write; returns what was removed. */
export async function removeStaleOutputs(dir: string, previous: string[], written: string[]): Promise<string[]> {
  const keep = new Set(written.map((f) => resolve(f)));
  const removed: string[] = [];
  for (const f of previous) {
    if (keep.has(resolve(f)) || !inside(dir, relative(dir, f))) continue;
    try {
      await unlink(f);
      removed.push(f);
    } catch {
      // already gone
    }
  }
  return removed;
}
