/**
 * Atomic file output: every file flowsampler writes goes to a temporary file in the same
 * directory, is flushed to disk (fsync) and then renamed over the destination. A reader (or a
 * Ctrl-C, or a SIGKILL, at any moment) therefore sees either the old file or the complete new
 * one, never a torn one. rename(2) is atomic only within one file system, hence the temporary
 * file sits beside the target.
 *
 * A SIGKILL cannot be caught, so its temporary file stays behind: the name
 * `.<file>.<pid>.<random>.tmp` records the writer's process id, and the next write into the same
 * directory removes temporaries whose process is gone.
 *
 * Failures the user can fix (disk full, no permission, a directory where the file should go)
 * become an OutputError: one line naming the file and the reason.
 */
import { open, rename, unlink, mkdir, readdir } from 'node:fs/promises';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FlowsamplerError } from './errors.js';

/** A file could not be written for a reason outside the program (disk full, permissions, ...). */
export class OutputError extends FlowsamplerError {}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'the directory does not exist',
  EEXIST: 'a file of that name appeared meanwhile',
  ENOTEMPTY: 'a non-empty directory of that name is in the way',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the file name is too long',
  EFBIG: 'the file is too large for the file system',
  EIO: 'input/output error',
};

/** The user-facing error for a failed write of `path`, or `e` itself when it is not an I/O error. */
export function outputError(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && REASONS[code]) return new OutputError(`cannot write ${path}: ${REASONS[code]} (${code})`);
  return e;
}

function tmpName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Whether process `pid` still runs (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Our temporaries: `.<file>.<pid>.<8 hex>.tmp`. */
const TMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Names in `names` of temporaries whose writer is gone (any file of the directory: `path` only names it). */
function staleTemporaries(_path: string, names: string[]): string[] {
  return names.filter((n) => {
    const m = TMP_NAME.exec(n);
    return m !== null && !alive(Number(m[1]));
  });
}

/** Removes temporaries in `path`'s directory left by writers that were killed (see the file header). */
export async function removeStaleTemporaries(path: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const n of staleTemporaries(path, names)) await unlink(join(dirname(path), n)).catch(() => undefined);
}

/**
 * Writes `data` to `path` atomically (tmp file + fsync + rename); removes the tmp file on error.
 * `data` may be an iterable of strings (written piece by piece, so a large file never has to be
 * one string in memory).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<string>): Promise<void> {
  await removeStaleTemporaries(path);
  const tmp = tmpName(path);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx', 0o644);
    if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
    else {
      let buf = '';
      for (const piece of data) {
        buf += piece;
        if (buf.length >= 1 << 20) {
          await handle.write(buf);
          buf = '';
        }
      }
      if (buf) await handle.write(buf);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    if (handle) await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw outputError(path, e);
  }
}

/** writeFileAtomic for synchronous callers (e.g. saveFlow): same guarantees. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  try {
    for (const n of staleTemporaries(path, fs.readdirSync(dirname(path)))) fs.rmSync(join(dirname(path), n), { force: true });
  } catch {
    // the directory is missing: reported by the write below
  }
  const tmp = tmpName(path);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw outputError(path, e);
  }
}

/** Writes JSON (2-space indented, trailing newline) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** mkdir -p, then atomic write: for outputs in sub-folders such as DIR/figures/. */
export async function writeFileAtomicMkdir(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (e) {
    throw outputError(dirname(path), e);
  }
  await writeFileAtomic(path, data);
}
