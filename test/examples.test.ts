/**
 * The examples run as a user runs them: `node examples/quickstart.mjs` and
 * `npx tsx examples/regression.ts` (a written-once model in TypeScript), importing the built
 * package by its name. They need dist/ (built by `npm install`/`npm ci` through the `prepare`
 * script); without it the tests are skipped with a message. (`npm run typecheck` covers the
 * TypeScript example's types.)
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(`${root}/dist/index.js`);
if (!built) console.warn("examples test skipped: dist/ is missing (run 'npm run build')");

describe('examples/quickstart.mjs', () => {
  it.skipIf(!built)('runs and the flow estimates log Z of the banana within 0.1', async () => {
    const { stdout } = await promisify(execFile)('node', ['examples/quickstart.mjs'], { cwd: root, timeout: 120_000 });
    expect(stdout).toMatch(/^nuts x1: mean/m);
    const m = stdout.match(/log Z (-?[\d.]+) ± ([\d.]+) \(exact ([\d.]+)\)/);
    expect(m, stdout).not.toBeNull();
    const [est, exact] = [Number(m![1]), Number(m![3])];
    expect(Math.abs(est - exact)).toBeLessThan(0.1);
  });
});

describe('examples/regression.ts', () => {
  it.skipIf(!built)('runs under tsx and NUTS recovers the posteriordb reference means', async () => {
    const tsx = `${root}/node_modules/.bin/tsx`;
    const { stdout } = await promisify(execFile)(tsx, ['examples/regression.ts'], { cwd: root, timeout: 120_000 });
    const ref = JSON.parse(readFileSync(`${root}/examples/posteriors/kidiq_interaction/reference.json`, 'utf8')).variables as Record<string, { mean: number; mcse_mean: number; sd: number }>;
    // Lines "NAME: mean M, sd S, R-hat R, ESS bulk E".
    const rows = new Map(
      stdout.trim().split('\n').map((line) => {
        const [name, rest] = line.split(': mean ');
        const [mean, , rhat, ess] = rest.split(/, sd |, R-hat |, ESS bulk /).map(Number);
        return [name, { mean, rhat, ess }] as const;
      }),
    );
    for (const name of ['beta[1]', 'beta[2]', 'beta[3]', 'beta[4]', 'sigma']) {
      const r = rows.get(name);
      expect(r, stdout).toBeDefined();
      expect(r!.rhat).toBeLessThan(1.01);
      // The posterior tests' rule: within 4·sqrt(mcse_ref² + sd²/ESS).
      expect(Math.abs(r!.mean - ref[name].mean)).toBeLessThan(4 * Math.sqrt(ref[name].mcse_mean ** 2 + ref[name].sd ** 2 / r!.ess));
    }
  });
});
