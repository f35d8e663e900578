/**
 * Density estimation with the flow family chosen by validation likelihood (`flowsampler fit`,
 * `--flow auto`, the default). No one family suits every data set: spline couplings split a
 * conditional into several modes (a ring), while an affine MAF, whose every coordinate is scaled
 * given the ones before it, carries scales that depend on another coordinate (a funnel's
 * e^{v/2}) that a coupling's fixed partition cannot pass on (docs/density.md has the
 * measurements). The candidates are fitted in turn on the same training rows and judged on the
 * same held-out rows (the split is a function of the seed only), which is model selection by
 * held-out likelihood as in Durkan et al. (2019) and Papamakarios et al. (2017).
 */
import type { Flow } from '../flow.js';
import { createDensityFlow, type DensityFlowOptions } from '../densityFlow.js';
import { fitMaximumLikelihood, FIT_DEFAULTS, type FitOptions, type FitProgress, type FitResult } from './maximumLikelihood.js';
import type { FitData } from './fitData.js';
import { ParameterError } from '../../core/errors.js';

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
  /** Progress of the candidate being fitted. */
  onCandidateProgress?: (candidate: string, index: number, p: FitProgress) => void;
}

/** Fit every candidate and keep the one with the lowest validation NLL. */
export async function fitDensityWithSelection(dim: number, data: FitData, options: DensitySelectionOptions = {}): Promise<DensitySelection> {
  const { flow: shared = {}, candidates = AUTO_DENSITY_CANDIDATES, onCandidateProgress, ...fitOptions } = options;
  if (candidates.length === 0) throw new ParameterError('density selection: no candidates');
  if (fitOptions.validation === undefined && fitOptions.validationFraction === 0) {
    throw new ParameterError('density selection compares the candidates on held-out rows: give validation rows or a validationFraction > 0');
  }
  const seed = fitOptions.seed ?? shared.seed ?? 0;
  const reports: CandidateReport[] = [];
  let best: { flow: Flow; fit: FitResult; report: CandidateReport } | null = null;
  try {
    for (const [index, c] of candidates.entries()) {
      const flow = createDensityFlow(dim, { ...shared, ...c.flow, seed });
      let fit: FitResult;
      try {
        fit = await fitMaximumLikelihood(flow, data, {
          ...fitOptions,
          ...c.fit,
          seed,
          onProgress: (p) => {
            fitOptions.onProgress?.(p);
            onCandidateProgress?.(c.name, index, p);
          },
        });
      } catch (e) {
        flow.dispose();
        throw e;
      }
      const report: CandidateReport = {
        name: c.name,
        flow: { ...shared, ...c.flow },
        weightDecay: c.fit?.weightDecay ?? fitOptions.weightDecay ?? FIT_DEFAULTS.weightDecay,
        parameters: flow.parameterCount(),
        validationNll: fit.bestValidationNll,
        steps: fit.steps,
        seconds: fit.seconds,
        stoppedBy: fit.stoppedBy,
      };
      reports.push(report);
      // A non-finite validation NLL never wins; the first candidate wins ties.
      if (best === null || report.validationNll < best.report.validationNll || !Number.isFinite(best.report.validationNll)) {
        best?.flow.dispose();
        best = { flow, fit, report };
      } else {
        flow.dispose();
      }
      if (fit.stoppedBy === 'abort') break;
    }
  } catch (e) {
    best?.flow.dispose();
    throw e;
  }
  return { flow: best!.flow, fit: best!.fit, chosen: best!.report, candidates: reports, interrupted: reports.some((r) => r.stoppedBy === 'abort') };
}
