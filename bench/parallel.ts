/**
 * Scaling benches (the studies-at-scale bars), written to bench/results/parallel.json:
 * - nuts50Built: the same on the built package in a plain `node` process (the product's path);
 * - nuts50: 4 chains of NUTS on the 50-D ill-conditioned Gaussian, one thread against the pool
 *   with 2 workers (warm: threads started and their code compiled by a first run), repeated and
 *   interleaved so both see the same machine load; the draws must be identical;
 * - study: cells per minute of examples/study.yaml (3 targets x 7 samplers x 3 seeds) with 1 and
 *   2 workers, from a fresh folder each time;
 * - queue: BullMQ's own throughput with trivial jobs (enqueue, process, complete) on a local
 *   redis-server at a loopback port, with 1 and 2 worker processes' worth of concurrency.
 *
 *   npx tsx bench/parallel.ts [--reps 5] [--only nuts50,study,queue]
 */
import os from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { WorkerPool } from '../src/study/pool.js';
import { startTargetRuns } from '../src/study/parallelRun.js';
import { nuts } from '../src/samplers/nuts.js';
import { parseTargetSpec } from '../src/targets/registry.js';
import { parseSamplerList } from '../src/cli/samplerRegistry.js';
import { readStudyFile } from '../src/study/studySpec.js';
import { runStudy, poolExecutor } from '../src/study/studyRun.js';
import { isMain, optionValue } from './standalone.js';
import { machineTwoThreadSpeedup } from './machineScaling.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () => os.loadavg().map((v) => Math.round(v * 100) / 100);

export async function benchNuts50(reps: number, log: (l: string) => void) {
  const spec = 'illgauss:dim=50';
  const target = parseTargetSpec(spec);
  const budget = { seed: 1, chains: 4, draws: 1000, warmup: 1000 };
  const pool = new WorkerPool(2);
  const parallel = async () => {
    const runs = startTargetRuns(pool, { target, source: { kind: 'spec', spec }, baseDir: ROOT, samplers: parseSamplerList('nuts'), budget, train: {}, signal: new AbortController().signal, progress: () => ({ update() {}, stop() {} }) });
    return runs.draws('nuts');
  };
  try {
    await pool.warmUp();
    await parallel(); // compiles the kernels in both threads
    await nuts(target, budget); // and on this one
    const one: number[] = [];
    const two: number[] = [];
    // CPU time of all threads of this process: how much work each way costs, whatever the load.
    const cpuOne: number[] = [];
    const cpuTwo: number[] = [];
    const cpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    let identical = true;
    // Each rep also times plain arithmetic in 1 and 2 threads: what a second thread gives here and now.
    const machine: number[] = [];
    const loadBefore = load();
    for (let r = 0; r < reps; r++) {
      let c0 = cpu();
      let t0 = performance.now();
      const a = await nuts(target, budget);
      one.push(performance.now() - t0);
      cpuOne.push(cpu() - c0);
      c0 = cpu();
      t0 = performance.now();
      const b = await parallel();
      two.push(performance.now() - t0);
      cpuTwo.push(cpu() - c0);
      identical &&= Buffer.from(a.values.buffer).equals(Buffer.from(b.values.buffer)) && a.gradEvals === b.gradEvals;
      const m = await machineTwoThreadSpeedup();
      machine.push(m.speedup);
      log(`nuts50 rep ${r + 1}: 1 thread ${one[r].toFixed(0)} ms, 2 workers ${two[r].toFixed(0)} ms, ratio ${(one[r] / two[r]).toFixed(2)}; the machine's own 2-thread speed-up ${m.speedup.toFixed(2)}`);
    }
    const medianSpeedup = median(one) / median(two);
    const machineSpeedup = median(machine);
    const cpuRatio = median(cpuTwo) / median(cpuOne);
    const res = {
      oneThreadMs: one,
      twoWorkersMs: two,
      oneThreadCpuMs: cpuOne,
      twoWorkersCpuMs: cpuTwo,
      medianSpeedup,
      bestSpeedup: Math.min(...one) / Math.min(...two),
      /** CPU time of the pool run over the one-thread run's: the pool's extra work (1 = none). */
      cpuRatio,
      /** What 2 idle cores would give if the 4 chains split evenly: 2 / cpuRatio. */
      idleTwoCoreEstimate: 2 / cpuRatio,
      /** Per rep: plain arithmetic in 2 threads over 1 thread (machineScaling.ts), the machine's own ceiling. */
      machineSpeedups: machine,
      machineSpeedup,
      /** The pool's speed-up as a share of the machine's: 1 = all a second thread can give here. */
      shareOfMachine: medianSpeedup / machineSpeedup,
      identical,
      loadBefore,
      loadAfter: load(),
    };
    log(`nuts50: speedup ${res.medianSpeedup.toFixed(2)} (medians), ${res.bestSpeedup.toFixed(2)} (best of each); the machine's own 2-thread speed-up ${machineSpeedup.toFixed(2)} (median), so ${res.shareOfMachine.toFixed(2)} of it; CPU time ratio ${cpuRatio.toFixed(3)} -> ${res.idleTwoCoreEstimate.toFixed(2)}x on 2 idle cores; identical draws: ${identical}; load ${loadBefore.join(' ')} -> ${res.loadAfter.join(' ')}`);
    return res;
  } finally {
    await pool.close();
  }
}

