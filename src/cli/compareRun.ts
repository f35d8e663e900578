/**
 * The comparison engine behind `compare` and `demo`: for each target, run each sampler (the
 * flow is trained first, once per target, and its cost charged to every sampler that uses it),
 * compute the table, and write DIR/results.json, the draws as CmdStan CSV, DIR/report.html and
 * DIR/figures/*.png — every file atomically.
 *
 * Ctrl-C (the signal) stops the sampler that is running; what finished before is kept, written
 * and reported, and the run ends with exit code 130.
 */
import { join, relative } from 'node:path';
import { formatWarnings } from '../core/warnings.js';
import { previousOutputs, removeStaleOutputs } from './staleOutputs.js';
import type { Draws } from '../core/draws.js';
import { AbortedError, FlowsamplerError } from '../core/errors.js';
import { writeFileAtomic, writeFileAtomicMkdir, writeJsonAtomic } from '../core/atomicWrite.js';
import type { Target } from '../targets/target.js';
import type { CommandIO } from './command.js';
import type { SamplerEntry, RunContext, TrainedFlow } from './samplerRegistry.js';
import { summaryRowFor, failedRow } from '../report/metrics.js';
import { createProgress } from './progress.js';
import { machineInfo, versionInfo } from './runInfo.js';
import { groundTruthMetrics } from '../report/groundTruth.js';
import { trainFlowFor, type TrainOptions } from './flowTraining.js';
import { drawsToCsv } from './drawsCsv.js';
import { formatTable, type SummaryRow } from '../report/summaryRow.js';
import { figureSet } from '../report/figures.js';
import { renderReportHtml, type ReportSection } from '../report/html.js';
import { exportFiguresPng } from '../report/png.js';
import { safeId } from '../report/figure.js';
import type { TrainingCurve } from '../report/trainingFigure.js';
import { constrainDraws } from '../models/draws.js';
import { modeVisits, modesMissedWarning } from '../diagnostics/modes.js';
import { addWarnings } from '../core/warnings.js';
import { flowCoverage, coverageLines, MIN_SMC_RUNS, type CoverageReport } from './coverageProbe.js';
import type { TargetSource } from '../study/targetSource.js';
import type { WorkerPool } from '../study/pool.js';
import { startTargetRuns, type TargetRuns } from '../study/parallelRun.js';

export interface CompareTarget {
  target: Target;
  /** The user's expression for --expr targets (shown, escaped, in the report). */
  expression?: string;
  /** Per-target training settings over the run's (e.g. annealing for a multimodal target). */
  train?: TrainOptions;
  /** A --model target: the model file and its data file (absolute paths). */
  model?: { file: string; data: string | null };
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
  /** Run the flow's coverage check (missed mass, thin tails) when a flow was trained (default true). */
  coverage?: boolean;
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
  /** Draws per known mode, by sampler (targets whose modes are known). */
  modeCounts: Record<string, number[]>;
  /** The flow's coverage check, when a flow was trained and checked. */
  coverage: CoverageReport | null;
  /** Warnings samplers put in their Draws (info.warning), shown under the table. */
  warnings: string[];
  /** What flow training decided (the 'auto' method), shown under the table. */
  notes: string[];
}

export interface CompareOutcome {
  results: TargetResult[];
  interrupted: boolean;
  reportPath: string;
  resultsPath: string;
  /** Rows that ran, rows that failed, and warnings over all rows. */
  succeeded: number;
  failed: number;
  warnings: number;
}

function targetJson(t: CompareTarget): Record<string, unknown> {
  return {
    name: t.target.name,
    dim: t.target.dim,
    description: t.target.description,
    params: t.target.params,
    ...(t.expression ? { expression: t.expression } : {}),
    ...(t.model ? { model: t.model, constrainedNames: t.target.constrained?.names ?? [] } : {}),
    ...(t.target.logZ !== undefined ? { logZ: t.target.logZ } : {}),
    ...(t.train ? { train: t.train } : {}),
    exactSampler: Boolean(t.target.sampleExact),
  };
}

