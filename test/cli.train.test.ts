/**
 * `flowsampler train`: the summary says how many steps ran and why training stopped, and judges
 * the proposal on 10 000 fresh draws; an interrupted run keeps a checkpoint in --out, and
 * `--resume` continues it to the same flow as an uninterrupted run at the same seed (bitwise).
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cliRun.js';

describe('flowsampler train', () => {
  it('reports the steps actually run and the stop reason; stops early on a usable proposal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-train-'));
    const out = join(dir, 'flow.json');
    // This test is about reverse KL's stop; `auto` would add an SMC pilot that it does not look at.
    const r = await runCli(['train', '--target', 'gaussian:dim=2', '--method', 'reverse-kl', '--steps', '3000', '--batch', '128', '--out', out]);
    expect(r.code, r.err.join('\n')).toBe(0);
    const line = r.out.join('\n');
    expect(line).toMatch(/(\d+) of 3000 steps in [\d.]+ s \(stopped early: a usable proposal/);
    expect(line).toMatch(/importance check on 10000 fresh draws: ESS\/N [\d.]+, PSIS k-hat -?[\d.]+/);
    const doc = JSON.parse(await readFile(out, 'utf8'));
    expect(doc.training.stoppedBy).toBe('usable');
    expect(doc.training.stepsRun).toBeLessThan(3000);
    expect(doc.training.check.draws).toBe(10000);
    // A directory as --out is refused before any training.
    await mkdir(join(dir, 'adir'));
    const bad = await runCli(['train', '--target', 'gaussian:dim=2', '--out', join(dir, 'adir')]);
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/is a directory/);
  });

  it('an interrupted run writes a checkpoint, and --resume gives the uninterrupted result bit for bit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-resume-'));
    const args = ['train', '--target', 'banana', '--steps', '300', '--batch', '64', '--all-steps', '--seed', '4', '--layers', '2', '--method', 'reverse-kl'];
    const full = await runCli([...args, '--out', join(dir, 'full.json')]);
    expect(full.code, full.err.join('\n')).toBe(0);
    const ctl = new AbortController();
    const part = join(dir, 'part.json');
    const cut = await runCli([...args, '--out', part], { signal: ctl.signal, onErr: (l) => /training \d+%/.test(l) && ctl.abort() });
    expect(cut.code).toBe(130);
    expect(cut.err.join('\n')).toMatch(/interrupted at step \d+ of 300: wrote .*part\.json; continue with: flowsampler train --resume/);
    const partial = JSON.parse(await readFile(part, 'utf8'));
    expect(partial.training.interrupted).toBe(true);
    expect(partial.training.checkpoint.step).toBeLessThan(300);
    const resumed = await runCli(['train', '--resume', part]);
    expect(resumed.code, resumed.err.join('\n')).toBe(0);
    const a = JSON.parse(await readFile(join(dir, 'full.json'), 'utf8'));
    const b = JSON.parse(await readFile(part, 'utf8'));
    expect(b.weights).toEqual(a.weights);
    expect(b.training.stepsRun).toBe(300);
    const noCheckpoint = await runCli(['train', '--resume', join(dir, 'nope.json')]);
    expect(noCheckpoint.code).toBe(2);
  });
});
