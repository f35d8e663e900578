/**
 * The library in a browser: test/browser/scenario.ts bundled by esbuild for the browser, served
 * from localhost with tfjs-backend-wasm's binaries beside it, run in headless Chromium, and
 * compared with the same scenario run here in Node. The flow (trained on the heap engine in
 * both) must give Node's draws and log q to float32 rounding, NUTS the very same draws; the
 * backend must not look at process.env; nothing may leave localhost.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startStaticServer, type StaticServer } from '../src/cli/staticServer.js';
import { bundleForBrowser, copyWasmBinaries } from '../web/build.js';
import { flowScenario, nutsScenario, type FlowOutcome, type NutsOutcome } from './browser/scenario.js';
import { chromiumOrSkipMessage, launchChromium, watchPage } from './helpers/browser.js';

const run = chromiumOrSkipMessage('browser.core.e2e');

// Records which properties of a fake `process` the bundle reads (a browser has no process;
// some bundlers shim one, and the core must not read its env even then).
const PAGE = `<!doctype html><meta charset="utf-8"><title>loading</title><link rel="icon" href="data:,">
<script>
  window.__processReads = [];
  window.process = new Proxy({}, { get(_, key) { window.__processReads.push(String(key)); return undefined; } });
</script>
<script type="module" src="harness.js"></script>`;

describe.skipIf(!run)('the core bundle in headless Chromium', () => {
  let dir: string;
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let watch: { errors: string[]; offsite: string[] };
  let bundleInputs: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowsampler-browser-'));
    const meta = await bundleForBrowser(join(import.meta.dirname, 'browser', 'harness.ts'), join(dir, 'harness.js'), { minify: false, sourcemap: false });
    bundleInputs = Object.keys(meta.inputs);
    await copyWasmBinaries(dir);
    await writeFile(join(dir, 'index.html'), PAGE);
    server = await startStaticServer(dir);
    browser = await launchChromium();
    page = await browser.newPage();
    watch = watchPage(page, server.url);
    await page.goto(server.url);
    await page.waitForFunction(() => document.title === 'ready', null, { timeout: 30_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('bundles without Node built-ins', () => {
    expect(bundleInputs.filter((f) => f.startsWith('node:') || /^(fs|path|os|crypto|timers)(\/|$)/.test(f))).toEqual([]);
    expect(bundleInputs.some((f) => f.includes('src/flows/engine/heap/kernels.ts'))).toBe(true);
  });

  it("trains the banana flow and reproduces Node's draws and log q on 1000 draws to float32 rounding", async () => {
    const inBrowser = (await page.evaluate(() => (window as unknown as { flowsamplerTest: { flowScenario(): Promise<unknown> } }).flowsamplerTest.flowScenario())) as FlowOutcome;
    const inNode = await flowScenario();
    expect(inBrowser.backend).toBe('wasm');
    // The flows' fast path (direct XNNPACK calls into tfjs-backend-wasm) runs in the browser too.
    expect(inNode.path).toBe('heap');
    expect(inBrowser.path).toBe(inNode.path);
    expect(inBrowser.steps).toBe(inNode.steps);
    expect(inBrowser.logq.length).toBe(1000);
    let worstLogq = 0;
    let worstX = 0;
    for (let i = 0; i < 1000; i++) {
      // float32 rounding: a few units in the last place of the value (2^-23 ≈ 1.2e-7 relative).
      worstLogq = Math.max(worstLogq, Math.abs(inBrowser.logq[i] - inNode.logq[i]) / Math.max(1, Math.abs(inNode.logq[i])));
    }
    for (let i = 0; i < inNode.x.length; i++) worstX = Math.max(worstX, Math.abs(inBrowser.x[i] - inNode.x[i]) / Math.max(1, Math.abs(inNode.x[i])));
    console.log(`browser vs Node: largest relative difference, log q ${worstLogq.toExponential(2)}, x ${worstX.toExponential(2)}`);
    expect(worstLogq).toBeLessThan(1e-6);
    expect(worstX).toBeLessThan(1e-6);
    expect(Math.abs(inBrowser.finalElboMA - inNode.finalElboMA)).toBeLessThan(1e-5 * Math.max(1, Math.abs(inNode.finalElboMA)));
  });

  it('runs NUTS with the same draws as Node', async () => {
    const inBrowser = (await page.evaluate(() => (window as unknown as { flowsamplerTest: { nutsScenario(): Promise<unknown> } }).flowsamplerTest.nutsScenario())) as NutsOutcome;
    const inNode = await nutsScenario();
    expect(inBrowser.values.length).toBe(2 * 300 * 2);
    expect(inBrowser.densityEvals).toBe(inNode.densityEvals);
    expect(inBrowser.values).toEqual(inNode.values);
    expect(inBrowser.acceptance).toBe(inNode.acceptance);
  });

  it('never read process.env, raised no error and stayed on localhost', async () => {
    const reads = await page.evaluate(() => (window as unknown as { __processReads: string[] }).__processReads);
    expect(reads).not.toContain('env');
    expect(watch.errors).toEqual([]);
    expect(watch.offsite).toEqual([]);
  });
});
