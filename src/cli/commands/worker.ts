import { parseCommandArgs, numberOption, UsageError, type Command } from '../command.js';
import { workersOption, workersHelp } from '../workersOption.js';
import { queueArgs, queueOptions } from '../queueArgs.js';

export const workerCommand: Command = {
  name: 'worker',
  summary: "run study jobs from a Redis queue (what 'study --queue' enqueued), on any machine",
  help: `usage: flowsampler worker --queue redis://HOST[:PORT][/DB] [options]

Takes study jobs from the BullMQ queue on that Redis server and runs them on a pool of worker
threads; results go back into Redis, and the 'study --queue' that enqueued them writes them to
its study folder. Start as many workers, on as many machines, as you like. A worker killed
mid-job loses nothing: after --lock-seconds the job goes back to the queue and runs again.

  --queue URL          the Redis server (required)
  --queue-name NAME    the BullMQ queue (default flowsampler)
${workersHelp}
  --lock-seconds S     how long a job stays claimed without a sign of life from its worker;
                       a killed worker's jobs run again after this (default 30)
  --until-empty        exit once the queue has nothing waiting or running
  -h, --help           this help

Ctrl-C stops the worker at once; its running jobs go back to the queue after --lock-seconds.`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('worker', argv, { ...queueOptions, workers: { type: 'string' }, 'lock-seconds': { type: 'string' }, 'until-empty': { type: 'boolean' } });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const q = queueArgs(values, true)!;
    const workers = workersOption(values.workers as string | undefined);
    const lockS = numberOption('lock-seconds', values['lock-seconds'] as string | undefined, 30, (v) => v >= 1 && v <= 3600, 'a number of seconds in [1, 3600]');
    const { runQueueWorker } = await import('../../study/queue.js');
    const r = await runQueueWorker(q, { workers, lockMs: Math.round(lockS * 1000), untilEmpty: Boolean(values['until-empty']), signal: io.signal, out: io.out, err: io.err });
    io.out(`worker: ${r.completed} job(s) done, ${r.failed} failed`);
    return io.signal.aborted ? 130 : 0;
  },
};
