import { basename, dirname, extname, join } from 'node:path';
import { parseCommandArgs, UsageError, type Command } from '../command.js';
import { workersOption, workersHelp } from '../workersOption.js';
import { createProgress } from '../progress.js';
import { readStudyFile } from '../../study/studySpec.js';
import { runStudy, poolExecutor } from '../../study/studyRun.js';
import { withPool } from '../../study/pool.js';
import { queueExecutor, queueOptions, queueOptionsHelp } from '../queueArgs.js';

export const studyHelp = `usage: flowsampler study STUDY.yaml|STUDY.json [options]

Runs a sampler comparison study: every target x sampler x seed of the study file is a cell,
run as a job on a pool of worker threads (or through a Redis job queue with --queue), its result
written atomically to DIR/cells/<cell>.json. Run the same command again after an interruption
(Ctrl-C, a crash, a kill): finished cells are kept, never recomputed, and a cell whose
definition changed (its hash) is rerun. Writes DIR/report.html (ranking of samplers per target
across seeds), DIR/cells.csv, DIR/cells.json, DIR/summary.json and DIR/journal.ndjson.
The study file format is in docs/study.md.

  --out DIR          results folder (default: beside the study file, <name>.results)
${workersHelp}
${queueOptionsHelp}
  -h, --help         this help`;

export const studyCommand: Command = {
  name: 'study',
  summary: 'run a study (targets x samplers x seeds), resumable, locally or through a Redis queue',
  help: studyHelp,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('study', argv, { out: { type: 'string' }, workers: { type: 'string' }, ...queueOptions }, true);
    if (positionals.length !== 1) throw new UsageError(`give exactly one study file (see 'flowsampler study --help')`);
    const file = positionals[0];
    const workers = workersOption(values.workers as string | undefined);
    const spec = await readStudyFile(file);
    const outDir = (values.out as string | undefined) ?? join(dirname(file), `${basename(file, extname(file))}.results`);
    if (outDir.trim() === '') throw new UsageError('--out is empty');
    const progress = createProgress(io, 'study');
    const studyIO = { out: io.out, err: io.err, signal: io.signal, onCell: (done: number, total: number) => progress.update(done, total, 'cells') };
    const queue = queueExecutor(values);
    const outcome = queue
      ? await runStudy(spec, outDir, queue, studyIO, ['study', ...argv])
      : await withPool(workers, (pool) => runStudy(spec, outDir, poolExecutor(pool), studyIO, ['study', ...argv]));
    progress.stop();
    if (outcome.interrupted) return 130;
    return outcome.failedJobs > 0 ? 1 : 0;
  },
};
