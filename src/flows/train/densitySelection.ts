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
}

export interface DensitySelectionOptions extends FitOptions {
  /** Flow options every candidate shares (layers, hidden, inputBound, seed). */
  flow?: Omit<DensityFlowOptions, 'family' | 'transformer'>;
  /** Default AUTO_DENSITY_CANDIDATES. `maxSeconds` is each candidate's budget. */
  candidates?: readonly DensityCandidate[];
  /** Standard errors by which a later candidate must beat the kept one (default 2). */
  minZ?: number;
  /** Progress of the candidate being fitted. */
  onCandidateProgress?: (candidate: string, index: number, p: FitProgress) => void;
}

/**
 * Fit every candidate in turn and keep the first, unless a later one is better on the validation
 * rows by more than `minZ` paired standard errors. One candidate is fitted as fitMaximumLikelihood
 * fits it (its own split, or none).
 */
export async function fitDensityWithSelection(dim: number, data: FitData, options: DensitySelectionOptions = {}): Promise<DensitySelection> {
  const { flow: shared = {}, candidates = AUTO_DENSITY_CANDIDATES, onCandidateProgress, minZ: minZOption, ...fitOptions } = options;
  if (candidates.length === 0) throw new ParameterError('density selection: no candidates');
  const minZ = checkParam('minZ', minZOption ?? 2, (v) => v >= 0 && v < Infinity, 'a finite number >= 0');
  const seed = fitOptions.seed ?? shared.seed ?? 0;
  const rows = candidates.length > 1 ? commonSplit(dim, data, fitOptions, String(seed)) : null;
  const reports: CandidateReport[] = [];
  let kept: { flow: Flow; fit: FitResult; report: CandidateReport; logQ: Float64Array | null } | null = null;
  let current: Flow | null = null;
  try {
    for (const [index, c] of candidates.entries()) {
      const flow = (current = createDensityFlow(dim, { ...shared, ...c.flow, seed }));
      const fit = await fitMaximumLikelihood(flow, rows ? rows.train : data, {
        ...fitOptions,
        ...c.fit,
        ...(rows ? { validation: rows.validation } : {}),
        seed,
        onProgress: (p) => {
          fitOptions.onProgress?.(p);
          onCandidateProgress?.(c.name, index, p);
        },
      });
      const logQ = rows ? flow.logProbArrays(rows.validation) : null;
      const versus = kept?.logQ && logQ ? pairedGain(logQ, kept.logQ) : null;
      // NaN comparisons are false: a candidate with a non-finite row never replaces; one replaces a kept flow that has one.
      const replaces = kept === null || !Number.isFinite(kept.report.validationNll) || (versus !== null && versus.gain > minZ * versus.se);
      const report: CandidateReport = {
        name: c.name,
        flow: { ...shared, ...c.flow },
        weightDecay: c.fit?.weightDecay ?? fitOptions.weightDecay ?? FIT_DEFAULTS.weightDecay,
        parameters: flow.parameterCount(),
        validationNll: fit.bestValidationNll,
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
      current = null;
      if (fit.stoppedBy === 'abort') break;
    }
  } catch (e) {
    current?.dispose();
    kept?.flow.dispose();
    throw e;
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
