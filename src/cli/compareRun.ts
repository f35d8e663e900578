/**
 * The comparison engine behind `compare` and `demo`: for each target, run each sampler (the
 * flow is trained first, once per target, and its cost charged to every sampler that uses it),
 * compute the table, and write DIR/results.json, the draws as CmdStan CSV, DIR/report.html and
 * DIR/figures/*.png — every file atomically.
 *
 * Ctrl-C (the signal) stops the sampler that is running; what finished before is kept, written
 * and reported, and the run ends with exit code 130.
 */
import { join } from 'node:path';
import type { Draws } from '../core/draws.js';
import { AbortedError, FlowsamplerError } from '../core/errors.js';
import { writeFileAtomic, writeFileAtomicMkdir, writeJsonAtomic } from '../core/atomicWrite.js';
import type { Target } from '../targets/target.js';
import type { CommandIO } from './command.js';
import type { SamplerEntry, RunContext, TrainedFlow } from './samplerRegistry.js';
import { summaryRowFor, failedRow } from './metrics.js';
import { createProgress } from './progress.js';
import { machineInfo, versionInfo } from './runInfo.js';
import { groundTruthMetrics } from './groundTruth.js';
import { trainFlowFor, type TrainOptions } from './flowTraining.js';
import { drawsToCsv } from './drawsCsv.js';
import { formatTable, type SummaryRow } from '../report/summaryRow.js';
import { figureSet } from '../report/figures.js';
import { renderReportHtml, type ReportSection } from '../report/html.js';
import { exportFiguresPng } from '../report/png.js';
import { safeId } from '../report/figure.js';
import type { TrainingCurve } from '../report/trainingFigure.js';
import type { TargetSource } from '../study/targetSource.js';
import type { WorkerPool } from '../study/pool.js';
import { startTargetRuns, type TargetRuns } from '../study/parallelRun.js';

export interface CompareTarget {
  target: Target;
  /** The user's expression for --expr targets (shown, escaped, in the report). */
  expression?: string;
  /** Per-target training settings over the run's (e.g. annealing for a multimodal target). */
  train?: TrainOptions;
  /** Where the target comes from, as data: needed to run its samplers on a worker pool. */
  source?: TargetSource;
}

export interface CompareConfig {
  targets: CompareTarget[];
  samplers: SamplerEntry[];
  draws: number;
  chains: number;
  warmup?: number;
  seed: number | string;
  outDir: string;
  train: TrainOptions;
  /** Write figures/*.png (default true). */
  png?: boolean;
  /** The command line, for results.json. */
  command: string[];
  title?: string;
  /**
   * Run chains, samplers and flows on this worker pool (same numbers as one thread). Used only
   * when every target has a `source`; otherwise everything runs on this thread.
   */
  pool?: WorkerPool;
}

export interface TargetResult {
  target: CompareTarget;
  rows: SummaryRow[];
  draws: Draws[];
  params: Record<string, unknown[]>;
  training: TrainingCurve[];
  files: string[];
}

export interface CompareOutcome {
  results: TargetResult[];
  interrupted: boolean;
  reportPath: string;
  resultsPath: string;
}

function targetJson(t: CompareTarget): Record<string, unknown> {
  return {
    name: t.target.name,
    dim: t.target.dim,
    description: t.target.description,
    params: t.target.params,
    ...(t.expression ? { expression: t.expression } : {}),
    ...(t.target.logZ !== undefined ? { logZ: t.target.logZ } : {}),
    ...(t.train ? { train: t.train } : {}),
    exactSampler: Boolean(t.target.sampleExact),
  };
}

