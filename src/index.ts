/**
 * flowsampler's public API. Layers, from the bottom: core (random streams, errors, Draws, the
 * tfjs backend), targets, flows, samplers, diagnostics, io. See README.md and docs/.
 */
export * from './core/errors.js';
export { RandomStream, type RandomStreamState } from './core/random.js';
export { makeDraws, parameterChains, drawAt, defaultParamNames, type Draws } from './core/draws.js';
export { initBackend, backendInfo, type BackendName, type BackendInfo } from './core/backend.js';
export type { Target, TargetParamInfo } from './targets/target.js';
export * from './targets/index.js';
export * from './flows/index.js';
export * from './samplers/index.js';
export * from './diagnostics/index.js';
export { readStanCsv, readStanCsvFiles, readStanCsvChains, writeStanCsv } from './io/stanCsv.js';
// Warnings, target checks and size limits (issue 10): every result's `warnings`, checkTarget
// (value paths, gradient against finite differences, shapes), memory checks, training errors.
export { makeWarning, formatWarnings, type Warning, type WarningCode } from './core/warnings.js';
export { drawsWarnings, WARNING_THRESHOLDS, type DrawsWarningOptions } from './diagnostics/drawsWarnings.js';
export { checkTarget, assertTarget, TargetCheckError, type TargetCheckOptions, type TargetCheckReport, type TargetProblem, type TargetProblemCode, type TargetPath } from './targets/checkTarget.js';
export { TrainingError, TRAIN_WARNING_THRESHOLDS } from './flows/trainChecks.js';
export { MemoryLimitError, memoryBudget, setMemoryBudget } from './core/memory.js';
export { OutputError } from './core/atomicWrite.js';
export { readStanCsvChainsStreaming, type StanCsvChains } from './io/stanCsv.js';
