/**
 * Atomic file output: every file flowsampler writes goes to a temporary file in the same
 * directory, is flushed to disk (fsync) and then renamed over the destination. A reader (or a
 * Ctrl-C half-way) therefore sees either the old file or the complete new one, never a torn one.
 * rename(2) is atomic only within one file system, hence the temporary file sits beside the target.
 */
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Writes `data` to `path` atomically (tmp file + fsync + rename); removes the tmp file on error. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx', 0o644);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    if (handle) await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Writes JSON (2-space indented, trailing newline) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** mkdir -p, then atomic write: for outputs in sub-folders such as DIR/figures/. */
export async function writeFileAtomicMkdir(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, data);
}
