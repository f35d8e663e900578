/**
 * `flowsampler serve`: serves the playground (web/dist, built by `npm run build:web`) on the
 * loopback interface until Ctrl-C. The page is plain static files; any static server can
 * publish them, this one is for trying it on this machine.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intOption, parseCommandArgs, UsageError, type Command } from '../command.js';
import { startStaticServer } from '../staticServer.js';

/** web/dist of this package: three levels up from src/cli/commands/ or dist/cli/commands/. */
export const PLAYGROUND_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

const DEFAULT_PORT = 8080;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the interactive playground page on localhost',
  help: `usage: flowsampler serve [--port N] [--dir DIR]

Serves the playground (train a flow on a built-in target or your own expression, watch it train,
compare it with NUTS, HMC and RWM under the same diagnostics as compare) at
http://127.0.0.1:PORT/ until Ctrl-C. Only this machine can reach it. The page runs entirely in
the browser; build it first with 'npm run build:web' (npm install does it).

  --port N           port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks a free one)
  --dir DIR          the built page (default: the package's web/dist)
  -h, --help         this help`,
  async run(argv, io) {
    const { values } = parseCommandArgs('serve', argv, { port: { type: 'string' }, dir: { type: 'string' } });
    const port = intOption('port', values.port as string | undefined, DEFAULT_PORT, 0);
    if (port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got '${String(values.port)}'`);
    const dir = values.dir === undefined ? PLAYGROUND_DIR : resolve(values.dir as string);
    if (!existsSync(join(dir, 'index.html'))) {
      throw new UsageError(
        values.dir === undefined
          ? `the playground is not built (${join(dir, 'index.html')} is missing): run 'npm run build:web' in the flowsampler folder`
          : `--dir ${String(values.dir)} has no index.html (build the playground with 'npm run build:web', or 'tsx web/build.ts DIR')`,
      );
    }
    let server;
    try {
      server = await startStaticServer(dir, { port });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use: pass --port N (0 picks a free one)`);
      if (code === 'EACCES') throw new UsageError(`port ${port} needs privileges: pass --port N above 1023 (0 picks a free one)`);
      throw e;
    }
    io.out(`flowsampler playground at ${server.url} (serving ${dir}; Ctrl-C stops)`);
    await new Promise<void>((done) => {
      if (io.signal.aborted) done();
      else io.signal.addEventListener('abort', () => done(), { once: true });
    });
    await server.close();
    io.err('flowsampler serve: stopped');
    // Ctrl-C is how serving ends: the exit code says so (130), as for any interrupted command.
    return 130;
  },
};
