/** The saved flow a command's `--flow FILE` names: read and parsed with one-line errors, and a guard against writing over it. */
import { readFile, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from './command.js';
import { ParseError } from '../core/errors.js';
import type { SavedFlow } from '../flows/serialize.js';

export async function readFlowArg(flowFile: string): Promise<SavedFlow> {
  let text: string;
  try {
    text = await readFile(flowFile, 'utf8');
  } catch (e) {
    throw new UsageError(`--flow ${flowFile}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text) as SavedFlow;
  } catch {
    throw new ParseError('not a JSON flow file', undefined, flowFile);
  }
}

/** Whether two paths name the same file (after links), e.g. an `--out` that is the `--flow` file. */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const ra = await realpath(a).catch(() => resolve(a));
  const rb = await realpath(b).catch(() => resolve(b));
  return ra === rb;
}
