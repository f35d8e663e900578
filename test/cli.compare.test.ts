import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cliRun.js';
import { readStanCsvFiles } from '../src/io/stanCsvFiles.js';

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await allFiles(join(dir, e.name))).map((f) => join(e.name, f)));
    else out.push(e.name);
  }
  return out;
}

describe('flowsampler compare', () => {
  it('runs flow and MCMC samplers and writes results.json, CmdStan CSVs, report.html and PNGs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-compare-'));
    const r = await runCli([
      'compare', '--target', 'ring', '--samplers', 'iaf,imh,rwm,nuts,rejection', '--draws', '200', '--chains', '2',
      '--warmup', '200', '--train-steps', '40', '--batch', '64', '--seed', '7', '--out', dir,
      // Reverse KL only: the evaluation count below is its steps and checks (auto adds SMC: cli.trainMethod.test.ts).
      '--method', 'reverse-kl',
    ]);
    expect(r.code, r.err.join('\n')).toBe(0);
    const text = r.out.join('\n');
    for (const s of ['iaf', 'imh', 'rwm', 'nuts', 'rejection']) expect(text).toMatch(new RegExp(`^${s}\\s+\\d`, 'm'));
    expect(text).toContain(join(dir, 'report.html'));

    const files = await allFiles(dir);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]); // atomic writes leave nothing behind
    expect(files).toContain('results.json');
    expect(files).toContain('report.html');
    expect(files.filter((f) => f.startsWith('figures/') && f.endsWith('.png')).length).toBeGreaterThanOrEqual(5);

    const res = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(res.seed).toBe(7);
    expect(res.versions.flowsampler).toMatch(/^\d+\.\d+\.\d+/);
    expect(res.versions.node).toBe(process.version);
    expect(res.versions.tfjs).toMatch(/^4\./);
    expect(res.machine.cpuCount).toBeGreaterThan(0);
    expect(res.interrupted).toBe(false);
    const t = res.targets[0];
    expect(t.target.name).toBe('ring');
    const rows = Object.fromEntries(t.rows.map((row: { sampler: string }) => [row.sampler, row]));
    expect(Object.keys(rows)).toEqual(['iaf', 'imh', 'rwm', 'nuts', 'rejection']);
    for (const row of Object.values(rows) as Record<string, number | null>[]) {
      expect(row.essBulk).toBeGreaterThan(0);
      expect(row.rhat).toBeGreaterThan(0.9);
      expect(row.kl).not.toBeNull(); // the ring has an exact sampler
      expect(row.essPerSecond).toBeGreaterThan(0);
    }
    // Flows are charged their training: time and 40 steps x 64 density evaluations.
    expect(rows.iaf.trainTimeS).toBeGreaterThan(0);
    expect(rows.imh.trainTimeS).toBe(rows.iaf.trainTimeS);
    expect(rows.iaf.densityEvals).toBe(400 + 40 * 64);
    expect(rows.iaf.khat).not.toBeNull();
    expect(rows.nuts.khat).toBeNull();
    expect(rows.nuts.trainTimeS).toBe(0);
    // Exact draws from rejection: R-hat near 1 and the KL estimate near 0. Between two exact
    // samples of 400 ring draws the kNN estimate has mean ~0 and sd 0.096 (measured over 200
    // seeds), so 0.5 is > 5 sd (false-failure budget ~1e-7); losing half the modes costs log 2.
    expect(rows.rejection.rhat).toBeLessThan(1.05);
    expect(rows.rejection.kl).toBeLessThan(0.5);
    expect(t.training[0].points.length).toBeGreaterThan(2);

    // The CSVs are CmdStan-layout files our own reader (and R/Python tools) read back exactly.
    const csvs = t.files.filter((f: string) => f.includes('_nuts_')).map((f: string) => join(dir, f));
    expect(csvs).toHaveLength(2);
    const back = readStanCsvFiles(csvs);
    expect(back.chains).toBe(2);
    expect(back.draws).toBe(200);
    expect(back.dim).toBe(2);
    expect(res.targets[0].parameters.nuts[0].ess_bulk).toBeGreaterThan(0);

    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('Target: ring');
    expect((html.match(/class="vega-figure"/g) ?? []).length).toBe(5);
  });

  it('Ctrl-C keeps the samplers that finished, writes them and exits 130', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-abort-'));
    const ctl = new AbortController();
    const r = await runCli(
      ['compare', '--expr', '-0.5*(x1^2 + x2^2/4)', '--samplers', 'rwm,nuts,hmc', '--draws', '100', '--chains', '2', '--out', dir, '--no-png'],
      { signal: ctl.signal, onErr: (l) => { if (/\/rwm done/.test(l)) ctl.abort(); } },
    );
    expect(r.code).toBe(130);
    expect(r.err.some((l) => /interrupted/.test(l))).toBe(true);
    const res = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(res.interrupted).toBe(true);
    expect(res.targets[0].rows.map((x: { sampler: string }) => x.sampler)).toEqual(['rwm']);
    expect(res.targets[0].target.expression).toBe('-0.5*(x1^2 + x2^2/4)');
    expect((await stat(join(dir, 'report.html'))).size).toBeGreaterThan(1000);
  });

  it('train saves a flow that sample loads, writing draws with log q and log p', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-train-'));
    const flow = join(dir, 'flow.json');
    const t = await runCli(['train', '--target', 'banana', '--steps', '30', '--batch', '64', '--layers', '2', '--out', flow]);
    expect(t.code, t.err.join('\n')).toBe(0);
    const saved = JSON.parse(await readFile(flow, 'utf8'));
    expect(saved.dim).toBe(2);
    expect(saved.target.spec).toBe('banana');
    expect(saved.training.steps).toBe(30);

    const csv = join(dir, 'draws.csv');
    const s = await runCli(['sample', '--flow', flow, '--n', '50', '--seed', '3', '--out', csv]);
    expect(s.code, s.err.join('\n')).toBe(0);
    const lines = (await readFile(csv, 'utf8')).trim().split('\n').filter((l) => !l.startsWith('#'));
    expect(lines[0]).toBe('x1,x2,log_q,log_p,log_weight');
    expect(lines).toHaveLength(51);
    for (const l of lines.slice(1)) {
      const v = l.split(',').map(Number);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(v[4]).toBeCloseTo(v[3] - v[2], 8);
    }
    // Same seed, same draws; JSON output carries the same numbers.
    const json = join(dir, 'draws.json');
    await runCli(['sample', '--flow', flow, '--n', '50', '--seed', '3', '--out', json]);
    const j = JSON.parse(await readFile(json, 'utf8'));
    expect(j.draws).toHaveLength(50);
    expect(j.draws[0].x[0]).toBeCloseTo(Number(lines[1].split(',')[0]), 12);
  });
});
