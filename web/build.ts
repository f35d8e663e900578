/**
 * The browser build: bundles with esbuild for `--platform=browser` (no Node built-ins may reach
 * a bundle: esbuild fails on them) and puts tfjs-backend-wasm's .wasm binaries beside the
 * bundles, where the backend fetches them from. The browser tests use bundleForBrowser and
 * copyWasmBinaries; buildWeb builds the playground (web/index.html, style.css, web/src/main.ts
 * for the page and web/src/worker.ts for its workers) into web/dist/: plain files that any
 * static server publishes (`flowsampler serve` on this machine).
 */
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { copyFile, mkdir, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The folder holding tfjs-backend-wasm's .wasm binaries inside node_modules. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

/** Copies the three .wasm binaries (plain, SIMD, threaded SIMD) into `dir`; returns their names. */
export async function copyWasmBinaries(dir: string): Promise<string[]> {
  const src = wasmBinaryDir();
  const names = (await readdir(src)).filter((f) => f.endsWith('.wasm'));
  await mkdir(dir, { recursive: true });
  for (const f of names) await copyFile(join(src, f), join(dir, f));
  return names;
}

/**
 * Modules that run on Node built-ins only, each replaced in a browser bundle by a stand-in in
 * web/src/nodeOnly/ (code that reaches them in a browser gets a one-line error).
 */
const NODE_ONLY: Plugin = {
  name: 'flowsampler-node-only',
  setup(b) {
    b.onResolve({ filter: /[\\/]parallel[\\/]workerShards\.js$/ }, () => ({ path: join(HERE, 'src', 'nodeOnly', 'workerShards.ts') }));
  },
};

/** One ES-module bundle for browsers (a page's script or a module worker). */
export async function bundleForBrowser(entry: string, outfile: string, extra: BuildOptions = {}): Promise<Metafile> {
  const r = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'silent',
    ...extra,
    plugins: [NODE_ONLY, ...(extra.plugins ?? [])],
  });
  return r.metafile!;
}

export interface WebBuild {
  dir: string;
  /** The source files in each bundle (esbuild's metafile), e.g. to check what the page's thread runs. */
  inputs: { main: string[]; worker: string[] };
}

/**
 * Builds the playground (web/index.html, web/src/) into `outDir`, replacing an earlier build
 * there. A folder that holds something else (no build.json) is refused, not emptied.
 */
export async function buildWeb(outDir = join(HERE, 'dist')): Promise<WebBuild> {
  const out = resolve(outDir);
  const existing = await readdir(out).catch(() => [] as string[]);
  if (existing.length > 0 && !existing.includes('build.json')) {
    throw new Error(`refusing to build the playground into ${out}: it is not empty and holds no earlier build (build.json)`);
  }
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  // No source maps: they would be five times the size of the page they describe (15 MB).
  const main = await bundleForBrowser(join(HERE, 'src', 'main.ts'), join(out, 'main.js'), { sourcemap: false });
  const worker = await bundleForBrowser(join(HERE, 'src', 'worker.ts'), join(out, 'worker.js'), { sourcemap: false });
  await copyWasmBinaries(out);
  await copyFile(join(HERE, 'index.html'), join(out, 'index.html'));
  await copyFile(join(HERE, 'style.css'), join(out, 'style.css'));
  const pkg = JSON.parse(await readFile(join(HERE, '..', 'package.json'), 'utf8')) as { version: string };
  await writeFile(join(out, 'build.json'), JSON.stringify({ flowsampler: pkg.version, built: new Date().toISOString() }) + '\n');
  return { dir: out, inputs: { main: Object.keys(main.inputs), worker: Object.keys(worker.inputs) } };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const { dir: out } = await buildWeb(process.argv[2]);
  console.log(`playground built in ${out} (${((performance.now() - t0) / 1000).toFixed(1)} s); serve it with: npx flowsampler serve`);
}