/**
 * nuts50 again, on the built package (dist/) in a plain `node` process, as `npx flowsampler
 * compare --workers 2` runs it: under tsx, which runs these benches, one-thread NUTS ran 20-30 %
 * slower (bench/stanNuts.ts says more), so the tsx ratio need not be the product's.
 */
export async function benchNuts50Built(reps: number, log: (l: string) => void) {
  const dist = (f: string) => JSON.stringify(pathToFileURL(join(ROOT, 'dist', f)).href);
  if (!existsSync(join(ROOT, 'dist', 'study', 'pool.js'))) {
    log('nuts50Built: skipped (run `npm run build` first)');
    return { skipped: 'no dist/ (npm run build)' };
  }
  const code = `
    import { WorkerPool } from ${dist('study/pool.js')};
    import { startTargetRuns } from ${dist('study/parallelRun.js')};
    import { nuts } from ${dist('samplers/nuts.js')};
    import { parseTargetSpec } from ${dist('targets/registry.js')};
    import { parseSamplerList } from ${dist('cli/samplerRegistry.js')};
    const spec = 'illgauss:dim=50';
    const target = parseTargetSpec(spec);
    const budget = { seed: 1, chains: 4, draws: 1000, warmup: 1000 };
    const pool = new WorkerPool(2);
    const parallel = () => startTargetRuns(pool, { target, source: { kind: 'spec', spec }, baseDir: ${JSON.stringify(ROOT)}, samplers: parseSamplerList('nuts'), budget, train: {}, signal: new AbortController().signal, progress: () => ({ update() {}, stop() {} }) }).draws('nuts');
    await pool.warmUp();
    await parallel();
    await nuts(target, budget);
    const one = [], two = [];
    let identical = true;
    for (let r = 0; r < ${reps}; r++) {
      let t0 = performance.now();
      const a = await nuts(target, budget);
      one.push(performance.now() - t0);
      t0 = performance.now();
      const b = await parallel();
      two.push(performance.now() - t0);
      identical &&= Buffer.from(a.values.buffer).equals(Buffer.from(b.values.buffer));
    }
    await pool.close();
    console.log(JSON.stringify({ one, two, identical }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { timeout: 1_800_000, maxBuffer: 16 << 20 });
  const { one, two, identical } = JSON.parse(stdout.trim().split('\n').pop()!) as { one: number[]; two: number[]; identical: boolean };
  const res = { oneThreadMs: one, twoWorkersMs: two, medianSpeedup: median(one) / median(two), bestSpeedup: Math.min(...one) / Math.min(...two), identical };
  log(`nuts50Built (plain node, dist/): speedup ${res.medianSpeedup.toFixed(2)} (medians), ${res.bestSpeedup.toFixed(2)} (best of each); identical draws: ${identical}`);
  return res;
}

export async function benchStudy(log: (l: string) => void) {
  const spec = await readStudyFile(join(ROOT, 'examples/study.yaml'));
  const out: Record<string, unknown> = {};
  for (const workers of [1, 2]) {
    const dir = await mkdtemp(join(tmpdir(), 'fs-bench-study-'));
    const pool = new WorkerPool(workers);
    try {
      await pool.warmUp();
      const t0 = performance.now();
      const r = await runStudy(spec, dir, poolExecutor(pool), { out: () => {}, err: () => {}, signal: new AbortController().signal });
      const s = (performance.now() - t0) / 1000;
      out[`workers${workers}`] = { cells: r.computed, seconds: s, cellsPerMinute: (60 * r.computed) / s, load: load() };
      log(`study: ${workers} worker(s): ${r.computed} cells in ${s.toFixed(1)} s = ${((60 * r.computed) / s).toFixed(0)} cells/min`);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export async function benchQueue(log: (l: string) => void, jobs = 2000) {
  try {
    execFileSync('redis-server', ['--version']);
  } catch {
    log('queue: skipped (no redis-server)');
    return { skipped: 'no redis-server' };
  }
  const { Queue, Worker } = await import('bullmq');
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const connection = { url: `redis://127.0.0.1:${port}`, maxRetriesPerRequest: null };
  const out: Record<string, unknown> = {};
  try {
    await new Promise((r) => setTimeout(r, 300));
    for (const consumers of [1, 2]) {
      const name = `bench${consumers}`;
      const queue = new Queue(name, { connection });
      await queue.waitUntilReady();
      const t0 = performance.now();
      await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'noop', data: { i }, opts: { jobId: `j${i}`, removeOnComplete: true } })));
      const tAdd = performance.now() - t0;
      let done = 0;
      let allDone: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (allDone = resolve));
      const workers = Array.from({ length: consumers }, () => {
        const w = new Worker(name, async () => 0, { connection, concurrency: 8 });
        w.on('completed', () => {
          if (++done === jobs) allDone();
        });
        return w;
      });
      await finished;
      await Promise.all(workers.map((w) => w.close()));
      const s = (performance.now() - t0) / 1000;
      out[`consumers${consumers}`] = { jobs, addMs: tAdd, seconds: s, jobsPerSecond: jobs / s };
      log(`queue: ${consumers} consumer(s): ${jobs} trivial jobs in ${s.toFixed(2)} s = ${(jobs / s).toFixed(0)} jobs/s (enqueue ${tAdd.toFixed(0)} ms)`);
      await queue.obliterate({ force: true });
      await queue.close();
    }
  } finally {
    redis.kill('SIGKILL');
  }
  return out;
}

export async function benchParallel(opts: { quick?: boolean; only?: string[]; reps?: number; log?: (l: string) => void } = {}) {
  const log = opts.log ?? ((l: string) => console.log(l));
  const want = (n: string) => !opts.only || opts.only.includes(n);
  return {
    ...(want('nuts50') ? { nuts50: await benchNuts50(opts.reps ?? (opts.quick ? 1 : 5), log) } : {}),
    ...(want('nuts50Built') ? { nuts50Built: await benchNuts50Built(opts.reps ?? (opts.quick ? 1 : 5), log) } : {}),
    ...(want('study') && !opts.quick ? { study: await benchStudy(log) } : {}),
    ...(want('queue') ? { queue: await benchQueue(log, opts.quick ? 200 : 2000) } : {}),
  };
}

if (isMain(import.meta.url)) {
  const only = optionValue('--only')?.split(',');
  const reps = optionValue('--reps');
  const res = await benchParallel({ only, quick: process.argv.includes('--quick'), ...(reps ? { reps: Number(reps) } : {}) });
  const { writeResults } = await import('./run.js');
  console.log(`-> ${await writeResults('parallel', res)}`);
}
