/** Runs the CLI in-process with captured output (main's IO override). */
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  out: string[];
  err: string[];
}

export async function runCli(argv: string[], opts: { signal?: AbortSignal; onErr?: (line: string) => void } = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    out: (l) => out.push(l),
    err: (l) => {
      err.push(l);
      opts.onErr?.(l);
    },
    isTTY: false,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { code, out, err };
}
