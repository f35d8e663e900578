/**
 * The few things the core needs from its host, for Node and browsers alike: an environment
 * variable (Node only: a browser has none, and `process` is never touched there), a warning,
 * and a yield to the event loop. The core imports no Node built-in, so it bundles for browsers
 * (esbuild --platform=browser) as it is.
 */

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
  emitWarning?: (message: string) => void;
}

/** Node's `process`, or undefined in a browser or worker (even if a bundler shimmed one). */
function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return typeof p?.versions?.node === 'string' ? p : undefined;
}

export const isNode: boolean = nodeProcess() !== undefined;

/** An environment variable in Node; always undefined in a browser. */
export function envVar(name: string): string | undefined {
  return nodeProcess()?.env?.[name];
}

/** A warning where the user looks: Node's process warnings (stderr), else the console. */
export function emitWarning(message: string): void {
  const p = nodeProcess();
  if (p?.emitWarning) p.emitWarning(message);
  else console.warn(message);
}

/**
 * Lets timers, I/O, progress output and Ctrl-C (or a worker's messages) run: setImmediate in
 * Node, a MessageChannel round trip in browsers (setTimeout(0) is clamped to 4 ms there).
 */
export function yieldToEventLoop(): Promise<void> {
  const si = (globalThis as { setImmediate?: (cb: () => void) => unknown }).setImmediate;
  if (typeof si === 'function') return new Promise((resolve) => si(resolve));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

/**
 * A Node built-in module when running in Node (20.16+ has process.getBuiltinModule), else
 * undefined: lets core code use `os` or `v8` without an import a browser bundle would choke on.
 */
export function nodeBuiltin<T>(name: string): T | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  return typeof p?.getBuiltinModule === 'function' ? (p.getBuiltinModule(name) as T) : undefined;
}
