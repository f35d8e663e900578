/**
 * Output directories: created when missing and checked for writability *before* any long work
 * starts, so that a bad --out costs the user one line (exit 2), not an hour of sampling.
 */
import { mkdir, access, constants, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './command.js';

/** Creates `dir` (recursively) and checks it is a writable directory; returns its absolute path. */
export async function ensureOutputDir(dir: string, option = '--out'): Promise<string> {
  const abs = resolve(dir);
  try {
    const s = await stat(abs);
    if (!s.isDirectory()) throw new UsageError(`${option} ${dir} exists and is not a directory`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    try {
      await mkdirLevels(abs);
    } catch (m) {
      const code = (m as NodeJS.ErrnoException).code ?? 'error';
      throw new UsageError(`${option} ${dir}: cannot create the directory (${code})`);
    }
  }
  try {
    await access(abs, constants.W_OK);
  } catch {
    throw new UsageError(`${option} ${dir}: the directory is not writable`);
  }
  return abs;
}

/**
 * mkdir -p one level at a time. Node 20's `mkdir(path, { recursive: true })` never returns for a
 * path under /proc (it retries the parent forever), so a bad --out would hang instead of failing.
 */
async function mkdirLevels(abs: string): Promise<void> {
  const missing: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    try {
      await stat(p);
      break;
    } catch {
      missing.push(p);
      if (dirname(p) === p) break;
    }
  }
  for (const p of missing.reverse()) await mkdir(p);
}

/** Checks that `file` can be written as a file: not an existing directory (checked before long work). */
export async function ensureWritableFile(file: string, option = '--out'): Promise<string> {
  const abs = resolve(file);
  try {
    const s = await stat(abs);
    if (s.isDirectory()) throw new UsageError(`${option} ${file} is a directory; give the flow's file name, e.g. ${file}/flow.json`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  return abs;
}
