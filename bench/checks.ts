/**
 * What the safety checks (target checks, draws warnings, streaming CSV) cost, side by side with the work they guard, in one run:
 * - `assertTarget` on 3 points (what a gradient sampler runs before it starts) against the NUTS
 *   run it guards (4 chains x 1000 draws, 1000 warm-up), as a ratio;
 * - `drawsWarnings` (R-hat and ESS of every parameter) against that NUTS run;
 * - reading CmdStan CSV: the streaming reader (what `diagnose` uses) against the in-memory one,
 *   rows per second and their ratio.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTargetSpec } from '../src/targets/registry.js';
import { assertTarget } from '../src/targets/checkTarget.js';
import { nuts } from '../src/samplers/nuts.js';
import { drawsWarnings } from '../src/diagnostics/drawsWarnings.js';
import { readStanCsvChains, readStanCsvChainsStreaming } from '../src/io/stanCsvFiles.js';
import { RandomStream } from '../src/core/random.js';

function timeIt(f: () => void, reps: number): number {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}

export async function benchChecks(opts: { quick?: boolean } = {}): Promise<unknown> {
  const draws = opts.quick ? 200 : 1000;
  const targets = ['banana', 'funnel', 'ring', 'illgauss'];
  const rows: Record<string, unknown>[] = [];
  for (const spec of targets) {
    const t = parseTargetSpec(spec);
    const rng = new RandomStream('bench-checks');
    const points = Array.from({ length: 3 }, () => Float64Array.from({ length: t.dim }, () => rng.normal()));
    const checkMs = timeIt(() => assertTarget(t, { points, paths: ['float64', 'gradient'], require: ['gradient'], shapes: false }), opts.quick ? 5 : 20);
    const t0 = performance.now();
    const d = await nuts(t, { seed: 1, chains: 4, draws, warmup: draws, checkTarget: false });
    const nutsMs = performance.now() - t0;
    const warnMs = timeIt(() => drawsWarnings(d), 3);
    rows.push({ target: spec, dim: t.dim, checkMs, nutsMs, checkShareOfNuts: checkMs / nutsMs, drawsWarningsMs: warnMs, warningsShareOfNuts: warnMs / nutsMs });
  }
  const dir = mkdtempSync(join(tmpdir(), 'fs-bench-csv-'));
  const n = opts.quick ? 50_000 : 400_000;
  const file = join(dir, 'chain.csv');
  const rng = new RandomStream('bench-csv');
  const lines = ['lp__,accept_stat__,a,b,c,d'];
  for (let i = 0; i < n; i++) lines.push(`0,0.9,${rng.normal()},${rng.normal()},${rng.normal()},${rng.normal()}`);
  writeFileSync(file, lines.join('\n') + '\n');
  let t0 = performance.now();
  readStanCsvChains([file]);
  const memMs = performance.now() - t0;
  t0 = performance.now();
  await readStanCsvChainsStreaming([file]);
  const streamMs = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  return {
    targets: rows,
    csv: { rows: n, inMemoryRowsPerSec: n / (memMs / 1000), streamingRowsPerSec: n / (streamMs / 1000), streamingOverInMemory: memMs / streamMs },
  };
}
