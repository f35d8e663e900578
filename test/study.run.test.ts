/**
 * Studies: cells hashed and grouped, interrupted runs resume without recomputing or losing a
 * cell, an edited cell is rerun, and the report files hold every cell. Through a real Redis
 * (redis-server on a loopback port, skipped with a message without it): two worker processes,
 * one killed with SIGKILL in the middle of a job; every cell completes exactly once with the
 * numbers of the local run.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { parseStudy } from '../src/study/studySpec.js';
import { studyCells, groupJobs } from '../src/study/cells.js';
import { medianInterval } from '../src/study/studyAggregate.js';
import { runStudy, poolExecutor } from '../src/study/studyRun.js';
import { WorkerPool } from '../src/study/pool.js';
import { TIMING_METRICS, type CellResult } from '../src/study/cellRun.js';
import { ParseError } from '../src/core/errors.js';

const STUDY = `
name: t
targets: [banana, { expr: "-0.5*(x1^2 + x2^2)", name: g2 }]
samplers: [iaf, imh, nuts, { name: hmc, options: { numSteps: 8 } }]
seeds: 2
budget: { chains: 2, draws: 100, warmup: 100 }
train: { steps: 60, batchSize: 128 }
`;

const quietIO = (signal: AbortSignal, onCell?: (d: number) => void) => ({ out: () => {}, err: () => {}, signal, onCell: onCell ? (d: number) => onCell(d) : undefined });

/** The numbers of a cell that must repeat exactly (timings removed). */
function numbers(r: CellResult) {
  const m = { ...r.metrics } as Record<string, unknown>;
  for (const k of TIMING_METRICS) delete m[k];
  return { m, digest: r.digest, params: r.params, error: r.error };
}

async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 20));
}

async function journalDone(dir: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of (await readFile(join(dir, 'journal.ndjson'), 'utf8')).trim().split('\n')) {
    const e = JSON.parse(line);
    if (e.event === 'done') counts.set(e.cell, (counts.get(e.cell) ?? 0) + 1);
  }
  return counts;
}

describe('study spec and cells', () => {
  it('says where a study file is wrong', () => {
    expect(() => parseStudy('targets: [banana]\nsamplers: [nuts]\nbudjet: {}', 's.yaml')).toThrow(/s\.yaml: unknown key 'budjet'/);
    expect(() => parseStudy('targets: [banana]\nsamplers: [{ name: hmc, options: { numSteps: 1.5 } }]', 's.yaml')).toThrow(/samplers\[0\]\.options\.numSteps: expected an integer/);
    expect(() => parseStudy('targets: [banana, banana]\nsamplers: [nuts]', 's.yaml')).toThrow(ParseError);
    expect(() => parseStudy('targets: [banana]\nsamplers: [nuts, nuts]', 's.yaml')).toThrow(/appears twice/);
    expect(() => parseStudy('targets: [banana]\nsamplers: [nutz]', 's.yaml')).toThrow(/unknown sampler 'nutz'/);
  });

  it('hashes cells by their definition and groups flow cells of a target x seed into one job', async () => {
    const a = await studyCells(parseStudy(STUDY, 's.yaml'));
    const b = await studyCells(parseStudy(STUDY.replace('numSteps: 8', 'numSteps: 9'), 's.yaml'));
    expect(a).toHaveLength(16);
    const changed = a.filter((c, i) => c.hash !== b[i].hash).map((c) => c.id);
    expect(changed).toEqual(a.filter((c) => c.sampler.name === 'hmc').map((c) => c.id));
    const jobs = groupJobs(a);
    expect(jobs.filter((j) => j.flow).map((j) => j.cells.map((c) => c.sampler.name))).toEqual(Array(4).fill(['iaf', 'imh']));
    expect(jobs).toHaveLength(4 + 8);
  });

  it('median interval: order statistics with their binomial coverage', () => {
    const three = medianInterval([3, 1, 2])!;
    expect([three.median, three.lo, three.hi, three.coverage]).toEqual([2, 1, 3, 0.75]);
    const ten = medianInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])!;
    // k = 2: 1 - 2 P(Bin(10, 1/2) <= 1) = 1 - 2 * 11/1024; k = 3 would cover only 1 - 2 * 56/1024 < 0.95.
    expect([ten.lo, ten.hi]).toEqual([2, 9]);
    expect(ten.coverage).toBeCloseTo(1 - 22 / 1024, 12);
  });
});

