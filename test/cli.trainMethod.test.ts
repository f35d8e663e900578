/**
 * `--method` of `train` and `compare` (src/cli/trainMethod.ts, src/cli/flowTraining.ts): the
 * default 'auto' retrains mode-covering when reverse KL missed mass and says so; 'mode-covering'
 * gives a flow file that `sample` reads; bad values are one-line usage errors. On the 1-D mixture
 * N(±2, 0.5²) reverse KL sits on one mode (log Ẑ ≈ −0.69), so the checks below could fail.
 */
import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cliRun.js';

describe('train --method', () => {
  it('mode-covering covers both modes of the 1-D mixture; sample reads the flow', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-method-'));
    const flow = join(dir, 'flow.json');
    const r = await runCli(['train', '--target', 'mix1d', '--method', 'mode-covering', '--no-coverage', '--seed', '1', '--out', flow]);
    expect(r.code, r.err.join('\n')).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/trained .* mode-covering spline-coupling flow/);
    expect(text).not.toMatch(/coverage not checked/);
    const doc = JSON.parse(await readFile(flow, 'utf8'));
    expect(doc.training.method).toBe('mode-covering');
    expect(doc.training.checkpoint).toBeUndefined();
    expect(doc.training.modeCovering.smcLogZSe).toBeGreaterThan(0);
    // log Z = 0: within 5 standard errors of the 10 000-draw check, plus 0.01 for the fit.
    const { logZ, logZSe } = doc.training.check;
    expect(Math.abs(logZ)).toBeLessThan(5 * logZSe + 0.01);
    const csv = join(dir, 'd.csv');
    const s = await runCli(['sample', '--flow', flow, '--n', '2000', '--seed', '2', '--out', csv]);
    expect(s.code, s.err.join('\n')).toBe(0);
    const xs = (await readFile(csv, 'utf8')).trim().split('\n').filter((l) => !l.startsWith('#')).slice(1).map((l) => Number(l.split(',')[0]));
    expect(xs.length).toBe(2000);
    // The raw flow draws put about half their mass on each mode: binomial 5 SE of the 2000 draws,
    // plus 0.02 for the fitted flow's own imbalance (its exact share is not 1/2; the weighted
    // estimates are corrected, the raw draws are not).
    const right = xs.filter((x) => x > 0).length / xs.length;
    expect(Math.abs(right - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / xs.length) + 0.02);
  });

  it('auto (the default) retrains mode-covering when reverse KL missed a mode, and says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-auto-'));
    const flow = join(dir, 'flow.json');
    const r = await runCli(['train', '--target', 'mix1d', '--steps', '300', '--seed', '1', '--out', flow]);
    expect(r.code, r.err.join('\n')).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/^auto: reverse KL missed about \d+ % of the mass .* retrained mode-covering/m);
    const doc = JSON.parse(await readFile(flow, 'utf8'));
    expect(doc.training.method).toBe('mode-covering');
    expect(doc.training.notes[0]).toMatch(/^auto: /);
    // The final coverage check, against the SMC pilot (no second SMC run), passes the retrained flow.
    expect(doc.training.coverage.reference.source).toMatch(/^smc \(training pilot/);
    expect(doc.training.coverage.flagged).toBe(false);
    // The pilot's density evaluations are charged to training.
    expect(doc.training.densityEvals).toBeGreaterThan(10 * 1000);
  });

  it('refuses unknown methods and auto without the coverage check (exit 2, one line)', async () => {
    const bad = await runCli(['train', '--target', 'mix1d', '--method', 'bogus']);
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/--method: unknown training method 'bogus' \(use auto, reverse-kl, mode-covering\)/);
    const auto = await runCli(['compare', '--target', 'mix1d', '--method', 'auto', '--no-coverage']);
    expect(auto.code).toBe(2);
    expect(auto.err.join('\n')).toMatch(/--method auto needs the coverage check/);
  });
});
