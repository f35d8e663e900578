/**
 * One job of a study, as a pool worker runs it: build the target from its source, train the
 * flow once if the job's cells use one, run each cell's sampler and reduce its draws to the
 * cell's numbers (the comparison row, ground-truth accuracy, per-parameter summaries and a
 * digest of the draws, which is how "the same numbers" is checked across runs and machines).
 * The draws themselves stay in the worker: a cell's result is small enough for a queue.
 */
import type { MessagePort } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { Draws } from '../core/draws.js';
import { FlowsamplerError } from '../core/errors.js';
import type { SummaryRow } from '../report/summaryRow.js';
import type { SummaryRow as ParamSummary } from '../diagnostics/index.js';
import { summaryRowFor, failedRow } from '../report/metrics.js';
import { groundTruthMetrics } from '../report/groundTruth.js';
import type { RunContext, TrainedFlow } from '../cli/samplerRegistry.js';
import { flowsamplerVersion } from '../cli/runInfo.js';
import type { Target } from '../targets/target.js';
import { loadTarget } from './targetSource.js';
import { registryEntry } from './tasks.js';
import type { CellDef } from './cells.js';

export interface CellJobTask {
  kind: 'cells';
  cells: CellDef[];
  baseDir: string;
  port?: MessagePort;
}

/** The numbers of one cell. Timing fields differ from run to run; everything else does not. */
export interface CellMetrics {
  essBulk: number | null;
  essTail: number | null;
  rhat: number | null;
  essPerSecond: number | null;
  essPer1000Evals: number | null;
  /** min bulk ESS per 1000 gradient evaluations (training's included); null without gradients. */
  essPer1000Grads: number | null;
  kl: number | null;
  khat: number | null;
  /** Largest |mean error| / sd over parameters, where the target's moments are known. */
  biasMax: number | null;
  /** Root mean square of the standardised mean errors. */
  biasRms: number | null;
  divergences: number | null;
  acceptance: number | null;
  densityEvals: number;
  gradEvals: number;
  wallTimeS: number;
  trainTimeS: number;
}

export interface CellResult {
  id: string;
  hash: string;
  target: string;
  sampler: string;
  seed: number | string;
  /** A user-facing failure of the sampler (e.g. rejection's budget); the metrics are then empty. */
  error?: string;
  metrics: CellMetrics;
  /** SHA-256 of the draws (float64 bytes, chain-major): equal digests, equal draws. */
  digest: string | null;
  params: ParamSummary[];
  info: Record<string, number | string | boolean>;
  /** Where and when it ran. */
  provenance: { host: string; pid: number; flowsampler: string; node: string; started: string; finished: string };
}

/** Metric fields that vary with timing; everything else must repeat exactly at the same seed. */
export const TIMING_METRICS: (keyof CellMetrics)[] = ['essPerSecond', 'wallTimeS', 'trainTimeS'];

function digestOf(d: Draws): string {
  return createHash('sha256').update(new Uint8Array(d.values.buffer, d.values.byteOffset, d.values.byteLength)).digest('hex');
}

function bias(target: Target, params: ParamSummary[]): { max: number | null; rms: number | null } {
  if (!target.mean || !target.variance) return { max: null, rms: null };
  let max = 0;
  let ss = 0;
  params.forEach((p, k) => {
    const z = Math.abs(p.mean - target.mean![k]) / Math.sqrt(target.variance![k]);
    max = Math.max(max, z);
    ss += z * z;
  });
  return Number.isFinite(max) ? { max, rms: Math.sqrt(ss / params.length) } : { max: null, rms: null };
}

function metricsOf(row: SummaryRow, gradEvals: number | null, b: { max: number | null; rms: number | null }): CellMetrics {
  return {
    essBulk: row.essBulk,
    essTail: row.essTail,
    rhat: row.rhat,
    essPerSecond: row.essPerSecond,
    essPer1000Evals: row.essPer1000Evals,
    essPer1000Grads: row.essBulk !== null && gradEvals ? (1000 * row.essBulk) / gradEvals : null,
    kl: row.kl,
    khat: row.khat,
    biasMax: b.max,
    biasRms: b.rms,
    divergences: row.divergences,
    acceptance: row.acceptance,
    densityEvals: row.densityEvals,
    gradEvals: gradEvals ?? 0,
    wallTimeS: row.wallTimeS,
    trainTimeS: row.trainTimeS,
  };
}

