/** CmdStan CSV reading and writing: layout details, round trip, and errors naming file and line. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDraws } from '../src/core/draws.js';
import { DimensionError, NonFiniteError, ParseError } from '../src/core/errors.js';
import { RandomStream } from '../src/core/random.js';
import { readStanCsv, writeStanCsv } from '../src/io/stanCsv.js';
import { readStanCsvChains, readStanCsvFiles } from '../src/io/stanCsvFiles.js';

/** A chain file shaped like CmdStan 2.33 output (config comments, adaptation block, timing). */
function cmdstanText(seed: string, n: number, opts: { saveWarmup?: number; extraLine?: string } = {}): string {
  const rng = new RandomStream(seed);
  const lines = [
    '# stan_version_major = 2',
    '# model = bernoulli_model',
    '# method = sample (Default)',
    '#   sample',
    '#     num_samples = ' + n,
    '#     save_warmup = ' + (opts.saveWarmup ? 1 : 0),
    '#     algorithm = hmc (Default)',
    '#       hmc',
    '#         engine = nuts (Default)',
    'lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,theta,mu.1,mu.2',
  ];
  const row = (i: number) =>
    [-7 - rng.uniform(), rng.uniform().toFixed(6), 0.93, 1, 3, i === 2 ? 1 : 0, 7.5, rng.uniform(), rng.normal(), 2 + rng.normal()].join(',');
  for (let i = 0; i < (opts.saveWarmup ?? 0); i++) lines.push(row(-1));
  lines.push('# Adaptation terminated', '# Step size = 0.93', '# Diagonal elements of inverse mass matrix:', '# 0.51');
  for (let i = 0; i < n; i++) lines.push(row(i));
  if (opts.extraLine) lines.push(opts.extraLine);
  lines.push('# ', '#  Elapsed Time: 0.004 seconds (Warm-up)', '#                0.011 seconds (Sampling)', '');
  return lines.join('\n');
}

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'flowsampler-csv-'));
}

describe('readStanCsv', () => {
  it('skips comments, reads the header and draws, keeps config and drops saved warm-up', () => {
    const f = readStanCsv(cmdstanText('a', 50, { saveWarmup: 7 }), 'a.csv');
    expect(f.columns).toEqual(['lp__', 'accept_stat__', 'stepsize__', 'treedepth__', 'n_leapfrog__', 'divergent__', 'energy__', 'theta', 'mu.1', 'mu.2']);
    expect(f.draws.length).toBe(50);
    expect(f.warmupDraws.length).toBe(7);
    expect(f.config).toMatchObject({ model: 'bernoulli_model', engine: 'nuts', num_samples: '50', method: 'sample' });
    expect(f.draws[0][2]).toBe(0.93);
    expect(f.lines[0]).toBe(10 + 7 + 4 + 1);
  });

  it('malformed lines are ParseErrors naming the file and line', () => {
    expect(() => readStanCsv(cmdstanText('b', 5, { extraLine: '1,2,3' }), 'b.csv')).toThrow(ParseError);
    expect(() => readStanCsv(cmdstanText('b', 5, { extraLine: '1,2,3' }), 'b.csv')).toThrow(/^b\.csv:20: expected 10 values \(one per column\), got 3$/);
    expect(() => readStanCsv('a,b\n1,x2\n', 'c.csv')).toThrow(/c\.csv:2: column 'b': 'x2' is not a number/);
    expect(() => readStanCsv('a,b\n1,\n', 'c.csv')).toThrow(/c\.csv:2: column 'b': '' is not a number/);
    expect(() => readStanCsv('# only comments\n', 'd.csv')).toThrow(/d\.csv: no header line/);
    expect(() => readStanCsv('a,b\n', 'e.csv')).toThrow(/e\.csv: the file has a header but no draws/);
    expect(() => readStanCsv('a,a\n1,2\n', 'f.csv')).toThrow(/f\.csv:1: duplicate column 'a'/);
  });

  it('reads nan/inf spellings of CmdStan as non-finite numbers', () => {
    const f = readStanCsv('lp__,x\nnan,1\n-inf,inf\n', 'g.csv');
    expect(f.draws[0][0]).toBeNaN();
    expect(f.draws[1][0]).toBe(-Infinity);
    expect(f.draws[1][1]).toBe(Infinity);
  });
});

