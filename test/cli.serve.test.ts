/**
 * `flowsampler serve`: serves a built page from 127.0.0.1 until stopped (exit 130, as Ctrl-C),
 * only files under its folder; a missing build, a bad port and a taken port are one-line
 * errors (exit 2).
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { runCli } from './helpers/cliRun.js';

async function pageDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fs-serve-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>playground</title>');
  await writeFile(join(dir, 'worker.wasm'), Buffer.from([0, 97, 115, 109]));
  return dir;
}

describe('flowsampler serve', () => {
  it('serves the folder on 127.0.0.1 until stopped', async () => {
    const dir = await pageDir();
    const stop = new AbortController();
    let announce!: (line: string) => void;
    const announced = new Promise<string>((resolve) => (announce = resolve));
    const served = main(['serve', '--dir', dir, '--port', '0'], { out: (l) => announce(l), err: () => undefined, signal: stop.signal });
    const line = await announced;
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)?.[1];
    expect(url, line).toBeDefined();
    const index = await fetch(url!);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>playground</title>');
    // WebAssembly.instantiateStreaming needs this type for the tfjs binaries.
    expect((await fetch(`${url}worker.wasm`)).headers.get('content-type')).toBe('application/wasm');
    expect((await fetch(`${url}..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    stop.abort();
    expect(await served).toBe(130);
    await expect(fetch(url!)).rejects.toThrow();
  });

  it('refuses a folder without a built page, a bad port and a taken port', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'fs-serve-empty-'));
    const r1 = await runCli(['serve', '--dir', empty]);
    expect(r1.code).toBe(2);
    expect(r1.err.join('\n')).toMatch(/has no index\.html .*build:web/);
    const r2 = await runCli(['serve', '--dir', await pageDir(), '--port', '70000']);
    expect(r2.code).toBe(2);
    expect(r2.err.join('\n')).toMatch(/--port must be an integer from 0 to 65535/);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r3 = await runCli(['serve', '--dir', await pageDir(), '--port', String(port)]);
      expect(r3.code).toBe(2);
      expect(r3.err.join('\n')).toMatch(new RegExp(`port ${port} is in use`));
    } finally {
      taken.close();
    }
  });
});
