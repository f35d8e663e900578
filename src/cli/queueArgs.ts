/** --queue redis://HOST[:PORT][/DB] and --queue-name, shared by `study` and `worker`. */
import { UsageError } from './command.js';
import type { JobExecutor } from '../study/studyRun.js';

export const queueOptions = {
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
} as const;

export const queueOptionsHelp = `  --queue URL        a Redis server (redis://HOST[:PORT][/DB]): enqueue the cells as BullMQ jobs and
                     collect their results here; 'flowsampler worker --queue URL' on any machine runs them
  --queue-name NAME  the BullMQ queue (default flowsampler)`;

export interface QueueArgs {
  url: string;
  name: string;
}

export function queueArgs(values: Record<string, unknown>, required = false): QueueArgs | null {
  const url = values.queue as string | undefined;
  const name = (values['queue-name'] as string | undefined) ?? 'flowsampler';
  if (url === undefined) {
    if (required) throw new UsageError('missing --queue redis://HOST (the Redis server of the job queue)');
    if (values['queue-name'] !== undefined) throw new UsageError('--queue-name needs --queue');
    return null;
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--queue must be a URL like redis://localhost:6379, got '${url}'`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`--queue must be a redis:// or rediss:// URL, got '${url}'`);
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`--queue-name may hold only letters, digits, '_', '.' and '-', got '${name}'`);
  return { url, name };
}

/** The queue executor for `study --queue`, loaded only when asked for (it brings BullMQ). */
export function queueExecutor(values: Record<string, unknown>): JobExecutor | null {
  const q = queueArgs(values);
  if (!q) return null;
  return {
    describe: `the queue '${q.name}' at ${q.url}`,
    async run(...args) {
      const { runJobsOnQueue } = await import('../study/queue.js');
      return runJobsOnQueue(q, ...args);
    },
  };
}
