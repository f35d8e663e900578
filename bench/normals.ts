/**
 * Normals per second: our RandomStream (seedrandom xor4096 + Box–Muller with the spare in the
 * stream state) against @stdlib/random-base-box-muller (its own MINSTD-based uniform generator),
 * in the same benchmark.js run. Also stdlib's transform driven by our uniforms, which separates
 * the cost of the uniform generator from that of the transform. Run alone with
 * `npx tsx bench/normals.ts`.
 */
import { pathToFileURL } from 'node:url';
import Benchmark from 'benchmark';
import randn from '@stdlib/random-base-box-muller';
import { RandomStream } from '../src/core/random.js';
import { machineInfo } from '../src/cli/runInfo.js';

const BLOCK = 1024;

/** Keys `*_per_s` are normals per second; `ratio_ours_fill_vs_stdlib` = ours (fillNormal) / stdlib. */
export async function benchNormals(options: { maxTime?: number } = {}): Promise<Record<string, number>> {
  const maxTime = options.maxTime ?? 1;
  const results: Record<string, number> = {};
  const buf = new Float64Array(BLOCK);
  let sink = 0;
  const ours = new RandomStream('bench-normals');
  const oursSingle = new RandomStream('bench-normals-single');
  const stdlib = randn.factory({ seed: 12345 });
  const bridge = new RandomStream('bench-normals-bridge');
  const stdlibOurUniform = randn.factory({ prng: () => bridge.uniform() });

  // Warm every path up first: a cold JIT on a loaded machine once gave stdlib a 199% rme.
  for (let r = 0; r < 200; r++) {
    ours.fillNormal(buf);
    for (let i = 0; i < BLOCK; i++) sink += oursSingle.normal() + stdlib() + stdlibOurUniform();
  }
  const suite = new Benchmark.Suite('normals');
  suite.add('ours_fillNormal_per_s', () => {
    ours.fillNormal(buf);
    sink += buf[0];
  }, { maxTime });
  suite.add('ours_normal_per_s', () => {
    for (let i = 0; i < BLOCK; i++) buf[i] = oursSingle.normal();
    sink += buf[1];
  }, { maxTime });
  suite.add('stdlib_box_muller_per_s', () => {
    for (let i = 0; i < BLOCK; i++) buf[i] = stdlib();
    sink += buf[2];
  }, { maxTime });
  suite.add('stdlib_box_muller_our_uniform_per_s', () => {
    for (let i = 0; i < BLOCK; i++) buf[i] = stdlibOurUniform();
    sink += buf[3];
  }, { maxTime });
  suite.on('cycle', (ev: Benchmark.Event) => {
    const b = ev.target as unknown as Benchmark;
    results[String(b.name)] = Math.round(b.hz * BLOCK);
    results[`${String(b.name)}_rme_pct`] = Number(b.stats.rme.toFixed(2));
  });
  suite.run({ async: false });
  results.ratio_ours_fill_vs_stdlib = Number((results.ours_fillNormal_per_s / results.stdlib_box_muller_per_s).toFixed(3));
  results.ratio_ours_single_vs_stdlib = Number((results.ours_normal_per_s / results.stdlib_box_muller_per_s).toFixed(3));
  if (sink === 0.123456789) console.log('');
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchNormals();
  console.log(JSON.stringify({ machine: machineInfo(), results: r }, null, 2));
}
