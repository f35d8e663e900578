/**
 * `flowsampler diagnose` through main(): table and --json output, posterior's values on the
 * reference chains (test/fixtures/reference), and one-line errors with exit code 2.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { makeDraws } from '../src/core/draws.js';
import { RandomStream } from '../src/core/random.js';
import { writeStanCsv } from '../src/io/stanCsv.js';
import { referencePath } from './helpers/fixtures.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

/** Writes Draws as one CmdStan CSV per chain in a temp dir and returns the paths. */
function writeChains(values: Float64Array, chains: number, n: number, dim: number, names: string[]): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'flowsampler-diagnose-'));
  const draws = makeDraws({ sampler: 'test', chains, draws: n, dim, values, paramNames: names, wallTimeMs: 0, densityEvals: 0, gradEvals: 0, acceptance: 1 });
  return Array.from({ length: chains }, (_, c) => {
    const p = path.join(dir, `chain-${c + 1}.csv`);
    writeFileSync(p, writeStanCsv(draws, c));
    return p;
  });
}

describe('flowsampler diagnose', () => {
  it('prints a summary table with posterior column names', async () => {
    const rng = new RandomStream('cli');
    const values = rng.fillNormal(new Float64Array(4 * 200 * 2));
    const files = writeChains(values, 4, 200, 2, ['alpha', 'beta']);
    const { code, out } = await run(['diagnose', ...files]);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^4 chains x 200 draws, 2 parameters; sampler columns kept aside: lp__$/);
    expect(lines[1].split(/\s+/)).toEqual(['variable', 'mean', 'median', 'sd', 'mad', 'q5', 'q95', 'rhat', 'ess_bulk', 'ess_tail']);
    expect(lines[2]).toMatch(/^alpha\s/);
    expect(lines[3]).toMatch(/^beta\s/);
  });

  it('--json gives one object per variable with NaN as null', async () => {
    const rng = new RandomStream('cli-json');
    const n = 100;
    const values = new Float64Array(2 * n * 2);
    for (let i = 0; i < 2 * n; i++) {
      values[2 * i] = rng.normal();
      values[2 * i + 1] = 5; // constant: posterior gives NA diagnostics
    }
    const files = writeChains(values, 2, n, 2, ['x', 'k']);
    const { code, out } = await run(['diagnose', '--json', ...files]);
    expect(code).toBe(0);
    const rows = JSON.parse(out);
    expect(rows.length).toBe(2);
    expect(Object.keys(rows[0])).toEqual(['variable', 'mean', 'median', 'sd', 'mad', 'q5', 'q95', 'rhat', 'ess_bulk', 'ess_tail']);
    expect(rows[1]).toMatchObject({ variable: 'k', mean: 5, sd: 0, rhat: null, ess_bulk: null, ess_tail: null });
    expect(typeof rows[0].rhat).toBe('number');
  });

  const refDir = referencePath('diagnostics');
  it('reproduces posterior on the reference chains end to end', async () => {
    const ref = JSON.parse(readFileSync(path.join(refDir, 'reference.json'), 'utf8'));
    const c = ref.cases['ar1_rho0.9_4x1000'];
    const lines = readFileSync(path.join(refDir, c.input), 'utf8').trim().split('\n').slice(1);
    const m = 4;
    const n = lines.length;
    const values = new Float64Array(m * n);
    lines.forEach((l, i) => l.split(',').forEach((v, ch) => (values[ch * n + i] = Number(v))));
    const files = writeChains(values, m, n, 1, ['theta']);
    const { out } = await run(['diagnose', '--json', ...files]);
    const [row] = JSON.parse(out);
    for (const [k, want] of [['rhat', c.values.rhat], ['ess_bulk', c.values.ess_bulk], ['ess_tail', c.values.ess_tail], ['mean', c.extra.mean], ['sd', c.extra.sd]] as const) {
      expect(Math.abs(row[k] - want) / Math.abs(want), k).toBeLessThan(1e-6);
    }
  });

  it('errors are one line on stderr with exit code 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowsampler-diagnose-bad-'));
    const bad = path.join(dir, 'bad.csv');
    writeFileSync(bad, '# c\nlp__,x\n0,1\n0,1,2\n');
    let r = await run(['diagnose', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`flowsampler diagnose: ${bad}:4: expected 2 values (one per column), got 3\n`);
    r = await run(['diagnose']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/give at least one CmdStan CSV file/);
    r = await run(['diagnose', '--bogus', bad]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n').length).toBe(1);
    const short = path.join(dir, 'short.csv');
    writeFileSync(short, 'lp__,x\n0,1\n0,2\n0,3\n');
    r = await run(['diagnose', short]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/at least 4 draws per chain, got 3/);
  });
});
