import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../src/core/atomicWrite.js';
import { ensureOutputDir } from '../src/cli/outputDir.js';
import { UsageError } from '../src/cli/command.js';

describe('atomic output', () => {
  it('replaces a file whole and leaves no temporary files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-atomic-'));
    const f = join(dir, 'out.json');
    await writeFile(f, 'old');
    await writeJsonAtomic(f, { a: 1 });
    expect(JSON.parse(await readFile(f, 'utf8'))).toEqual({ a: 1 });
    await writeFileAtomic(f, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(f))]).toEqual([1, 2, 3]);
    expect(await readdir(dir)).toEqual(['out.json']);
  });
  it('cleans up and rethrows when the rename fails, keeping the old file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-atomic-'));
    const sub = join(dir, 'isdir');
    await ensureOutputDir(sub);
    await writeFile(join(sub, 'keep'), 'x');
    // Renaming a file over a non-empty directory fails (EISDIR/ENOTEMPTY).
    await expect(writeFileAtomic(sub, 'data')).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['isdir']);
    expect(await readFile(join(sub, 'keep'), 'utf8')).toBe('x');
  });
  it('ensureOutputDir creates nested folders and rejects impossible ones with a UsageError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-atomic-'));
    expect(await ensureOutputDir(join(dir, 'a', 'b'))).toBe(join(dir, 'a', 'b'));
    await writeFile(join(dir, 'file'), '');
    await expect(ensureOutputDir(join(dir, 'file', 'x'))).rejects.toBeInstanceOf(UsageError);
    await expect(ensureOutputDir(join(dir, 'file'))).rejects.toThrow(/not a directory/);
  });
});