function provenance(started: Date): CellResult['provenance'] {
  return { host: os.hostname(), pid: process.pid, flowsampler: flowsamplerVersion(), node: process.version, started: started.toISOString(), finished: new Date().toISOString() };
}

function failed(cell: CellDef, message: string, started: Date): CellResult {
  return {
    id: cell.id,
    hash: cell.hash,
    target: cell.target.label,
    sampler: cell.sampler.label,
    seed: cell.seed,
    error: message,
    metrics: metricsOf(failedRow(cell.sampler.label, message), null, { max: null, rms: null }),
    digest: null,
    params: [],
    info: {},
    provenance: provenance(started),
  };
}

async function runOne(cell: CellDef, target: Target, trained: (() => Promise<TrainedFlow>) | null, done: () => void): Promise<CellResult> {
  const started = new Date();
  const entry = registryEntry(cell.sampler.name);
  const ctx: RunContext = {
    target,
    seed: cell.seed,
    chains: cell.budget.chains,
    draws: cell.budget.draws,
    warmup: cell.budget.warmup,
    signal: new AbortController().signal,
    onProgress: () => undefined,
    trainedFlow: trained ?? (() => Promise.reject(new FlowsamplerError('no flow in this job'))),
    options: cell.sampler.options,
  };
  try {
    const d = await entry.run(ctx);
    const isFlow = entry.kind === 'importance' || entry.kind === 'flow-mcmc';
    const trainEvals = isFlow && trained ? (await trained()).trainEvals : 0;
    const gt = groundTruthMetrics(target, d, { seed: cell.seed, importance: entry.kind === 'importance' });
    const { row, params } = summaryRowFor({ ...d, sampler: cell.sampler.label }, { trainEvals, kl: gt.kl, khat: gt.khat });
    // Flow training evaluates log p̃ and its gradient at every training draw.
    const grads = d.gradEvals + trainEvals;
    return {
      id: cell.id,
      hash: cell.hash,
      target: cell.target.label,
      sampler: cell.sampler.label,
      seed: cell.seed,
      metrics: metricsOf(row, grads > 0 ? grads : null, bias(target, params)),
      digest: digestOf(d),
      params,
      info: d.info ?? {},
      provenance: provenance(started),
    };
  } catch (e) {
    if (e instanceof FlowsamplerError) return failed(cell, e.message, started);
    throw e;
  } finally {
    done();
  }
}

/** Runs a job's cells in order; reports `{done, total}` cells on the task's port. */
export async function runCellJob(task: CellJobTask): Promise<CellResult[]> {
  const started = new Date();
  const { cells } = task;
  let n = 0;
  const done = () => task.port?.postMessage({ done: ++n, total: cells.length, phase: 'sampling' });
  let target: Target;
  try {
    target = await loadTarget(cells[0].target.source, { baseDir: task.baseDir });
  } catch (e) {
    if (e instanceof FlowsamplerError) return cells.map((c) => failed(c, e.message, started));
    throw e;
  }
  const needsFlow = cells.some((c) => c.train !== undefined);
  let flow: Promise<TrainedFlow> | null = null;
  const trained = needsFlow
    ? () =>
        (flow ??= (async () => {
          const { trainFlowFor } = await import('../cli/flowTraining.js');
          return trainFlowFor(target, { ...cells[0].train, seed: cells[0].seed });
        })())
    : null;
  const results: CellResult[] = [];
  try {
    // Through JSON once, so a result is the same in memory, in its file and from the queue (NaN -> null).
    for (const cell of cells) results.push(JSON.parse(JSON.stringify(await runOne(cell, target, trained, done))) as CellResult);
  } finally {
    if (flow) await (flow as Promise<TrainedFlow>).then((f) => f.flow.dispose()).catch(() => undefined);
  }
  return results;
}
