/**
 * What crosses between a worker thread and the thread that sent it work. Error classes do not
 * survive the trip (structured clone keeps only an Error's message), so a user-facing error
 * (FlowsamplerError) comes back as data with its class name and is thrown again on arrival;
 * any other error is a bug and propagates as the worker's failure.
 */
import { FlowsamplerError } from './errors.js';

export type WorkerReply<T> = { ok: true; value: T } | { ok: false; name: string; message: string };

/** Runs `work` in the worker and turns a user-facing error into a reply. */
export async function replyOf<T>(work: () => Promise<T>): Promise<WorkerReply<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    if (e instanceof FlowsamplerError) return { ok: false, name: e.name, message: e.message };
    throw e;
  }
}

/** The reply's value, or its error thrown again (a FlowsamplerError carrying the original class name). */
export function unwrapReply<T>(reply: WorkerReply<T>): T {
  if (reply.ok) return reply.value;
  const err = new FlowsamplerError(reply.message);
  err.name = reply.name;
  throw err;
}

/** A worker's entry beside the calling module: the compiled `built` file in dist/, or the tsx bootstrap `dev` (.mjs) when running from the TypeScript sources. */
export function workerEntry(callerUrl: string, dev: string, built: string): URL {
  return new URL(callerUrl.endsWith('.ts') ? dev : built, callerUrl);
}
