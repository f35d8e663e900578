/**
 * A flow of each non-default family saved by `train` loads in a fresh process (`sample --flow`): the layer
 * registry must not depend on what the training process happened to import.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from './helpers/cliRun.js';

const run = promisify(execFile);

describe('flows of every family through files (the default iaf: cli.train.test.ts)', () => {
  it('train --flow NAME saves a flow that sample --flow loads in a new process', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-families-'));
    for (const family of ['maf', 'coupling', 'spline']) {
      const file = join(dir, `${family}.json`);
      const t = await runCli(['train', '--target', 'banana', '--flow', family, '--steps', '20', '--all-steps', '--no-coverage', '--seed', '3', '--out', file]);
      expect(t.code, `${family}: ${t.err.join(' ')}`).toBe(0);
      const out = join(dir, `${family}.csv`);
      const { stderr } = await run(process.execPath, ['--import', 'tsx', 'test/helpers/cliProcess.ts', 'sample', '--flow', file, '--n', '200', '--seed', '1', '--out', out]);
      expect(stderr).not.toMatch(/Error|at /);
      const rows = (await readFile(out, 'utf8')).trim().split('\n').filter((l) => !l.startsWith('#'));
      expect(rows.length, family).toBe(201);
      const values = rows.slice(1).flatMap((r) => r.split(',').map(Number));
      expect(values.every(Number.isFinite), family).toBe(true);
    }
  });
});
