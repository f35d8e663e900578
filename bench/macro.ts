/**
 * Macro benchmark: every sampler of `compare` on four targets that stress different things —
 * banana (2-D, curved), Neal's funnel (10-D, varying scale), the ring of 8 Gaussians (2-D,
 * multimodal) and the ill-conditioned Gaussian (50-D, condition number 100). For each: min bulk
 * ESS, ESS per second and per 1000 density evaluations (flow training included), R-hat, KL to
 * exact draws, PSIS k-hat, and the flow's training time. Run alone: `npx tsx bench/macro.ts`
 * (`--quick` for a smoke run).
 */
import { pathToFileURL } from 'node:url';
import { initBackend } from '../src/core/backend.js';
import { AbortedError } from '../src/core/errors.js';
import { parseTargetSpec } from '../src/targets/registry.js';
import { samplerRegistry, type RunContext, type TrainedFlow } from '../src/cli/samplerRegistry.js';
import { trainFlowFor } from '../src/cli/flowTraining.js';
import { summaryRowFor, failedRow } from '../src/report/metrics.js';
import { groundTruthMetrics } from '../src/report/groundTruth.js';
import { formatTable, type SummaryRow } from '../src/report/summaryRow.js';
import { TRAIN_DEFAULTS } from '../src/flows/train/reverseKL.js';

export const MACRO_TARGETS: { id: string; spec: string }[] = [
  { id: 'banana2d', spec: 'banana' },
  { id: 'funnel10', spec: 'funnel:dim=10' },
  { id: 'ring', spec: 'ring' },
  { id: 'illgauss50', spec: 'illgauss:dim=50' },
];

export interface MacroOptions {
  quick?: boolean;
  seed?: number;
  samplers?: string[];
  targets?: string[];
  log?: (line: string) => void;
}

export interface MacroTargetResult {
  id: string;
  spec: string;
  dim: number;
  trainTimeS: number | null;
  trainSteps: number;
  rows: SummaryRow[];
}

export async function benchMacro(opts: MacroOptions = {}): Promise<{ settings: Record<string, unknown>; targets: MacroTargetResult[] }> {
  const log = opts.log ?? console.log;
  await initBackend();
  const quick = opts.quick ?? false;
  const settings = {
    chains: quick ? 2 : 4,
    draws: quick ? 200 : 1000,
    // The flow is trained with the trainer's defaults and the 60 s budget.
    trainSteps: quick ? 100 : TRAIN_DEFAULTS.steps,
    trainMaxSeconds: quick ? 20 : 60,
    seed: opts.seed ?? 1,
  };
  const entries = samplerRegistry.filter((s) => !opts.samplers || opts.samplers.includes(s.name));
  const out: MacroTargetResult[] = [];
  for (const t of MACRO_TARGETS.filter((x) => !opts.targets || opts.targets.includes(x.id))) {
    const target = parseTargetSpec(t.spec);
    let flowP: Promise<TrainedFlow> | null = null;
    const trainedFlow = () =>
      (flowP ??= trainFlowFor(target, { steps: settings.trainSteps, maxSeconds: settings.trainMaxSeconds, seed: settings.seed }));
    const rows: SummaryRow[] = [];
    for (const s of entries) {
      const ctx: RunContext = {
        target,
        seed: settings.seed,
        chains: settings.chains,
        draws: settings.draws,
        signal: new AbortController().signal,
        onProgress: () => undefined,
        trainedFlow,
      };
      try {
        const d = await s.run(ctx);
        const trainEvals = s.kind === 'importance' || s.kind === 'flow-mcmc' ? (await trainedFlow()).trainEvals : 0;
        const gt = groundTruthMetrics(target, d, { seed: settings.seed, importance: s.kind === 'importance' });
        rows.push(summaryRowFor(d, { trainEvals, kl: gt.kl, khat: gt.khat }).row);
      } catch (e) {
        if (e instanceof AbortedError) throw e;
        rows.push(failedRow(s.name, e instanceof Error ? e.message : String(e)));
      }
    }
    let trainTimeS: number | null = null;
    if (flowP) {
      const f = await (flowP as Promise<TrainedFlow>).catch(() => null);
      if (f) {
        trainTimeS = f.trainTimeMs / 1000;
        f.flow.dispose();
      }
    }
    log(`\n${t.id} (${t.spec}, dim ${target.dim}; flow training ${trainTimeS?.toFixed(1) ?? '-'} s)`);
    log(formatTable(rows));
    out.push({ id: t.id, spec: t.spec, dim: target.dim, trainTimeS, trainSteps: settings.trainSteps, rows });
  }
  return { settings, targets: out };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const { writeResults } = await import('./run.js');
  const res = await benchMacro({ quick });
  await writeResults('macro', res);
}
