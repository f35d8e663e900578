/**
 * The studies' interruption bar: examples/study.yaml (3 targets x 7 samplers x 3 seeds) run
 * once uninterrupted on the local pool (the reference), then again from scratch killed with
 * SIGKILL at 5 random moments and resumed each time, locally and through the queue (a local
 * redis-server on a loopback port, 2 worker processes, the study process and a worker killed in
 * turn). Checks every cell is written exactly once (journal) with the reference's numbers.
 * Writes bench/results/studyInterrupt.json.
 *
 *   npx tsx bench/studyInterrupt.ts [--seed 1]
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { RandomStream } from '../src/core/random.js';
import { TIMING_METRICS, type CellResult } from '../src/study/cellRun.js';
import { isMain, optionValue } from './standalone.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STUDY = join(ROOT, 'examples/study.yaml');

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/cliProcess.ts'), ...args], { cwd: ROOT, stdio: 'ignore' });
}
const exited = (p: ChildProcess) => new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));

async function cells(dir: string): Promise<Map<string, CellResult>> {
  const all = JSON.parse(await readFile(join(dir, 'cells.json'), 'utf8')) as CellResult[];
  return new Map(all.filter((c) => c.metrics).map((c) => [c.id, c]));
}
async function doneCounts(dir: string): Promise<number[]> {
  const counts = new Map<string, number>();
  for (const l of (await readFile(join(dir, 'journal.ndjson'), 'utf8')).trim().split('\n')) {
    const e = JSON.parse(l);
    if (e.event === 'done') counts.set(e.cell, (counts.get(e.cell) ?? 0) + 1);
  }
  return [...counts.values()];
}
function same(a: CellResult, b: CellResult): boolean {
  const strip = (r: CellResult) => JSON.stringify({ ...r.metrics, ...Object.fromEntries(TIMING_METRICS.map((k) => [k, 0])), digest: r.digest, params: r.params });
  return strip(a) === strip(b);
}

export async function benchStudyInterrupt(seed = 1, log = (l: string) => console.log(l)) {
  const rng = new RandomStream(seed).derive('kill-times');
  const ref = join(await mkdtemp(join(tmpdir(), 'fs-int-')), 'ref');
  let t0 = performance.now();
  await exited(cli(['study', STUDY, '--out', ref, '--workers', '2']));
  const refSeconds = (performance.now() - t0) / 1000;
  const reference = await cells(ref);
  log(`reference: ${reference.size} cells in ${refSeconds.toFixed(1)} s`);
  const check = async (dir: string) => {
    const got = await cells(dir);
    const counts = await doneCounts(dir);
    return { cells: got.size, exactlyOnce: counts.length === reference.size && counts.every((n) => n === 1), identical: [...reference].every(([id, r]) => got.has(id) && same(r, got.get(id)!)) };
  };

  // Local: kill the study process at 5 random moments within the reference's duration.
  const local = join(await mkdtemp(join(tmpdir(), 'fs-int-')), 'local');
  const kills: number[] = [];
  for (let k = 0; k < 5; k++) {
    const p = cli(['study', STUDY, '--out', local, '--workers', '2']);
    const after = 1000 * (2 + rng.uniform() * refSeconds * 0.5);
    kills.push(Math.round(after));
    const timer = setTimeout(() => p.kill('SIGKILL'), after);
    await exited(p);
    clearTimeout(timer);
  }
  t0 = performance.now();
  await exited(cli(['study', STUDY, '--out', local, '--workers', '2']));
  const localResult = { killsAfterMs: kills, ...(await check(local)) };
  log(`local, killed 5 times: ${JSON.stringify(localResult)}`);

  // Queue: redis-server, 2 workers; kill the study or a worker in turn, restarting what was killed.
  const port = await new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const queued = join(await mkdtemp(join(tmpdir(), 'fs-int-')), 'queue');
  const worker = () => cli(['worker', '--queue', url, '--workers', '1', '--lock-seconds', '3']);
  const workers = [worker(), worker()];
  const qkills: string[] = [];
  try {
    await new Promise((r) => setTimeout(r, 500));
    for (let k = 0; k < 5; k++) {
      const p = cli(['study', STUDY, '--out', queued, '--queue', url]);
      const after = 1000 * (2 + rng.uniform() * refSeconds * 0.5);
      await new Promise((r) => setTimeout(r, after));
      if (k % 2 === 0) {
        p.kill('SIGKILL');
        qkills.push(`study@${Math.round(after)}ms`);
      } else {
        const w = Math.floor(rng.uniform() * 2);
        workers[w].kill('SIGKILL');
        workers[w] = worker();
        qkills.push(`worker${w}@${Math.round(after)}ms`);
        p.kill('SIGKILL');
      }
      await exited(p);
    }
    await exited(cli(['study', STUDY, '--out', queued, '--queue', url]));
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    redis.kill('SIGKILL');
  }
  const queueResult = { kills: qkills, ...(await check(queued)) };
  log(`queue, killed 5 times: ${JSON.stringify(queueResult)}`);
  return { cells: reference.size, referenceSeconds: refSeconds, local: localResult, queue: queueResult };
}

if (isMain(import.meta.url)) {
  const res = await benchStudyInterrupt(Number(optionValue('--seed') ?? 1));
  const { writeResults } = await import('./run.js');
  console.log(`-> ${await writeResults('studyInterrupt', res)}`);
  process.exitCode = res.local.exactlyOnce && res.local.identical && res.queue.exactlyOnce && res.queue.identical ? 0 : 1;
}
