/**
 * Issue 13 in the CLI: `compare` with smc on a target with known modes (mode counts in the table,
 * results.json and report; the coverage check of the flow), and `train` with its coverage check.
 * Deterministic plumbing checks at small budgets; the statistical behaviour of the check is in
 * test/diagnostics.coverage.test.ts and, on trained default flows, test/coverage.quality.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cliRun.js';

describe('compare and train on multimodal targets', () => {
  it('compare shows log Z, modes visited and coverage; results.json and the report carry them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-mm-'));
    const r = await runCli(['compare', '--target', 'mix1d', '--samplers', 'iaf,nuts,smc,rejection', '--draws', '200', '--chains', '2', '--warmup', '200', '--train-steps', '60', '--batch', '128', '--seed', '3', '--out', dir, '--no-png']);
    expect(r.code, r.err.join('\n')).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/log Z\s+modes\s+coverage/);
    expect(text).toMatch(/^rejection .* 2\/2 /m);
    expect(text).toMatch(/^smc .*± .* 2\/2 /m);
    expect(text).toMatch(/^coverage: /m);
    const res = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    const t = res.targets[0];
    const rows = Object.fromEntries(t.rows.map((row: { sampler: string }) => [row.sampler, row]));
    expect(rows.smc.logZ).not.toBeNull();
    expect(rows.smc.logZSe).toBeGreaterThan(0);
    expect(rows.smc.modes).toBe(2);
    expect(rows.nuts.logZ).toBeNull();
    expect(['ok', 'missed', 'thin', 'missed+thin', 'unclear']).toContain(rows.iaf.coverage);
    expect(rows.nuts.coverage ?? null).toBeNull();
    expect(t.modeCounts.rejection.reduce((a: number, b: number) => a + b, 0)).toBe(400);
    // Two SMC runs are too few for its standard error: the check used training's SMC pilot.
    expect(t.coverage.reference.source).toMatch(/^smc \(training pilot, /);
    expect(t.coverage.probe.source).toMatch(/nuts \(this run/);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('data-figure="density-x1"');
    expect(html).toContain('coverage: ');
  });

  it('train checks coverage (unless --no-coverage) and saves it with the flow', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-mmtrain-'));
    const flow = join(dir, 'flow.json');
    const r = await runCli(['train', '--target', 'ring', '--steps', '60', '--batch', '128', '--seed', '2', '--out', flow]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out.join('\n')).toMatch(/^coverage: /m);
    const doc = JSON.parse(await readFile(flow, 'utf8'));
    // auto's SMC pilot is the check's reference (no second SMC run).
    expect(doc.training.coverage.reference.source).toMatch(/^smc \(training pilot, 10 runs x 1000 particles\)/);
    expect(typeof doc.training.coverage.flagged).toBe('boolean');
    const q = await runCli(['train', '--target', 'ring', '--steps', '20', '--batch', '64', '--no-coverage', '--out', flow]);
    expect(q.code).toBe(0);
    expect(q.out.join('\n')).not.toMatch(/^coverage: /m);
    // Without the check, reverse KL trains (auto needs it) and the summary says the flow may miss modes.
    expect(q.out.join('\n')).toMatch(/^warning: coverage not checked \(--no-coverage\): reverse KL is mode-seeking/m);
    expect(JSON.parse(await readFile(flow, 'utf8')).training.coverage).toBeUndefined();
  });
});
