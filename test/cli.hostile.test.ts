/**
 * Careless and hostile use of the CLI (issue 10): sizes that cannot fit, outputs that would
 * destroy inputs, damaged flow files, re-runs into the same folder, a late Ctrl-C, a full disk.
 * Each must end in one line on stderr with exit code 2 (or the documented code), never a stack
 * trace, a lost file or a NaN in an output.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cliRun.js';
import { outputError, writeFileAtomic, OutputError } from '../src/core/atomicWrite.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `fs-hostile-${p}-`));

/** Exit code 2 and one user-facing line (progress lines aside). */
function expectOneLineError(r: { code: number; err: string[] }, pattern: RegExp): void {
  expect(r.code, r.err.join('\n')).toBe(2);
  const lines = r.err.filter((l) => /^flowsampler /.test(l));
  expect(lines, r.err.join('\n')).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.err.join('\n')).not.toMatch(/\n\s+at |Error: /);
}

describe('sizes are checked before allocating', () => {
  it('huge targets, draws and batches fail at once with the memory they would need', async () => {
    const dir = tmp('sizes');
    expectOneLineError(await runCli(['compare', '--target', 'gaussian:dim=1000000000', '--samplers', 'nuts', '--out', dir]), /dim = 1000000000 would need [\d.]+ (GB|TB) of JavaScript heap/);
    expectOneLineError(await runCli(['compare', '--target', 'ring:modes=1e9', '--samplers', 'nuts', '--out', dir]), /ring with modes = 1000000000 would need/);
    expectOneLineError(await runCli(['compare', '--target', 'banana', '--samplers', 'iaf,nuts', '--draws', '1e9', '--out', dir]), /compare: 4 chains x 1000000000 draws x dim 2 needs an array of/);
    expectOneLineError(await runCli(['train', '--target', 'banana', '--batch', '1e8', '--out', join(dir, 'f.json')]), /flow training with batch 100000000 in dim 2 would need [\d.]+ GB of tensor memory/);
    expectOneLineError(await runCli(['compare', '--target', 'illgauss:dim=100000', '--samplers', 'nuts', '--out', dir]), /illgauss with dim = 100000 needs an array of 10000000000 elements/);
  });

  it('a sampler that cannot fit is a failed row; when every sampler failed, compare exits 2', async () => {
    const dir = tmp('allfail');
    const r = await runCli(['compare', '--target', 'gaussian:dim=1e5', '--samplers', 'rwm', '--draws', '10', '--chains', '1', '--no-png', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/rwm: failed: rwm: its dense 100000 x 100000 proposal covariance needs an array/);
    expect(r.err[r.err.length - 1]).toBe('flowsampler compare: every sampler failed (1); see the lines above');
  });

  it('a flow file whose config claims huge layers fails before allocating them', async () => {
    const dir = tmp('hidden');
    const flowFile = join(dir, 'flow.json');
    expect((await runCli(['train', '--target', 'banana', '--steps', '3', '--batch', '16', '--layers', '1', '--seed', '1', '--method', 'reverse-kl', '--out', flowFile])).code).toBe(0);
    const doc = JSON.parse(readFileSync(flowFile, 'utf8'));
    const iaf = doc.architecture.find((l: { type: string }) => l.type === 'autoregressive');
    iaf.config.hidden = [1e8, 1e8];
    writeFileSync(flowFile, JSON.stringify(doc));
    const t0 = performance.now();
    expectOneLineError(await runCli(['sample', '--flow', flowFile, '--out', join(dir, 'd.csv')]), /layer \d \(autoregressive\): its config \(dim 2, hidden \[100000000, 100000000\]\) needs at least [\d.]+ PB of weights, but the file holds/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('outputs never destroy inputs or mix runs', () => {
  it('sample --out naming the --flow file is refused; train --out naming a directory is refused before training', async () => {
    const dir = tmp('out');
    const flowFile = join(dir, 'flow.json');
    expect((await runCli(['train', '--target', 'banana', '--steps', '3', '--batch', '16', '--layers', '1', '--out', flowFile])).code).toBe(0);
    const before = readFileSync(flowFile, 'utf8');
    expectOneLineError(await runCli(['sample', '--flow', flowFile, '--out', flowFile.replace(/\.json$/, '.json')]), /--out .* is the --flow file itself/);
    expect(readFileSync(flowFile, 'utf8')).toBe(before);
    mkdirSync(join(dir, 'adir'));
    const t0 = performance.now();
    expectOneLineError(await runCli(['train', '--target', 'banana', '--steps', '100000', '--out', join(dir, 'adir')]), /--out .*adir is a directory; give the flow's file name/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('sample refuses to write NaN rows from a flow whose weights overflow', async () => {
    const dir = tmp('nan');
    const flowFile = join(dir, 'flow.json');
    expect((await runCli(['train', '--target', 'banana', '--steps', '3', '--batch', '16', '--layers', '1', '--out', flowFile])).code).toBe(0);
    const doc = JSON.parse(readFileSync(flowFile, 'utf8'));
    // Every weight of one MADE matrix at 3e38: finite, valid float32, and overflowing in the first layer.
    const w = doc.weights.find((x: { shape: number[] }) => x.shape[0] > 1);
    const n = w.shape[0] * w.shape[1];
    w.data = Buffer.from(new Float32Array(n).fill(3e38).buffer).toString('base64');
    writeFileSync(flowFile, JSON.stringify(doc));
    const out = join(dir, 'draws.csv');
    expectOneLineError(await runCli(['sample', '--flow', flowFile, '--n', '1000', '--out', out]), /the flow produced non-finite draws or log q in \d+ of 1000 rows .*nothing was written/);
    expect(existsSync(out)).toBe(false);
  });

  it("re-running compare into the same --out removes the earlier run's draw files", async () => {
    const dir = tmp('rerun');
    const base = ['compare', '--target', 'banana', '--draws', '50', '--warmup', '50', '--no-png', '--seed', '1', '--out', dir];
    expect((await runCli([...base, '--samplers', 'rwm,nuts', '--chains', '3'])).code).toBe(0);
    expect(readdirSync(join(dir, 'draws')).sort()).toEqual(['banana_nuts_1.csv', 'banana_nuts_2.csv', 'banana_nuts_3.csv', 'banana_rwm_1.csv', 'banana_rwm_2.csv', 'banana_rwm_3.csv']);
    writeFileSync(join(dir, 'draws', 'mine.csv'), 'a user file, not ours\n');
    expect((await runCli([...base, '--samplers', 'nuts', '--chains', '2'])).code).toBe(0);
    expect(readdirSync(join(dir, 'draws')).sort()).toEqual(['banana_nuts_1.csv', 'banana_nuts_2.csv', 'mine.csv']);
    const res = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(res.outputs).toEqual(expect.arrayContaining(['results.json', 'report.html', join('draws', 'banana_nuts_1.csv')]));
  });
});

describe('train reports what happened', () => {
  it('steps actually run, why training stopped, and an ESS/N from 10000 draws', async () => {
    const dir = tmp('train');
    const flowFile = join(dir, 'flow.json');
    const r = await runCli(['train', '--target', 'banana', '--steps', '100000', '--max-seconds', '0.5', '--batch', '64', '--layers', '1', '--method', 'reverse-kl', '--out', flowFile]);
    expect(r.code, r.err.join('\n')).toBe(0);
    const m = /^trained banana iaf flow: (\d+) of 100000 steps in [\d.]+ s \(stopped on the 0.5 s time budget\)/.exec(r.out[0]);
    expect(m, r.out[0]).not.toBeNull();
    expect(r.out[1]).toMatch(/^importance check on 10000 fresh draws: ESS\/N [\d.]+, PSIS k-hat/);
    const saved = JSON.parse(readFileSync(flowFile, 'utf8')).training;
    expect(saved.stepsRun).toBe(Number(m![1]));
    expect(saved.requestedSteps).toBe(100000);
    expect(saved.stoppedBy).toBe('time');
    expect(saved.check.draws).toBe(10000);
  });
});

describe('Ctrl-C and the disk', () => {
  it('a Ctrl-C after the last sampler finished still exits 130 (files complete)', async () => {
    const dir = tmp('late');
    const ac = new AbortController();
    const r = await runCli(['compare', '--target', 'banana', '--samplers', 'rwm', '--draws', '50', '--warmup', '50', '--no-png', '--out', dir], {
      signal: ac.signal,
      onErr: (l) => {
        if (/banana\/rwm done in/.test(l)) ac.abort();
      },
    });
    expect(r.code).toBe(130);
    const res = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(res.interrupted).toBe(true);
    expect(res.targets[0].rows[0].sampler).toBe('rwm');
  });

  it('write errors are one line naming the file and the reason', () => {
    const e = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const mapped = outputError('/x/results.json', e);
    expect(mapped).toBeInstanceOf(OutputError);
    expect((mapped as Error).message).toBe('cannot write /x/results.json: no space left on the device (ENOSPC)');
    const bug = new TypeError('not an I/O error');
    expect(outputError('/x', bug)).toBe(bug);
  });

  // A real full disk: a 64 kB tmpfs (needs root, as CI runs; skipped with a message otherwise).
  const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
  it.skipIf(!canMount)('a full disk: compare ends with one line and leaves no temporary files', async () => {
    const dir = tmp('full');
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    if (m.status !== 0) {
      console.warn(`cli.hostile: could not mount a tmpfs (${String(m.stderr).trim()}); full-disk test skipped`);
      return;
    }
    try {
      await expect(writeFileAtomic(join(dir, 'big'), 'x'.repeat(200_000))).rejects.toThrow(/^cannot write .*big: no space left on the device \(ENOSPC\)$/);
      const r = await runCli(['compare', '--target', 'banana', '--samplers', 'rwm', '--draws', '2000', '--chains', '4', '--warmup', '50', '--no-png', '--out', dir]);
      expectOneLineError(r, /cannot write .*: no space left on the device \(ENOSPC\)/);
      const leftovers = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.tmp'));
      expect(leftovers).toEqual([]);
    } finally {
      spawnSync('umount', [dir]);
    }
  });
});
