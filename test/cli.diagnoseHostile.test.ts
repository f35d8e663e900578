/**
 * `diagnose` does not trust its input (issue 10): impossible sampler columns, values the
 * statistics cannot hold, quoted headers, the same chain twice; it streams files (no whole-file
 * string, which V8 caps near 512 MB) and stops on Ctrl-C.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { runCli } from './helpers/cliRun.js';
import { RandomStream } from '../src/core/random.js';
import { readStanCsvChains, readStanCsvChainsStreaming } from '../src/io/stanCsvFiles.js';

const dir = () => mkdtempSync(join(tmpdir(), 'fs-diag-hostile-'));

function chainCsv(seed: number, n: number, opts: { divergent?: (i: number) => number; big?: boolean } = {}): string {
  const rng = new RandomStream(seed);
  const lines = ['# sampler = test', 'lp__,divergent__,a,b'];
  for (let i = 0; i < n; i++) lines.push(`0,${opts.divergent ? opts.divergent(i) : 0},${rng.normal()},${opts.big && i === 3 ? '1e308' : rng.normal()}`);
  return lines.join('\n') + '\n';
}

describe('diagnose and hostile CSV files', () => {
  it('a divergent__ count other than 0 or 1 is an error naming file and line', async () => {
    const d = dir();
    const f = join(d, 'neg.csv');
    writeFileSync(f, chainCsv(1, 20, { divergent: (i) => (i === 5 ? -3 : 0) }));
    const r = await runCli(['diagnose', f]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`flowsampler diagnose: ${f}:8: column 'divergent__' is -3: it must be 0 or 1 (one transition per row)`]);
  });

  it('values that would overflow the statistics are an error, not Infinity in the table', async () => {
    const d = dir();
    const f = join(d, 'big.csv');
    writeFileSync(f, chainCsv(1, 20, { big: true }));
    const r = await runCli(['diagnose', f]);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/big\.csv:6: column 'b' is 1e\+308: values beyond ±1e\+150 overflow the statistics/);
  });

  it('quoted headers and values are read as names and numbers', async () => {
    const d = dir();
    const f = join(d, 'quoted.csv');
    const rng = new RandomStream(3);
    writeFileSync(f, ['"lp__","theta.1","say ""hi"""', ...Array.from({ length: 40 }, () => `"0","${rng.normal()}",${rng.normal()}`)].join('\n'));
    const { draws } = readStanCsvChains([f]);
    expect(draws.paramNames).toEqual(['theta.1', 'say "hi"']);
    const r = await runCli(['diagnose', f]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out.join('\n')).toMatch(/^theta\.1\s/m);
  });

  it('the same file twice is an error; an identical copy is an input warning (exit 1 under --strict)', async () => {
    const d = dir();
    const a = join(d, 'a.csv');
    const b = join(d, 'b.csv');
    writeFileSync(a, chainCsv(1, 400));
    copyFileSync(a, b);
    const twice = await runCli(['diagnose', a, join(d, '.', 'a.csv')]);
    expect(twice.code).toBe(2);
    expect(twice.err[0]).toMatch(/the same file is given twice/);
    const copy = await runCli(['diagnose', a, b]);
    expect(copy.code).toBe(0);
    expect(copy.out.join('\n')).toMatch(/warning \[input\]: .*b\.csv has exactly the draws of .*a\.csv/);
    expect((await runCli(['diagnose', '--strict', a, b])).code).toBe(1);
  });

  it('divergences in the files are a warning', async () => {
    const d = dir();
    const f = join(d, 'div.csv');
    writeFileSync(f, chainCsv(2, 400, { divergent: (i) => (i % 50 === 0 ? 1 : 0) }));
    const r = await runCli(['diagnose', f]);
    expect(r.out.join('\n')).toMatch(/warning \[divergences\]: .*8 of 400 transitions after warm-up diverged \(2\.0 %\)/);
  });

  it('streams a file to the same result as the in-memory reader, and Ctrl-C stops a large one', async () => {
    const d = dir();
    const f = join(d, 'long.csv');
    const out = createWriteStream(f);
    out.write('lp__,a,b,c\n');
    const rng = new RandomStream(4);
    // About 2.5 MB: 50 000 rows, read in 1 MB chunks (lines cut at chunk boundaries).
    for (let k = 0; k < 5; k++) {
      const lines: string[] = [];
      for (let i = 0; i < 10_000; i++) lines.push(`0,${rng.normal()},${rng.normal()},${rng.normal()}`);
      if (!out.write(lines.join('\n') + '\n')) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const streamed = await readStanCsvChainsStreaming([f]);
    const inMemory = readStanCsvChains([f]);
    expect(streamed.draws.draws).toBe(50_000);
    expect(streamed.draws.values).toEqual(inMemory.draws.values);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const t0 = performance.now();
    const r = await runCli(['diagnose', f], { signal: ac.signal });
    expect(r.code).toBe(130);
    expect(performance.now() - t0).toBeLessThan(1500);
  });
});
