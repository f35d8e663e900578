import { describe, it, expect } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { runCli } from './helpers/cliRun.js';

async function expectUsageError(argv: string[], pattern: RegExp): Promise<void> {
  const r = await runCli(argv);
  expect(r.code, argv.join(' ')).toBe(2);
  expect(r.err, argv.join(' ')).toHaveLength(1);
  expect(r.err[0]).toMatch(pattern);
  expect(r.err[0]).not.toMatch(/\n|    at /); // one line, no stack trace
}

describe('CLI arguments', () => {
  it('every command has --help', async () => {
    for (const cmd of ['demo', 'targets', 'compare', 'train', 'sample', 'diagnose']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.out.join('\n'), cmd).toMatch(/usage: flowsampler/);
    }
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['demo', 'targets', 'compare', 'train', 'sample']) expect(top.out.join('\n')).toContain(cmd);
  });

  it('targets lists the built-ins with their parameters', async () => {
    const r = await runCli(['targets']);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    for (const name of ['banana', 'funnel', 'ring', 'illgauss']) expect(text).toMatch(new RegExp(`^${name}\\s`, 'm'));
    expect(text).toMatch(/dim = 10/);
    const j = await runCli(['targets', '--json']);
    expect(JSON.parse(j.out.join('\n')).map((t: { name: string }) => t.name)).toContain('ring');
  });

  it('bad arguments give one line on stderr and exit code 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fs-args-'));
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await expectUsageError(['nonsense'], /unknown command 'nonsense'/);
    await expectUsageError(['compare', '--target', 'potato'], /potato/);
    await expectUsageError(['compare', '--target', 'banana', '--samplers', 'nuts,gibbs'], /unknown sampler 'gibbs'/);
    await expectUsageError(['train', '--target', 'banana', '--lu', '--no-lu'], /--lu and --no-lu contradict/);
    await expectUsageError(['compare', '--target', 'banana', '--samplers', 'nuts,nuts'], /twice/);
    await expectUsageError(['compare', '--target', 'banana', '--draws', 'many'], /--draws must be an integer/);
    await expectUsageError(['compare', '--target', 'banana', '--chains', '0'], /--chains must be an integer >= 1/);
    await expectUsageError(['compare', '--target', 'banana', '--draws', '1.5'], /--draws/);
    await expectUsageError(['compare', '--target', 'banana', '--draws', '-5'], /--draws must be an integer >= 4, got '-5'/);
    await expectUsageError(['compare', '--target', 'funnel:dim=-3'], /dim/);
    await expectUsageError(['compare'], /missing --target/);
    await expectUsageError(['compare', '--target', 'banana', '--expr', '-x1^2'], /not both/);
    await expectUsageError(['compare', '--expr', '-x1^2 +'], /expression|parse/i);
    await expectUsageError(['compare', '--target', 'banana', '--bogus'], /bogus/);
    await expectUsageError(['compare', '--target', 'banana', '--out', join(file, 'sub')], /cannot create the directory/);
    await expectUsageError(['compare', '--target', 'banana', '--out', file], /not a directory/);
    // Node's recursive mkdir never returns under /proc; ours must fail at once.
    if (existsSync('/proc/self')) {
      await expectUsageError(['compare', '--target', 'banana', '--out', '/proc/flowsampler-test/sub'], /cannot create the directory/);
    }
    await expectUsageError(['sample'], /missing --flow/);
    await expectUsageError(['sample', '--flow', join(dir, 'missing.json')], /cannot read/);
    await expectUsageError(['sample', '--flow', file, '--out', join(dir, 'x.txt')], /\.csv or \.json/);
    await expectUsageError(['train', '--target', 'banana', '--steps', '-5'], /--steps/);
  });
});
