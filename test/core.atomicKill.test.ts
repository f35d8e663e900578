/**
 * SIGKILL at any moment during a file write leaves either the previous file or the new one,
 * never a torn one (issue 10). A child process rewrites one 4 MB file in a loop (async and sync
 * writers in turn) and is killed at seeded random moments; after each kill the file must be one
 * complete version, and the next write must remove the temporaries the killed writer left.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { RandomStream } from '../src/core/random.js';
import { writeFileAtomic } from '../src/core/atomicWrite.js';

const SIZE = 4 << 20;
const child = join(import.meta.dirname, 'helpers', 'atomicWriter.mts');

function checkWhole(text: string): number {
  const m = /^v(\d+) (\d+)\n/.exec(text);
  expect(m, 'header').not.toBeNull();
  const k = Number(m![1]);
  expect(text.length).toBe(m![0].length + Number(m![2]) + `\nend v${k}\n`.length);
  expect(text.endsWith(`\nend v${k}\n`)).toBe(true);
  return k;
}

describe('atomic writes under SIGKILL', () => {
  it('the file is always a complete version, and stale temporaries are removed by the next write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-kill-'));
    const file = join(dir, 'results.json');
    writeFileSync(file, `v0 0\n\nend v0\n`);
    const rng = new RandomStream('atomic-kill');
    let midWrite = 0;
    let last = 0;
    const kills = 4;
    for (let i = 0; i < kills; i++) {
      const p = spawn(process.execPath, ['--import', 'tsx', child, file, String(SIZE)], { stdio: ['ignore', 'pipe', 'inherit'] });
      await once(p.stdout!, 'data');
      await new Promise((r) => setTimeout(r, 40 + 300 * rng.uniform()));
      p.kill('SIGKILL');
      await once(p, 'exit');
      const k = checkWhole(readFileSync(file, 'utf8'));
      expect(k).toBeGreaterThanOrEqual(i === 0 ? 0 : 1);
      last = k;
      const tmps = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
      expect(tmps.length).toBeLessThanOrEqual(1);
      if (tmps.length === 1) {
        midWrite++;
        expect(tmps[0]).toMatch(new RegExp(`^\\.results\\.json\\.${p.pid}\\.[0-9a-f]+\\.tmp$`));
      }
    }
    // The kills landed inside writes (where nearly all the child's time goes), not only between them.
    expect(midWrite).toBeGreaterThan(0);
    expect(last).toBeGreaterThan(0);
    await writeFileAtomic(file, `v9 0\n\nend v9\n`);
    expect(readdirSync(dir)).toEqual(['results.json']);
    expect(checkWhole(readFileSync(file, 'utf8'))).toBe(9);
  });
});
