/**
 * Runs a study: finds the cells that have no current result, runs their jobs (on the local
 * worker pool, or through a queue when an executor is given), writes each cell's result as it
 * arrives, and rewrites the report at the end. Interrupted (Ctrl-C, a crash, a kill) it loses
 * only the cells that were running; the next run computes exactly the missing ones.
 */
import { writeJsonAtomic } from '../core/atomicWrite.js';
import { AbortedError } from '../core/errors.js';
import { join } from 'node:path';
import type { StudySpec } from './studySpec.js';
import { groupJobs, studyCells, type CellDef, type JobDef } from './cells.js';
import type { CellResult } from './cellRun.js';
import { StudyStore } from './studyStore.js';
import { writeStudyReport, type StudyReportFiles } from './studyReport.js';
import type { WorkerPool } from './pool.js';
import { machineInfo, versionInfo } from '../cli/runInfo.js';

export interface StudyIO {
  out: (line: string) => void;
  err: (line: string) => void;
  signal: AbortSignal;
  /** Called after each finished cell with (done, total). */
  onCell?: (done: number, total: number, cell: CellResult) => void;
}

/**
 * Runs jobs somewhere and hands back each job's results. `run` resolves when every job has been
 * handed over; `onResults` must be called once per finished job.
 */
export interface JobExecutor {
  describe: string;
  run(jobs: JobDef[], baseDir: string, onResults: (job: JobDef, results: CellResult[]) => Promise<void>, onFailure: (job: JobDef, message: string) => void, signal: AbortSignal): Promise<void>;
}

export function poolExecutor(pool: WorkerPool): JobExecutor {
  return {
    describe: `${pool.workers} local worker${pool.workers === 1 ? '' : 's'}`,
    async run(jobs, baseDir, onResults, onFailure, signal) {
      await Promise.all(
        jobs.map(async (job) => {
          try {
            const results = await pool.run<CellResult[]>({ kind: 'cells', cells: job.cells, baseDir }, { signal });
            await onResults(job, results);
          } catch (e) {
            if (e instanceof AbortedError || signal.aborted) return;
            onFailure(job, e instanceof Error ? e.message.split('\n')[0] : String(e));
          }
        }),
      );
    },
  };
}

export interface StudyOutcome {
  total: number;
  /** Cells done before this run started. */
  skipped: number;
  /** Cells computed in this run. */
  computed: number;
  /** Jobs that failed to run (a crash, not a sampler's own failure). */
  failedJobs: number;
  interrupted: boolean;
  files: StudyReportFiles;
  results: Map<string, CellResult>;
  cells: CellDef[];
}

export async function runStudy(spec: StudySpec, outDir: string, executor: JobExecutor, io: StudyIO, command: string[] = []): Promise<StudyOutcome> {
  const started = new Date();
  const cells = await studyCells(spec);
  const store = await StudyStore.open(outDir);
  try {
    const results = await store.readAll(cells);
    const skipped = results.size;
    const todo = cells.filter((c) => !results.has(c.id));
    const jobs = groupJobs(todo);
    const strays = await store.strays(cells);
    await writeJsonAtomic(join(outDir, 'study.json'), { spec, cells });
    io.out(
      `study ${spec.name}: ${cells.length} cells (${spec.targets.length} targets x ${spec.samplers.length} samplers x ${spec.seeds.length} seeds); ` +
        `${skipped} done, ${todo.length} to run${todo.length ? ` as ${jobs.length} jobs on ${executor.describe}` : ''}`,
    );
    if (strays.length) io.err(`study ${spec.name}: ${strays.length} file(s) in ${store.cellsDir} belong to no cell of this study (left alone, not reported)`);
    await store.journal({ event: 'run-start', cells: cells.length, todo: todo.length, executor: executor.describe });
    let computed = 0;
    let failedJobs = 0;
    const onResults = async (job: JobDef, rs: CellResult[]) => {
      for (const r of rs) {
        const cell = job.cells.find((c) => c.id === r.id && c.hash === r.hash);
        if (!cell || results.has(r.id)) continue; // not asked for, or already written: write once
        await store.write(r);
        results.set(r.id, r);
        computed++;
        if (r.error) io.err(`${r.id}: failed: ${r.error}`);
        io.onCell?.(results.size, cells.length, r);
      }
    };
    const onFailure = (job: JobDef, message: string) => {
      failedJobs++;
      io.err(`study ${spec.name}: job of ${job.cells.map((c) => c.id).join(', ')} failed to run: ${message}`);
      void store.journal({ event: 'failed', cells: job.cells.map((c) => c.id), message });
    };
    if (jobs.length) await executor.run(jobs, spec.baseDir, onResults, onFailure, io.signal);
    const interrupted = io.signal.aborted && results.size < cells.length;
    await store.journal({ event: 'run-end', computed, done: results.size, interrupted });
    const meta = { command, started: started.toISOString(), finished: new Date().toISOString(), interrupted, executor: executor.describe, versions: versionInfo(), machine: machineInfo() };
    const files = await writeStudyReport(outDir, spec, cells, results, meta);
    io.out(`study ${spec.name}: ${results.size}/${cells.length} cells done (${computed} computed now, ${skipped} before)${interrupted ? '; interrupted: run the same command again to finish' : ''}`);
    if (failedJobs) io.err(`study ${spec.name}: ${failedJobs} job(s) failed to run; run the same command again to retry them`);
    io.out(`wrote ${files.report}`);
    io.out(`wrote ${files.csv}`);
    return { total: cells.length, skipped, computed, failedJobs, interrupted, files, results, cells };
  } finally {
    await store.close();
  }
}
