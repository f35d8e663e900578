/**
 * `--model FILE --data FILE` in compare, train and sample: the draws come back on the
 * constrained scale with Stan's CSV column names; bad model or data files are one-line errors.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/cliRun.js';

const ES = fileURLToPath(new URL('../examples/posteriors/eight_schools_noncentered/', import.meta.url));
const model = join(ES, 'model.mjs');
const data = join(ES, 'data.json');

describe('--model / --data', () => {
  it('compare: constrained, Stan-named columns in the CSV and results.json', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fs-model-'));
    const r = await runCli(['compare', '--model', model, '--data', data, '--samplers', 'nuts', '--draws', '200', '--no-png', '--out', out]);
    expect(r.code, r.err.join('\n')).toBe(0);
    const csv = readFileSync(join(out, 'draws', readdirSync(join(out, 'draws')).find((f) => f.endsWith('_1.csv'))!), 'utf8');
    const header = csv.split('\n').find((l) => !l.startsWith('#'))!;
    expect(header.split(',')).toEqual(['lp__', ...Array.from({ length: 8 }, (_, i) => `theta_trans.${i + 1}`), 'mu', 'tau', ...Array.from({ length: 8 }, (_, i) => `theta.${i + 1}`)]);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const tau = res.targets[0].parameters.nuts.find((p: { variable: string }) => p.variable === 'tau');
    expect(tau.mean).toBeGreaterThan(0);
  });

  it('train then sample: a flow on the model, draws on the constrained scale', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-model-'));
    const flow = join(dir, 'flow.json');
    const t = await runCli(['train', '--model', model, '--data', data, '--steps', '50', '--method', 'reverse-kl', '--out', flow]);
    expect(t.code, t.err.join('\n')).toBe(0);
    const s = await runCli(['sample', '--flow', flow, '--n', '20', '--out', join(dir, 'd.csv')]);
    expect(s.code, s.err.join('\n')).toBe(0);
    const lines = readFileSync(join(dir, 'd.csv'), 'utf8').trim().split('\n').filter((l) => !l.startsWith('#'));
    expect(lines[0].split(',').slice(8, 11)).toEqual(['mu', 'tau', 'theta.1']);
    expect(lines[0].split(',').slice(-3)).toEqual(['log_q', 'log_p', 'log_weight']);
    const tauCol = lines[0].split(',').indexOf('tau');
    for (const l of lines.slice(1)) expect(Number(l.split(',')[tauCol])).toBeGreaterThan(0);
  });

  it('bad input is one line and exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-model-'));
    const notModel = join(dir, 'm.mjs');
    writeFileSync(notModel, 'export default 42;\n');
    const badData = join(dir, 'd.json');
    writeFileSync(badData, '{"J": 8, "y": "oops"}');
    for (const argv of [
      ['compare', '--model', join(dir, 'missing.mjs'), '--samplers', 'nuts'],
      ['compare', '--model', notModel, '--samplers', 'nuts'],
      ['compare', '--model', model, '--samplers', 'nuts'],
      ['compare', '--model', model, '--data', badData, '--samplers', 'nuts'],
      ['compare', '--data', data, '--samplers', 'nuts'],
      ['compare', '--model', model, '--target', 'banana', '--samplers', 'nuts'],
    ]) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toHaveLength(1);
    }
  });
});