/** Runs the comparison, writes every output, prints the tables; returns what happened. */
export async function runCompare(cfg: CompareConfig, io: CommandIO): Promise<CompareOutcome> {
  const started = new Date();
  const results: TargetResult[] = [];
  let interrupted = false;
  const multi = cfg.targets.length > 1;
  // On a pool, every task of every target is queued now; the loop below takes the results in order.
  const stopPool = new AbortController();
  const poolSignal = AbortSignal.any([io.signal, stopPool.signal]);
  const runs: TargetRuns[] | null =
    cfg.pool && cfg.targets.every((t) => t.source)
      ? cfg.targets.map((ct) =>
          startTargetRuns(cfg.pool!, {
            target: ct.target,
            source: ct.source!,
            baseDir: process.cwd(),
            samplers: cfg.samplers,
            budget: { seed: cfg.seed, chains: cfg.chains, draws: cfg.draws, warmup: cfg.warmup },
            train: { ...cfg.train, ...ct.train },
            signal: poolSignal,
            progress: (label) => createProgress(io, `${ct.target.name}/${label}`),
          }),
        )
      : null;
  for (const [ti, ct] of cfg.targets.entries()) {
    if (interrupted) break;
    const target = ct.target;
    const res: TargetResult = { target: ct, rows: [], draws: [], params: {}, training: [], files: [] };
    results.push(res);
    let flowPromise: Promise<TrainedFlow> | null = null;
    const trainedFlow = () => {
      flowPromise ??= (async () => {
        const progress = createProgress(io, `${target.name}/train`);
        try {
          const tf = await trainFlowFor(target, { ...cfg.train, ...ct.train, seed: cfg.seed, signal: io.signal, onProgress: (p) => progress.update(p.done, p.total, 'training') });
          progress.stop(`${(tf.trainTimeMs / 1000).toFixed(1)} s`);
          res.training.push(tf.curve);
          return tf;
        } catch (e) {
          progress.stop('stopped');
          throw e;
        }
      })();
      return flowPromise;
    };
    let curveKept = false;
    for (const s of cfg.samplers) {
      const isFlow = s.kind === 'importance' || s.kind === 'flow-mcmc';
      const progress = runs ? { update: () => undefined, stop: () => undefined } : createProgress(io, `${target.name}/${s.name}`);
      const ctx: RunContext = {
        target,
        seed: cfg.seed,
        chains: cfg.chains,
        draws: cfg.draws,
        warmup: cfg.warmup,
        signal: io.signal,
        onProgress: (p) => progress.update(p.done, p.total, p.phase),
        trainedFlow,
      };
      try {
        if (io.signal.aborted) throw new AbortedError('stopped by the user');
        let d: Draws;
        let trainEvals = 0;
        if (runs) {
          if (isFlow && !curveKept) {
            const f = await runs[ti].flow!;
            if (f.curve) res.training.push(f.curve);
            curveKept = true;
          }
          d = await runs[ti].draws(s.name);
          if (isFlow) trainEvals = (await runs[ti].flow!).trainEvals;
        } else {
          d = await s.run(ctx);
          d.target = target.name;
          trainEvals = isFlow ? (await trainedFlow()).trainEvals : 0;
        }
        progress.stop();
        const gt = groundTruthMetrics(target, d, { seed: cfg.seed, importance: s.kind === 'importance' });
        const { row, params } = summaryRowFor(d, { trainEvals, kl: gt.kl, khat: gt.khat });
        res.rows.push(row);
        res.params[s.name] = params;
        res.draws.push(d);
        for (let c = 0; c < d.chains; c++) {
          const file = join(cfg.outDir, 'draws', `${safeId(target.name)}_${safeId(s.name)}_${c + 1}.csv`);
          await writeFileAtomicMkdir(file, drawsToCsv(d, c, target));
          res.files.push(file);
        }
      } catch (e) {
        progress.stop('stopped');
        if (e instanceof AbortedError || io.signal.aborted) {
          interrupted = true;
          io.err(`${target.name}/${s.name}: interrupted; keeping the ${res.rows.length} sampler(s) that finished`);
          break;
        }
        if (e instanceof FlowsamplerError) {
          io.err(`${target.name}/${s.name}: failed: ${e.message}`);
          res.rows.push(failedRow(s.name, e.message));
          continue;
        }
        throw e;
      }
    }
    if (flowPromise) {
      // Free the flow's tensors; a failed training has nothing to free.
      await (flowPromise as Promise<TrainedFlow>).then((f) => f.flow.dispose()).catch(() => undefined);
    }
    io.out('');
    io.out(`${multi ? `target ${target.name} ` : ''}(dim ${target.dim}, ${cfg.chains} chains x ${cfg.draws} draws, seed ${cfg.seed})`);
    io.out(formatTable(res.rows));
  }
  stopPool.abort(); // tasks nobody will read (after Ctrl-C) stop now; the command closes the pool

  // Files: results.json, report.html, figures.
  const sections: ReportSection[] = [];
  const allFigures: { prefix: string; figs: ReturnType<typeof figureSet> }[] = [];
  for (const r of results) {
    const figs = figureSet(r.target.target, r.draws, r.rows, r.training, { seed: cfg.seed });
    allFigures.push({ prefix: multi ? `${safeId(r.target.target.name)}-` : '', figs });
    sections.push({
      target: { ...targetJson(r.target), name: r.target.target.name, dim: r.target.target.dim, description: r.target.target.description, params: r.target.target.params, expression: r.target.expression },
      rows: r.rows,
      figures: figs,
      notes: interrupted ? ['The run was interrupted (Ctrl-C): only the samplers that finished are shown.'] : [],
    });
  }
  const meta = {
    seed: cfg.seed,
    command: cfg.command,
    started: started.toISOString(),
    finished: new Date().toISOString(),
    interrupted,
    settings: { draws: cfg.draws, chains: cfg.chains, warmup: cfg.warmup ?? 'sampler default', samplers: cfg.samplers.map((s) => s.name), train: cfg.train },
    versions: versionInfo(),
    machine: machineInfo(),
  };
  const resultsJson = {
    ...meta,
    targets: results.map((r) => ({
      target: targetJson(r.target),
      rows: r.rows,
      parameters: r.params,
      samplers: Object.fromEntries(
        r.draws.map((d) => [
          d.sampler,
          {
            chains: d.chains,
            draws: d.draws,
            wallTimeMs: d.wallTimeMs,
            trainTimeMs: d.trainTimeMs,
            densityEvals: d.densityEvals,
            gradEvals: d.gradEvals,
            acceptance: d.acceptance,
            nonFinite: d.nonFinite,
            divergences: d.divergences ?? null,
            info: d.info ?? {},
          },
        ]),
      ),
      training: r.training,
      files: r.files.map((f) => f.slice(cfg.outDir.length + 1)),
    })),
  };
  const resultsPath = join(cfg.outDir, 'results.json');
  await writeJsonAtomic(resultsPath, resultsJson);
  const reportPath = join(cfg.outDir, 'report.html');
  await writeFileAtomic(reportPath, await renderReportHtml({ title: cfg.title ?? `flowsampler comparison: ${results.map((r) => r.target.target.name).join(', ')}`, sections, meta }));
  if (cfg.png !== false) {
    for (const { prefix, figs } of allFigures) await exportFiguresPng(figs, join(cfg.outDir, 'figures'), prefix);
  }
  io.out('');
  io.out(`wrote ${resultsPath}`);
  io.out(`wrote ${reportPath}`);
  return { results, interrupted, reportPath, resultsPath };
}
