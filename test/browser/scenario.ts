/**
 * What the browser test runs twice, once in Node and once bundled for headless Chromium, with the
 * same seeds: train the banana flow, draw 1000 points with log q; run NUTS. Plain arrays out, so
 * both sides return the same JSON.
 */
import { backendInfo, banana, createDefaultFlow, initBackend, nuts, trainReverseKL } from '../../src/index.js';

export interface FlowOutcome {
  backend: string;
  path: string;
  steps: number;
  finalElboMA: number;
  x: number[];
  logq: number[];
}

export async function flowScenario(): Promise<FlowOutcome> {
  await initBackend();
  const target = banana();
  const flow = createDefaultFlow(target.dim, { seed: 11 });
  try {
    const fit = await trainReverseKL(flow, target, { seed: 11, steps: 150, earlyStopping: false });
    const { x, logq } = flow.sampleArrays(1000, 12);
    return { backend: backendInfo()!.name, path: fit.path, steps: fit.steps, finalElboMA: fit.finalElboMA, x: Array.from(x), logq: Array.from(logq) };
  } finally {
    flow.dispose();
  }
}

export interface NutsOutcome {
  values: number[];
  acceptance: number;
  divergences: number;
  densityEvals: number;
}

export async function nutsScenario(): Promise<NutsOutcome> {
  const d = await nuts(banana(), { seed: 13, chains: 2, draws: 300, warmup: 300 });
  return { values: Array.from(d.values), acceptance: d.acceptance, divergences: d.divergences ?? 0, densityEvals: d.densityEvals };
}
