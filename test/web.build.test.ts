/** web/build.ts replaces an earlier playground build, never a folder that holds something else. */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWeb } from '../web/build.js';

describe('buildWeb', () => {
  it('refuses to empty a folder that is not a playground build', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-web-'));
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await expect(buildWeb(dir)).rejects.toThrow(/not empty and holds no earlier build/);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
