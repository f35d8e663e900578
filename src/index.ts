/**
 * flowsampler's public API. Layers, from the bottom: core (random streams, errors, Draws, the
 * tfjs backend), targets, flows, samplers, diagnostics, io. See README.md and docs/.
 *
 * This entry imports no Node built-in, so it bundles for browsers as it is (the package's
 * `browser` condition); src/node.ts adds files, PNG export and the rest that needs Node.
 */
export * from './core/errors.js';
export { RandomStream, type RandomStreamState } from './core/random.js';
export { makeDraws, parameterChains, drawAt, defaultParamNames, type Draws } from './core/draws.js';
export { initBackend, backendInfo, type BackendName, type BackendInfo, type BackendOptions } from './core/backend.js';
export type { Target, TargetParamInfo } from './targets/target.js';
export * from './targets/index.js';
export * from './flows/index.js';
export * from './samplers/index.js';
export * from './diagnostics/index.js';
export { readStanCsv, stanCsvChains, writeStanCsv, type StanCsv, type SamplerColumns } from './io/stanCsv.js';

// Browser build: the sampler kernels one step at a time (docs/samplers.md), and the
// comparison table and report figures (Vega / Vega-Lite specs) that the CLI, the HTML report
// and the playground share.
export { CountedTarget } from './samplers/chains.js';
export { rwmInit, rwmStep, type RwmState, type RwmInfo } from './samplers/rwm.js';
export { hmcInit, hmcStep, type HmcState, type HmcInfo, type HmcParams } from './samplers/hmc.js';
export { malaStep, type MalaState, type MalaInfo } from './samplers/mala.js';
export { nutsStep, NutsWorkspace, type NutsState, type NutsInfo, type NutsParams } from './samplers/nuts.js';
export { summaryRowFor, failedRow, type RowExtras } from './report/metrics.js';
export { groundTruthMetrics, KL_SAMPLE_SIZE, type GroundTruth } from './report/groundTruth.js';
export { tableColumns, formatCell, formatTable, type SummaryRow as ComparisonRow } from './report/summaryRow.js';
export type { Figure } from './report/figure.js';
export { figureSet, type FigureSetOptions } from './report/figures.js';
export { densityFigure, type DensityFigureOptions } from './report/densityFigure.js';
export { traceFigure, type TraceFigureOptions } from './report/traceFigure.js';
export { autocorrFigure } from './report/autocorrFigure.js';
export { trainingFigure, type TrainingCurve, type TrainingPoint } from './report/trainingFigure.js';
export { barsFigure } from './report/barsFigure.js';

// Warnings, target checks and size limits: every result's `warnings`, checkTarget
// (value paths, gradient against finite differences, shapes), memory checks, training errors.
export { makeWarning, formatWarnings, type Warning, type WarningCode } from './core/warnings.js';
export { drawsWarnings, WARNING_THRESHOLDS, type DrawsWarningOptions } from './diagnostics/drawsWarnings.js';
export { checkTarget, assertTarget, TargetCheckError, type TargetCheckOptions, type TargetCheckReport, type TargetProblem, type TargetProblemCode, type TargetPath } from './targets/checkTarget.js';
export { TrainingError, TRAIN_WARNING_THRESHOLDS } from './flows/train/checks.js';
export { MemoryLimitError, memoryBudget, setMemoryBudget } from './core/memory.js';
export type { StanCsvChains } from './io/stanCsv.js';

// Written-once models: ops, distributions, constrained parameters, Stan JSON data.
export { defineModel, isModel, param, ops, lpdf, lupdf, special, Var, ModelError, FAMILY_NAMES, constrainDraws, weightedSummary, cmdStanName } from './models/index.js';
export type { WeightedSummaryRow } from './models/index.js';
export type { Model, ModelSpec, ModelTarget, ModelContext, ModelData, ParamValues, ParamDecl, Value as ModelValue } from './models/index.js';
export type { ConstrainedView } from './targets/target.js';
// The tfjs instance flowsampler runs on, for custom tfjs targets that must share its engine.
export * as tf from '@tensorflow/tfjs';


// Multimodal targets: tempered SMC / AIS with its kernels, mode visits, the coverage
// diagnostic. (The many-well and 1-D mixture targets come with targets/index.js.)
export { smc, temperedSmc, type SmcOptions, type SmcResult, type SmcRun } from './samplers/smc.js';
export { referenceFor, nextTemperature, conditionalEss, type GaussianReference, type ReferenceSpec } from './samplers/smcReference.js';
export { hmcMove, rwmMove, type Population, type HmcMoveParams, type RwmMoveParams } from './samplers/smcMoves.js';
export { modeVisits, type ModeVisits, type ModeAssigner } from './diagnostics/modes.js';
export { coverageCheck, marginalSds, bonferroniZ, type CoverageInput, type CoverageResult, type ThinCoordinate, type LogZEstimateInput } from './diagnostics/coverage.js';

// Flows fitted to data: maximum likelihood with a validation split and early stopping,
// forward KL from exact draws, the classical baselines (Gaussian, EM mixture) and the ROC AUC.
export { fitMaximumLikelihood, maximumLikelihoodRefit, trainLikelihood, logDensityRows, meanNll, epochBatches, checkDensityDirection, FIT_DEFAULTS, type FitOptions, type FitResult, type FitProgress, type FitHistoryEntry, type LikelihoodTrainOptions, type LikelihoodTrainResult, type BatchSource } from './flows/train/maximumLikelihood.js';
export { trainForwardKL, pairedForwardKL, type ForwardKLOptions, type ForwardKLResult } from './flows/train/forwardKL.js';
export { toDataMatrix, discreteColumns, standardizeFlow, type FitData } from './flows/train/fitData.js';
export { fitGaussian, fitGaussianMixture, selectGaussianMixture, type DensityModel, type GaussianMixtureModel, type GaussianMixtureOptions } from './density/gaussianMixture.js';
export { rocAuc } from './diagnostics/auc.js';
export { createDensityFlow, DENSITY_FLOW_DEFAULTS, type DensityFlowOptions, type DensityFamily } from './flows/densityFlow.js';
export { logDensityQuantiles, quantileFromTable } from './flows/train/anomaly.js';
export { readDataCsv, type DataTable, type DataCsvOptions } from './io/dataCsv.js';
export { flow1dFigure, type Flow1dFigureOptions } from './report/flow1dFigure.js';
export { densityFigure1d, type DensityFigure1dOptions } from './report/densityFigure1d.js';

// Mode-covering training: a one-pass-density flow fitted to a weighted population (e.g. SMC's
// particles) by weighted maximum likelihood, then refined on its own importance-weighted draws.
export { createModeCoveringFlow, trainModeCovering, MODE_COVERING_FLOW, MODE_COVERING_CHECK, type ModeCoveringFlowOptions, type ModeCoveringOptions, type ModeCoveringResult } from './flows/train/modeCovering.js';
export { WeightedPoints, weightedNllGradient, importanceBatch } from './flows/train/weightedLikelihood.js';