/** The target as the figures see the draws: a model's constrained names and dimension (no density contours). */
function figureTarget(t: Target): Target {
  const v = t.constrained;
  if (!v) return t;
  return { ...t, dim: v.names.length, paramNames: v.names, plotBounds: undefined, logDensity: () => NaN };
}

/**
 * Transitions below which a pool costs more than it saves: starting a worker thread (Node,
 * tfjs and its wasm module) takes longer than a few thousand cheap transitions.
 */
export const POOL_MIN_ITERATIONS = 20_000;

/** MCMC transitions a run would send to the pool (flows stay on this thread). */
function pooledWork(cfg: CompareConfig): number {
  const mcmc = cfg.samplers.filter((s) => s.kind !== 'importance' && s.kind !== 'flow-mcmc').length;
  return cfg.targets.length * mcmc * cfg.chains * (cfg.draws + (cfg.warmup ?? 1000));
}

/** Runs the comparison, writes every output, prints the tables; returns what happened. */
export async function runCompare(cfg: CompareConfig, io: CommandIO): Promise<CompareOutcome> {
  const started = new Date();
  // What an earlier run wrote into this directory: removed at the end if this run does not rewrite it.
  const previous = await previousOutputs(cfg.outDir);
  const results: TargetResult[] = [];
  let interrupted = false;
  const multi = cfg.targets.length > 1;
  // On a pool, every task of every target is queued now; the loop below takes the results in order.
  const stopPool = new AbortController();
  const poolSignal = AbortSignal.any([io.signal, stopPool.signal]);
  const runs: TargetRuns[] | null =
    cfg.pool && cfg.targets.every((t) => t.source) && pooledWork(cfg) >= POOL_MIN_ITERATIONS
      ? cfg.targets.map((ct) =>
          startTargetRuns(cfg.pool!, {
            target: ct.target,
            source: ct.source!,
            baseDir: process.cwd(),
            // Flows train on this thread (one thread per flow), beside the pool's chains.
            samplers: cfg.samplers.filter((s) => s.kind !== 'importance' && s.kind !== 'flow-mcmc'),
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
    const res: TargetResult = { target: ct, rows: [], draws: [], params: {}, training: [], files: [], modeCounts: {}, coverage: null, warnings: [], notes: [] };
    results.push(res);
    let flowPromise: Promise<TrainedFlow> | null = null;
    const trainedFlow = () => {
      flowPromise ??= (async () => {
        const progress = createProgress(io, `${target.name}/train`);
        try {
          const tf = await trainFlowFor(target, { ...cfg.train, ...ct.train, seed: cfg.seed, signal: io.signal, onProgress: (p) => progress.update(p.done, p.total, 'training') });
          progress.stop(`${(tf.trainTimeMs / 1000).toFixed(1)} s`);
          res.training.push(tf.curve);
          res.notes.push(...tf.notes);
          if (cfg.coverage === false && tf.method === 'reverse-kl') res.notes.push('warning: coverage not checked (--no-coverage): reverse KL is mode-seeking and the flow may miss modes that k-hat and ESS cannot see');
          return tf;
        } catch (e) {
          progress.stop('stopped');
          throw e;
        }
      })();
      return flowPromise;
    };
    for (const s of cfg.samplers) {
      const isFlow = s.kind === 'importance' || s.kind === 'flow-mcmc';
      const pooled = runs !== null && !isFlow;
      const progress = pooled ? { update: () => undefined, stop: () => undefined } : createProgress(io, `${target.name}/${s.name}`);
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
        if (pooled) {
          d = await runs![ti].draws(s.name);
        } else {
          d = await s.run(ctx);
          d.target = target.name;
          trainEvals = isFlow ? (await trainedFlow()).trainEvals : 0;
        }
        progress.stop();
        if (typeof d.info?.warning === 'string') res.warnings.push(`${s.name}: ${d.info.warning}`);
        const gt = groundTruthMetrics(target, d, { seed: cfg.seed, importance: s.kind === 'importance' });
        // A flow sampler inherits its flow's training warnings (skipped steps, plateau far from convergence).
        const trainWarnings = isFlow ? (await trainedFlow()).warnings : [];
        // Models: every summary, file and figure on the constrained scale, with Stan's names.
        const shown = target.constrained ? constrainDraws(d, target, { seed: cfg.seed }) : d;
        const { row, params } = summaryRowFor(shown, { trainEvals, kl: gt.kl, khat: gt.khat, warnings: trainWarnings });
        if (target.modes) {
          const mv = modeVisits(d.values, d.dim, target.modes);
          row.modesVisited = mv.visited;
          row.modes = mv.modes;
          const missed = modesMissedWarning(s.name, mv);
          if (missed) row.warnings = addWarnings(row.warnings ?? [], [missed]);
          if (mv.modes <= 256) res.modeCounts[d.sampler] = Array.from(mv.counts);
        }
        res.rows.push(row);
        res.params[s.name] = params;
        res.draws.push(shown);
        for (let c = 0; c < d.chains; c++) {
          const file = join(cfg.outDir, 'draws', `${safeId(target.name)}_${safeId(s.name)}_${c + 1}.csv`);
          await writeFileAtomicMkdir(file, drawsToCsv(d, c, target, target.constrained ? shown : undefined));
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
    const flowRows = res.rows.filter((r) => !r.error && cfg.samplers.some((s) => s.name === r.sampler && (s.kind === 'importance' || s.kind === 'flow-mcmc')));
    if (flowPromise && !interrupted && cfg.coverage !== false && flowRows.length > 0) {
      const progress = createProgress(io, `${target.name}/coverage`);
      try {
        const trained = await (flowPromise as Promise<TrainedFlow>);
        progress.update(0, 1, 'checking');
        res.coverage = await flowCoverage(target, trained.flow, {
          seed: cfg.seed,
          signal: io.signal,
          // The run's smc sampler, else the SMC run flow training used (auto, mode-covering).
          ...pickSmc(res.draws.find((d) => d.sampler === 'smc'), trained.pilotSmc),
          nutsDraws: res.draws.find((d) => d.sampler === 'nuts'),
        });
        progress.stop(`${res.coverage.seconds.toFixed(1)} s`);
        for (const r of flowRows) r.coverage = res.coverage.cell;
      } catch (e) {
        progress.stop('stopped');
        if (e instanceof AbortedError || io.signal.aborted) {
          interrupted = true;
          io.err(`${target.name}/coverage: interrupted`);
        } else if (e instanceof FlowsamplerError) io.err(`${target.name}/coverage: failed: ${e.message}`);
        else throw e;
      }
    }
    if (flowPromise) {
      // Free the flow's tensors; a failed training has nothing to free.
      await (flowPromise as Promise<TrainedFlow>).then((f) => f.flow.dispose()).catch(() => undefined);
    }
    io.out('');
    io.out(`${multi ? `target ${target.name} ` : ''}(dim ${target.dim}, ${cfg.chains} chains x ${cfg.draws} draws, seed ${cfg.seed})`);
    io.out(formatTable(res.rows));
    for (const r of res.rows) for (const line of formatWarnings(r.warnings ?? [], r.sampler)) io.out(line);
    for (const w of res.warnings) io.out(`warning: ${w}`);
    for (const n of res.notes) io.out(n);
    if (res.coverage) for (const l of coverageLines(res.coverage)) io.out(l);
  }
  // A Ctrl-C after the last sampler finished still marks the run as interrupted.
  if (io.signal.aborted) interrupted = true;
  stopPool.abort(); // tasks nobody will read (after Ctrl-C) stop now; the command closes the pool

  // Files: results.json, report.html, figures.
  const sections: ReportSection[] = [];
  const allFigures: { prefix: string; figs: ReturnType<typeof figureSet> }[] = [];
  for (const r of results) {
    const figs = figureSet(figureTarget(r.target.target), r.draws, r.rows, r.training, { seed: cfg.seed, modeCounts: r.modeCounts });
    allFigures.push({ prefix: multi ? `${safeId(r.target.target.name)}-` : '', figs });
    sections.push({
      target: { ...targetJson(r.target), name: r.target.target.name, dim: r.target.target.dim, description: r.target.target.description, params: r.target.target.params, expression: r.target.expression },
      rows: r.rows,
      figures: figs,
      notes: [
        ...(interrupted ? ['The run was interrupted (Ctrl-C): only the samplers that finished are shown.'] : []),
        ...r.warnings.map((w) => `warning: ${w}`),
        ...r.notes,
        ...(r.coverage ? coverageLines(r.coverage) : []),
      ],
    });
  }
  const meta = {
    seed: cfg.seed,
    command: cfg.command,
    started: started.toISOString(),
    finished: new Date().toISOString(),
    interrupted,
    warnings: results.reduce((a, r) => a + r.rows.reduce((b, row) => b + (row.warnings?.length ?? 0), 0), 0),
    settings: { draws: cfg.draws, chains: cfg.chains, warmup: cfg.warmup ?? 'sampler default', samplers: cfg.samplers.map((s) => s.name), train: cfg.train },
    versions: versionInfo(),
    machine: machineInfo(),
  };
  // Every file this run writes, for the next run into the same directory (src/cli/staleOutputs.ts).
  const outputs = [
    'results.json',
    'report.html',
    ...results.flatMap((r) => r.files.map((f) => relative(cfg.outDir, f))),
    ...(cfg.png !== false ? allFigures.flatMap(({ prefix, figs }) => figs.map((f) => join('figures', `${prefix}${f.id}.png`))) : []),
  ];
  const resultsJson = {
    ...meta,
    outputs,
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
            warnings: d.warnings,
            info: d.info ?? {},
          },
        ]),
      ),
      training: r.training,
      modeCounts: r.modeCounts,
      trainingNotes: r.notes,
      coverage: r.coverage ? { ...r.coverage, result: { ...r.coverage.result } } : null,
      files: r.files.map((f) => relative(cfg.outDir, f)),
    })),
  };
  const resultsPath = join(cfg.outDir, 'results.json');
  await writeJsonAtomic(resultsPath, resultsJson);
  const reportPath = join(cfg.outDir, 'report.html');
  await writeFileAtomic(reportPath, await renderReportHtml({ title: cfg.title ?? `flowsampler comparison: ${results.map((r) => r.target.target.name).join(', ')}`, sections, meta }));
  const written = [resultsPath, reportPath, ...results.flatMap((r) => r.files)];
  if (cfg.png !== false) {
    for (const { prefix, figs } of allFigures) written.push(...(await exportFiguresPng(figs, join(cfg.outDir, 'figures'), prefix)));
  }
  await removeStaleOutputs(cfg.outDir, previous, written);
  io.out('');
  io.out(`wrote ${resultsPath}`);
  io.out(`wrote ${reportPath}`);
  const rows = results.flatMap((r) => r.rows);
  return {
    results,
    interrupted,
    reportPath,
    resultsPath,
    succeeded: rows.filter((r) => !r.error).length,
    failed: rows.filter((r) => r.error).length,
    warnings: rows.reduce((a, r) => a + (r.warnings?.length ?? 0), 0),
  };
}

/** The SMC reference of the coverage check: the run's own smc rows when they are enough runs, else training's pilot. */
function pickSmc(own: Draws | undefined, pilot: Draws | undefined): { smcDraws?: Draws; smcLabel?: string } {
  if (own && own.chains >= MIN_SMC_RUNS) return { smcDraws: own };
  if (pilot) return { smcDraws: pilot, smcLabel: 'training pilot' };
  return own ? { smcDraws: own } : {};
}