describe('study runs', () => {
  let pool: WorkerPool;
  afterAll(async () => pool?.close());
  let reference: Map<string, CellResult>;
  let file: string;

  it('interrupted twice, resumes to every cell exactly once; an edit reruns only its cells', async () => {
    pool = new WorkerPool(2);
    const dir = await mkdtemp(join(tmpdir(), 'fs-study-'));
    file = join(dir, 's.yaml');
    await writeFile(file, STUDY);
    const spec = parseStudy(STUDY, file);
    const out = join(dir, 'res');
    for (const stopAt of [3, 9]) {
      const ac = new AbortController();
      const r = await runStudy(spec, out, poolExecutor(pool), quietIO(ac.signal, (d) => d >= stopAt && ac.abort()));
      expect(r.interrupted).toBe(true);
    }
    const done = await runStudy(spec, out, poolExecutor(pool), quietIO(new AbortController().signal));
    expect(done.interrupted).toBe(false);
    expect(done.results.size).toBe(16);
    expect(done.skipped).toBeGreaterThanOrEqual(9);
    const counts = await journalDone(out);
    expect([...counts.values()].every((n) => n === 1) && counts.size === 16).toBe(true);
    reference = done.results;
    const csv = (await readFile(done.files.csv, 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(17);
    expect(await readFile(done.files.report, 'utf8')).toContain('Samplers across seeds');

    const edited = parseStudy(STUDY.replace('numSteps: 8', 'numSteps: 9'), file);
    const again = await runStudy(edited, out, poolExecutor(pool), quietIO(new AbortController().signal));
    expect(again.computed).toBe(4);
    expect([...again.results.values()].filter((r) => r.sampler === 'hmc').every((r) => numbers(r).digest !== numbers(reference.get(r.id)!).digest)).toBe(true);
  });

  const haveRedis = (() => {
    try {
      execFileSync('redis-server', ['--version']);
      return true;
    } catch {
      console.warn("study queue test: skipped — redis-server not found (install Debian's 'redis-server'; .ci/run does)");
      return false;
    }
  })();

  it.skipIf(!haveRedis)('through a real Redis with 2 workers, one killed mid-job: every cell once, same numbers', { timeout: 300_000 }, async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const procs: ChildProcess[] = [];
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    procs.push(redis);
    try {
      const url = `redis://127.0.0.1:${port}`;
      const worker = () => {
        const p = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cliProcess.ts', 'worker', '--queue', url, '--queue-name', 'test', '--workers', '1', '--lock-seconds', '2', '--until-empty'], { stdio: ['ignore', 'pipe', 'pipe'] });
        procs.push(p);
        let log = '';
        p.stdout!.on('data', (b) => ((log += b), process.env.FS_DEBUG && console.log('w', String(b))));
        p.stderr!.on('data', (b) => (log += b));
        return { p, log: () => log };
      };
      const { runStudy: run } = await import('../src/study/studyRun.js');
      const { runJobsOnQueue } = await import('../src/study/queue.js');
      const out = join(await mkdtemp(join(tmpdir(), 'fs-queue-')), 'res');
      const spec = parseStudy(STUDY, file ?? join(tmpdir(), 'fs-queue-study.yaml'));
      if (!reference) {
        pool ??= new WorkerPool(2);
        reference = (await runStudy(spec, join(out, '..', 'local'), poolExecutor(pool), quietIO(new AbortController().signal))).results;
      }
      const executor = { describe: 'queue', run: (...a: Parameters<typeof runJobsOnQueue> extends [unknown, ...infer R] ? R : never) => runJobsOnQueue({ url, name: 'test' }, ...a) };
      // Enqueue first, then start the workers, so both find work.
      const studyDone = run(spec, out, executor, quietIO(new AbortController().signal));
      const { Queue } = await import('bullmq');
      const q = new Queue('test', { connection: { url, maxRetriesPerRequest: null } });
      while ((await q.count()) < 12) await new Promise((r) => setTimeout(r, 50));
      await q.close();
      // Worker a starts first and takes a job; b starts once a is running one; a is killed mid-job.
      const a = worker();
      await until(() => a.log().includes('running '));
      const b = worker();
      a.p.kill('SIGKILL');
      const r = await studyDone;
      expect(r.results.size).toBe(16);
      const counts = await journalDone(out);
      expect(counts.size === 16 && [...counts.values()].every((n) => n === 1)).toBe(true);
      for (const [id, res] of r.results) expect(numbers(res), id).toEqual(numbers(reference.get(id)!));
      // b may already have exited (--until-empty) before the study collected its last result.
      if (b.p.exitCode === null && b.p.signalCode === null) await new Promise((resolve) => b.p.once('exit', resolve));
      expect(b.log()).toMatch(/worker: \d+ job\(s\) done, 0 failed/);
    } finally {
      for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    }
  });
});
