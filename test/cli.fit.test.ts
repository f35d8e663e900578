/**
 * `flowsampler fit` and `flowsampler score`: a CSV fitted and scored, the anomaly threshold saved
 * at fit time flags about its quantile of the fitted rows and every point moved far out of the
 * data's support; CmdStan CSV draws fit as they are; malformed files and bad options are one
 * line with exit 2; Ctrl-C saves the best flow so far and exits 130.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cliRun.js';
import { gaussianMixture } from '../src/targets/mixture.js';
import { RandomStream } from '../src/core/random.js';
import { makeDraws } from '../src/core/draws.js';
import { writeStanCsv } from '../src/io/stanCsv.js';

const FAST = ['--steps', '300', '--layers', '2', '--hidden', '16', '--max-seconds', '60'];

function clusters(n: number, seed: number): Float64Array {
  return gaussianMixture({ means: [[-3, 0], [3, 1]], sds: [[1, 0.5], [0.5, 1]] }).sampleExact!(n, new RandomStream(seed));
}

function csv(header: string, x: Float64Array, extra: (r: number) => string = () => ''): string {
  const lines = [header];
  for (let r = 0; r < x.length / 2; r++) lines.push(`${extra(r)}${x[2 * r]},${x[2 * r + 1]}`);
  return lines.join('\n') + '\n';
}

describe('flowsampler fit and score', () => {
  it('fits a CSV, saves the anomaly quantile, and score flags it and the points moved out of the support', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-fit-'));
    const data = join(dir, 'data.csv');
    await writeFile(data, csv('label,a,b', clusters(1000, 1), (r) => `"c${r % 2}",`));
    const flow = join(dir, 'flow.json');
    const r = await runCli(['fit', data, '--out', flow, ...FAST, '--anomaly-quantile', '0.02']);
    expect(r.code, r.err.join('\n')).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/1000 rows x 2 columns \(a, b\); text columns left out: label/);
    expect(text).toMatch(/NLL per row: training [\d.]+, validation [\d.]+/);
    // --flow auto (the default) fits both candidates on the same validation rows; the second replaces the first only when clearly better.
    expect(text).toMatch(/candidate coupling spline: validation NLL [\d.]+/);
    expect(text).toMatch(/candidate maf affine: validation NLL [\d.]+/);
    const doc = JSON.parse(await readFile(flow, 'utf8'));
    const nlls = doc.training.candidates.map((c: { validationNll: number }) => c.validationNll);
    expect(nlls).toHaveLength(2);
    const second = doc.training.candidates[1];
    expect(second.versusKept.against).toBe('coupling spline');
    expect(second.versusKept.replaced).toBe(second.versusKept.gain > 2 * second.versusKept.se);
    expect(doc.training.family).toBe(second.versusKept.replaced ? 'maf' : 'coupling');
    expect(doc.training.validationNll).toBe(nlls[second.versusKept.replaced ? 1 : 0]);
    expect(doc.target.data.columns).toEqual(['a', 'b']);
    expect(doc.training.anomaly.quantile).toBe(0.02);
    expect(doc.training.logDensityQuantiles).toHaveLength(1001);
    expect(doc.training.nTrain + doc.training.nValidation).toBe(1000);

    // Scoring the fitted rows flags the chosen share of them (the threshold is their quantile).
    const scores = join(dir, 'scores.csv');
    const s = await runCli(['score', '--flow', flow, data, '--out', scores]);
    expect(s.code, s.err.join('\n')).toBe(0);
    const rows = (await readFile(scores, 'utf8')).trim().split('\n');
    expect(rows[0]).toBe('row,log_density,anomaly');
    expect(rows).toHaveLength(1001);
    const flagged = rows.slice(1).filter((l) => l.endsWith(',1')).length;
    expect(flagged).toBeGreaterThanOrEqual(19);
    expect(flagged).toBeLessThanOrEqual(21);

    // New points: the columns in another order; 50 from the data's law, 50 moved 8 sds away.
    const fresh = clusters(50, 2);
    const far = clusters(50, 3).map((v, k) => (k % 2 === 0 ? v + (k % 4 === 0 ? 12 : -12) : v));
    const lines = ['b,a'];
    for (const x of [fresh, far]) for (let i = 0; i < 50; i++) lines.push(`${x[2 * i + 1]},${x[2 * i]}`);
    const newData = join(dir, 'new.csv');
    await writeFile(newData, lines.join('\n') + '\n');
    const s2 = await runCli(['score', '--flow', flow, newData, '--out', scores, '--quantile', '0.01']);
    expect(s2.code, s2.err.join('\n')).toBe(0);
    const flags = (await readFile(scores, 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',')[2]);
    expect(flags.slice(50).every((f) => f === '1')).toBe(true);
    // Of 50 fresh points a few may fall below the 1 % quantile (binomial: P(> 6) < 1e-4).
    expect(flags.slice(0, 50).filter((f) => f === '1').length).toBeLessThanOrEqual(6);
  });

  it('fits CmdStan CSV draws as they are (comments, warm-up and sampler columns skipped)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-fit-stan-'));
    const x = clusters(400, 4);
    const draws = makeDraws({ sampler: 'nuts', target: 't', chains: 1, draws: 400, dim: 2, values: x, paramNames: ['theta.1', 'theta.2'], wallTimeMs: 1, densityEvals: 1, gradEvals: 1, acceptance: 0.9 });
    const file = join(dir, 'chain1.csv');
    const body = writeStanCsv(draws, 0, { accept_stat__: new Float64Array(400).fill(0.9) });
    // A saved warm-up of 3 rows before the marker.
    const lines = body.split('\n');
    const h = lines.findIndex((l) => l.startsWith('lp__'));
    lines.splice(h + 1, 0, '0,0.5,99,99', '0,0.5,98,98', '0,0.5,97,97', '# Adaptation terminated');
    await writeFile(file, lines.join('\n'));
    const r = await runCli(['fit', file, '--out', join(dir, 'f.json'), ...FAST]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out.join('\n')).toMatch(/400 rows x 2 columns \(theta\.1, theta\.2\); sampler columns left out: lp__, accept_stat__; 3 warm-up rows skipped/);
  });

  it('malformed files and bad options: one line, exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-fit-bad-'));
    const cases: [string, RegExp][] = [
      ['1,2\n3,4\n', /expected a header line of column names, found the number '1'/],
      ['a,b\n1,2\n3\n', /:3: expected 2 values/],
      ['a,b\n1,2\n3,x\n4,5\n', /:3: column 'b': 'x' is not a number/],
      ['a,b\n1,2\n3,NA\n', /:3: column 'b' has a missing value \('NA'\); drop such rows with --drop-missing/],
      ['a,a\n1,2\n', /duplicate column 'a'/],
      ['a,b\n', /header \(line 1\) but no data rows/],
      ['', /the file is empty/],
      ['name,kind\nx,y\n', /no numeric columns \(text columns: name, kind/],
    ];
    for (const [i, [content, msg]] of cases.entries()) {
      const f = join(dir, `bad${i}.csv`);
      await writeFile(f, content);
      const r = await runCli(['fit', f, '--out', join(dir, 'f.json')]);
      expect(r.code, content).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(msg);
    }
    const good = join(dir, 'good.csv');
    await writeFile(good, csv('a,b', clusters(100, 5)));
    const bad: [string[], RegExp][] = [
      [['fit', join(dir, 'missing.csv')], /no such file/],
      [['fit', good, '--out', good], /one of the data files/],
      [['fit', good, '--flow', 'iaf'], /--flow must be auto, coupling or maf/],
      [['fit', good, '--transformer', 'affine'], /--transformer applies to --flow coupling or maf/],
      [['fit', good, '--validation', '0'], /--flow auto compares its candidates on the validation rows/],
      [['fit', good, '--flow', 'maf', '--weight-decay', '-1'], /--weight-decay must be a number >= 0/],
      [['fit', good, '--columns', 'a,zz'], /no column 'zz' \(columns: a, b\)/],
      [['fit', good, '--validation', '1'], /--validation must be in \[0, 1\)/],
      [['fit', good, '--input-bound', '-1'], /--input-bound must be a positive number or 'none'/],
      [['fit'], /missing DATA.csv/],
      [['score', good], /missing --flow/],
      [['score', '--flow', good, good], /not a JSON flow file/],
    ];
    for (const [argv, msg] of bad) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.join('\n')).toMatch(msg);
    }
    // A flow trained by reverse KL cannot score: it was not fitted to data.
    const f = join(dir, 'rk.json');
    await writeFile(f, JSON.stringify({ format: 'flowsampler-flow', version: 1, dim: 2, architecture: [], weights: [] }));
    const r = await runCli(['score', '--flow', f, good]);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/not fitted to data/);
  });

  it('a given family fits one flow, also without validation rows', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-fit-one-'));
    const data = join(dir, 'data.csv');
    await writeFile(data, csv('a,b', clusters(400, 8)));
    const out = join(dir, 'flow.json');
    const r = await runCli(['fit', data, '--out', out, ...FAST, '--flow', 'coupling', '--validation', '0']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out.join('\n')).not.toMatch(/candidate /);
    const doc = JSON.parse(await readFile(out, 'utf8'));
    expect(doc.training.candidates).toHaveLength(1);
    expect(doc.training.nValidation).toBe(0);
    expect(doc.training.family).toBe('coupling');
  });

  it('Ctrl-C saves the best flow so far, marked interrupted (exit 130)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-fit-int-'));
    const data = join(dir, 'data.csv');
    await writeFile(data, csv('a,b', clusters(2000, 6)));
    const out = join(dir, 'flow.json');
    const ctl = new AbortController();
    const r = await runCli(['fit', data, '--out', out, '--steps', '100000', '--layers', '2', '--hidden', '16', '--patience', '1000'], { signal: ctl.signal, onErr: (l) => /fitting .*\d+%/.test(l) && ctl.abort() });
    expect(r.code).toBe(130);
    expect(r.err.join('\n')).toMatch(/interrupted at step \d+: wrote the best flow so far/);
    const doc = JSON.parse(await readFile(out, 'utf8'));
    expect(doc.training.interrupted).toBe(true);
  });
});
