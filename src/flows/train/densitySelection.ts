/**
 * Density estimation with the flow family chosen by validation likelihood (`flowsampler fit`,
 * `--flow auto`, the default). No one family suits every data set: spline couplings split a
 * conditional into several modes (a ring), while an affine MAF, whose every coordinate is scaled
 * given the ones before it, carries scales that depend on another coordinate (a funnel's
 * e^{v/2}) that a coupling's fixed partition cannot pass on (docs/density.md has the
 * measurements). The candidates are fitted in turn on the same training rows and judged on the
 * same held-out rows, which is model selection by held-out likelihood as in Durkan et al. (2019)
 * and Papamakarios et al. (2017). A later candidate replaces the one kept only when its mean
 * validation log density is higher by more than `minZ` standard errors of the paired difference
 * (per row, on the same rows): on a small validation set the first candidate, the default
 * family, stays unless the other is clearly better.
 */
import type { Flow } from '../flow.js';
import { createDensityFlow, type DensityFlowOptions } from '../densityFlow.js';
import { fitMaximumLikelihood, FIT_DEFAULTS, type FitOptions, type FitProgress, type FitResult } from './maximumLikelihood.js';
import { holdOut, toDataMatrix, type FitData } from './fitData.js';
import { ParameterError, checkParam } from '../../core/errors.js';

export interface DensityCandidate {
  /** Shown in progress, results and the CLI, e.g. 'coupling spline'. */
  name: string;
  /** The flow (merged over the caller's shared flow options). */
  flow: DensityFlowOptions;
  /** Fit options of this candidate (merged over the caller's). */
  fit?: Pick<FitOptions, 'weightDecay' | 'learningRate'>;
}

/**
 * The default candidates: the RQ-NSF coupling flow, and an affine MAF with a wider log-scale
 * bound and weight decay (AdamW, λ = 1), both measured on the density bench.
 */
export const AUTO_DENSITY_CANDIDATES: readonly DensityCandidate[] = [
  { name: 'coupling spline', flow: { family: 'coupling', transformer: 'spline' } },
  { name: 'maf affine', flow: { family: 'maf', transformer: 'affine' }, fit: { weightDecay: 1 } },
];

export interface CandidateReport {
  name: string;
  flow: DensityFlowOptions;
  weightDecay: number;
  parameters: number;
  validationNll: number;
  /** This candidate's own time budget (its share of `maxSeconds`). */
  maxSeconds: number;
  /** Against the candidate kept before it: mean validation log-density gain per row, its paired SE, and whether it replaced it. */
  versusKept: { against: string; gain: number; se: number; replaced: boolean } | null;
  steps: number;
  seconds: number;
  stoppedBy: FitResult['stoppedBy'];
}

export interface DensitySelection {
  /** The chosen flow (the others are disposed). */
  flow: Flow;
  fit: FitResult;
  chosen: CandidateReport;
  /** Every candidate fitted, in order (fewer than given when the fit was interrupted). */
  candidates: CandidateReport[];
  /** The signal stopped a candidate's fit: the choice is among what was fitted by then. */
  interrupted: boolean;
  /** Threads the candidates were fitted on. */
  workers: number;
}

export interface DensitySelectionOptions extends FitOptions {
  /** Flow options every candidate shares (layers, hidden, inputBound, seed). */
  flow?: Omit<DensityFlowOptions, 'family' | 'transformer'>;
  /** Default AUTO_DENSITY_CANDIDATES. */
  candidates?: readonly DensityCandidate[];
  /** Standard errors by which a later candidate must beat the kept one (default 2). */
  minZ?: number;
  /**
   * Worker threads that fit candidates side by side (Node; default 1: one after another in this
   * thread). `maxSeconds` is the whole selection's budget: with a thread per candidate each gets
   * all of it; in one thread each gets the time left divided by the candidates still to fit.
   */
  workers?: number;
  /** Progress of each candidate being fitted (from several at once with `workers` > 1). */
  onCandidateProgress?: (candidate: string, index: number, p: FitProgress) => void;
}

/** Time kept for the threads to hand their fitted flows back and the pool to close (docs/density.md). */
const THREAD_HAND_BACK_MS = 300;

interface Fitted {
  flow: Flow;
  fit: FitResult;
  /** log q at the validation rows when the fit's thread computed it. */
  validationLogQ?: Float64Array;
}

/**
 * Fit every candidate and keep the first, unless a later one is better on the validation rows by
 * more than `minZ` paired standard errors. One candidate is fitted as fitMaximumLikelihood fits
 * it (its own split, or none).
 */