describe('readStanCsvFiles', () => {
  it('one file per chain; sampler columns kept aside; acceptance and divergences from them', () => {
    const dir = tmp();
    const paths = ['1', '2', '3'].map((c) => {
      const p = path.join(dir, `chain${c}.csv`);
      writeFileSync(p, cmdstanText(`chain${c}`, 40));
      return p;
    });
    const { draws, samplerColumns } = readStanCsvChains(paths);
    expect(draws.chains).toBe(3);
    expect(draws.draws).toBe(40);
    expect(draws.paramNames).toEqual(['theta', 'mu.1', 'mu.2']);
    expect(draws.sampler).toBe('stan-nuts');
    expect(draws.target).toBe('bernoulli_model');
    expect(Object.keys(samplerColumns)).toContain('lp__');
    expect(samplerColumns['accept_stat__'].length).toBe(3);
    expect(draws.divergences).toBe(3);
    expect(draws.acceptance).toBeGreaterThan(0);
    expect(draws.acceptance).toBeLessThan(1);
  });

  it('different lengths, columns, non-finite parameters and missing files are clear errors', () => {
    const dir = tmp();
    const a = path.join(dir, 'a.csv');
    const b = path.join(dir, 'b.csv');
    const c = path.join(dir, 'c.csv');
    const d = path.join(dir, 'd.csv');
    writeFileSync(a, cmdstanText('a', 30));
    writeFileSync(b, cmdstanText('b', 29));
    writeFileSync(c, cmdstanText('c', 30).replace('theta,mu.1', 'theta,nu.1'));
    writeFileSync(d, 'lp__,x\n0,1\n0,nan\n0,2\n0,3\n');
    expect(() => readStanCsvFiles([a, b])).toThrow(DimensionError);
    expect(() => readStanCsvFiles([a, b])).toThrow(/a\.csv has 30 draws, .*b\.csv has 29/);
    expect(() => readStanCsvFiles([a, c])).toThrow(/different columns: .*c\.csv: column 9 is 'nu\.1' there but 'mu\.1'/);
    expect(() => readStanCsvFiles([d])).toThrow(NonFiniteError);
    expect(() => readStanCsvFiles([d])).toThrow(/d\.csv:3: column 'x' is NaN/);
    expect(() => readStanCsvFiles([path.join(dir, 'nope.csv')])).toThrow(/nope\.csv: no such file/);
  });
});

describe('writeStanCsv', () => {
  it('round-trips values exactly through the CmdStan layout', () => {
    const rng = new RandomStream('rt');
    const chains = 2;
    const n = 25;
    const dim = 3;
    const values = rng.fillNormal(new Float64Array(chains * n * dim)).map((v, i) => (i % 7 === 0 ? v * 1e-12 : v * 1e6));
    const draws = makeDraws({
      sampler: 'rwm', target: 'banana', chains, draws: n, dim, values, paramNames: ['a', 'b', 'c.1'],
      wallTimeMs: 12, densityEvals: 1, gradEvals: 0, acceptance: 0.3,
    });
    const dir = tmp();
    const lp = Float64Array.from({ length: n }, (_, i) => -i / 3);
    const acc = Float64Array.from({ length: n }, (_, i) => i / n);
    const paths = [0, 1].map((c) => {
      const text = writeStanCsv(draws, c, { lp__: lp, accept_stat__: acc });
      const p = path.join(dir, `out-${c + 1}.csv`);
      writeFileSync(p, text);
      return p;
    });
    const text0 = writeStanCsv(draws, 0, { accept_stat__: acc, lp__: lp });
    expect(text0.split('\n').find((l) => !l.startsWith('#'))).toBe('lp__,accept_stat__,a,b,c.1');
    const { draws: back, samplerColumns } = readStanCsvChains(paths);
    expect(back.paramNames).toEqual(['a', 'b', 'c.1']);
    expect(Array.from(back.values)).toEqual(Array.from(values));
    expect(Array.from(samplerColumns['lp__'][1])).toEqual(Array.from(lp));
    expect(back.sampler).toBe('rwm');
    expect(back.target).toBe('banana');
  });

  it('writes lp__ = 0 when not recorded and rejects bad extras', () => {
    const draws = makeDraws({ sampler: 's', chains: 1, draws: 2, dim: 1, values: Float64Array.from([1, 2]), wallTimeMs: 0, densityEvals: 0, gradEvals: 0, acceptance: 1 });
    const rows = writeStanCsv(draws, 0).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(rows).toEqual(['lp__,x1', '0,1', '0,2']);
    expect(() => writeStanCsv(draws, 1)).toThrow(/chain must be an integer in \[0, 0\]/);
    expect(() => writeStanCsv(draws, 0, { stepsize: new Float64Array(2) })).toThrow(/must end in '__'/);
    expect(() => writeStanCsv(draws, 0, { stepsize__: new Float64Array(3) })).toThrow(/3 values for 2 draws/);
  });
});
