/**
 * The chains worker's run: each classical sampler the user ticked (from the CLI's registry, so
 * with the CLI's defaults: 1000 warm-up iterations, adaptation, the start-up gradient check),
 * one after another, each posting its row and its draws (which the page passes on to the flow
 * worker for the figures). A stop ends the running sampler; it and those not started get a
 * 'stopped' row.
 */
import { AbortedError, FlowsamplerError, failedRow } from '../../src/index.js';
import { samplerRegistry, type RunContext } from '../../src/cli/samplerRegistry.js';
import { comparisonRow } from './rows.js';
import { targetForRun } from './targetChoice.js';
import type { FromWorker, RunSettings, TargetChoice } from './protocol.js';

/** Least time between progress messages of one sampler. */
const PROGRESS_MS = 200;

export async function runChains(id: number, stop: AbortSignal, choice: TargetChoice, settings: RunSettings, post: (m: FromWorker) => void): Promise<void> {
  const target = targetForRun(choice, id, post);
  if (!target) return;
  for (const name of settings.chainSamplers) {
    const entry = samplerRegistry.find((s) => s.name === name);
    if (!entry) throw new Error(`unknown sampler ${name}`);
    if (stop.aborted) {
      post({ type: 'row', run: id, row: failedRow(name, 'stopped by the user'), notes: [] });
      continue;
    }
    let last = 0;
    const ctx: RunContext = {
      target,
      seed: settings.seed,
      chains: settings.chains,
      draws: settings.draws,
      signal: stop,
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < PROGRESS_MS) return;
        last = now;
        post({ type: 'sampler', run: id, sampler: name, done: p.done, total: p.total, phase: p.phase });
      },
      trainedFlow: () => Promise.reject(new Error('the chains worker has no flow')),
    };
    try {
      const d = await entry.run(ctx);
      d.target = target.name;
      const { row, notes } = comparisonRow(target, entry, d, settings.seed);
      post({ type: 'row', run: id, row, notes, draws: d });
    } catch (e) {
      if (e instanceof AbortedError || stop.aborted) {
        post({ type: 'row', run: id, row: failedRow(name, 'stopped by the user'), notes: [] });
      } else if (e instanceof FlowsamplerError) {
        post({ type: 'row', run: id, row: failedRow(name, e.message), notes: [] });
      } else throw e;
    }
  }
}