export async function fitDensityWithSelection(dim: number, data: FitData, options: DensitySelectionOptions = {}): Promise<DensitySelection> {
  const { flow: shared = {}, candidates = AUTO_DENSITY_CANDIDATES, onCandidateProgress, minZ: minZOption, workers: workersOption, ...fitOptions } = options;
  if (candidates.length === 0) throw new ParameterError('density selection: no candidates');
  const minZ = checkParam('minZ', minZOption ?? 2, (v) => v >= 0 && v < Infinity, 'a finite number >= 0');
  const workers = Math.min(candidates.length, checkParam('workers', workersOption ?? 1, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1'));
  const seed = fitOptions.seed ?? shared.seed ?? 0;
  const rows = candidates.length > 1 ? commonSplit(dim, data, fitOptions, String(seed)) : null;
  const totalSeconds = checkParam('maxSeconds', fitOptions.maxSeconds ?? FIT_DEFAULTS.maxSeconds, (v) => v > 0, 'a positive number');
  // The candidates' fits end by this time: threads' start-up and the candidates fitted before
  // count against it; each fit keeps time for its own final evaluations and for log q at the
  // validation rows that the comparison needs (`reserveRows`): its own on a thread, every
  // candidate's after the last fit in one thread. On threads the hand-back (replies, flows
  // rebuilt, the pool shut down) comes after the fits, within the budget too.
  const deadline = Date.now() + 1000 * totalSeconds - (workers > 1 && rows ? THREAD_HAND_BACK_MS : 0);
  const nValidation = rows ? rows.validation.length / dim : 0;
  const reserveRows = workers > 1 ? nValidation : candidates.length * nValidation;
  const flowOf = (c: DensityCandidate): DensityFlowOptions => ({ ...shared, ...c.flow, seed });
  const fitOf = (c: DensityCandidate, index: number): FitOptions => ({
    ...fitOptions,
    ...c.fit,
    seed,
    reserveRows,
    onProgress: (p) => {
      fitOptions.onProgress?.(p);
      onCandidateProgress?.(c.name, index, p);
    },
  });

  let fitted: Fitted[] = [];
  try {
    if (workers > 1 && rows) {
      const { fitCandidatesInThreads } = await import('./parallel/candidateThreads.js');
      const train = toDataMatrix(rows.train, dim, 'data', fitOptions.names).x;
      const jobs = candidates.map((c, index) => {
        const { onProgress, signal: _signal, validation: _v, validationFraction: _f, ...plain } = fitOf(c, index);
        // A round's share of the budget; each worker also stops by the deadline.
        return { flow: flowOf(c), fit: { ...plain, maxSeconds: totalSeconds / Math.ceil(candidates.length / workers) }, onProgress };
      });
      fitted = await fitCandidatesInThreads(dim, train, rows.validation, jobs, { threads: workers, signal: fitOptions.signal, deadline });
    } else {
      for (const [index, c] of candidates.entries()) {
        const flow = createDensityFlow(dim, flowOf(c));
        try {
          // The time left, shared by the candidates still to fit (one that stopped early leaves its time to the next).
          const share = Math.max(1e-3, (deadline - Date.now()) / 1000 / (candidates.length - index));
          const fit = await fitMaximumLikelihood(flow, rows ? rows.train : data, { ...fitOf(c, index), maxSeconds: share, ...(rows ? { validation: rows.validation } : {}) });
          fitted.push({ flow, fit });
          if (fit.stoppedBy === 'abort') break;
        } catch (e) {
          flow.dispose();
          throw e;
        }
      }
    }
    return { ...choose(candidates, fitted, rows?.validation ?? null, shared, fitOptions, minZ), workers };
  } catch (e) {
    for (const f of fitted) f.flow.dispose();
    throw e;
  }
}

/** Compare the fitted candidates in order on the validation rows; every flow but the kept one is disposed. */
function choose(
  candidates: readonly DensityCandidate[],
  fitted: Fitted[],
  validation: Float64Array | null,
  shared: Omit<DensityFlowOptions, 'family' | 'transformer'>,
  fitOptions: FitOptions,
  minZ: number,
): Omit<DensitySelection, 'workers'> {
  const reports: CandidateReport[] = [];
  let kept: (Fitted & { report: CandidateReport; logQ: Float64Array | null }) | null = null;
  for (const [index, { flow, fit, validationLogQ }] of fitted.entries()) {
    const c = candidates[index];
    const logQ = validation ? (validationLogQ ?? flow.logProbArrays(validation)) : null;
    const versus = kept?.logQ && logQ ? pairedGain(logQ, kept.logQ) : null;
    // NaN comparisons are false: a candidate with a non-finite row never replaces; one replaces a kept flow that has one.
    const replaces = kept === null || !Number.isFinite(kept.report.validationNll) || (versus !== null && versus.gain > minZ * versus.se);
    const report: CandidateReport = {
      name: c.name,
      flow: { ...shared, ...c.flow },
      weightDecay: c.fit?.weightDecay ?? fitOptions.weightDecay ?? FIT_DEFAULTS.weightDecay,
      parameters: flow.parameterCount(),
      validationNll: fit.bestValidationNll,
      maxSeconds: fit.options.maxSeconds,
      versusKept: versus && kept ? { against: kept.report.name, ...versus, replaced: replaces } : null,
      steps: fit.steps,
      seconds: fit.seconds,
      stoppedBy: fit.stoppedBy,
    };
    reports.push(report);
    if (replaces) {
      kept?.flow.dispose();
      kept = { flow, fit, report, logQ };
    } else {
      flow.dispose();
    }
  }
  return { flow: kept!.flow, fit: kept!.fit, chosen: kept!.report, candidates: reports, interrupted: reports.some((r) => r.stoppedBy === 'abort') };
}

/** The training and validation rows every candidate shares: the given validation rows, or the split fitMaximumLikelihood would make. */
function commonSplit(dim: number, data: FitData, o: FitOptions, seed: string): { train: FitData; validation: Float64Array } {
  if (o.validation !== undefined) return { train: data, validation: toDataMatrix(o.validation, dim, 'validation data', o.names).x };
  const { x, n } = toDataMatrix(data, dim, 'data', o.names);
  const s = holdOut(x, n, dim, o.validationFraction ?? FIT_DEFAULTS.validationFraction, seed);
  if (s.nValidation === 0) throw new ParameterError('density selection compares the candidates on held-out rows: give validation rows or a validationFraction > 0');
  return { train: s.train, validation: s.validation };
}

/** Mean of log q_new − log q_kept over the rows and its standard error. */
function pairedGain(lqNew: Float64Array, lqKept: Float64Array): { gain: number; se: number } {
  const n = lqNew.length;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const d = lqNew[i] - lqKept[i];
    s += d;
    s2 += d * d;
  }
  const gain = s / n;
  return { gain, se: n > 1 ? Math.sqrt(Math.max(0, s2 / n - gain * gain) / (n - 1)) : Infinity };
}
