/**
 * The README's library example runs as a user runs it: `node examples/quickstart.mjs`, importing
 * the built package by its name. It needs dist/ (built by `npm install`/`npm ci` through the
 * `prepare` script); without it the test is skipped with a message.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
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
