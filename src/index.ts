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

// Multimodal targets (issue 13): tempered SMC / AIS with its kernels, mode visits, the coverage
// diagnostic. (The many-well and 1-D mixture targets come with targets/index.js.)
export { smc, temperedSmc, type SmcOptions, type SmcResult, type SmcRun } from './samplers/smc.js';
export { referenceFor, nextTemperature, conditionalEss, type GaussianReference, type ReferenceSpec } from './samplers/smcReference.js';
export { hmcMove, rwmMove, type Population, type HmcMoveParams, type RwmMoveParams } from './samplers/smcMoves.js';
export { modeVisits, type ModeVisits, type ModeAssigner } from './diagnostics/modes.js';
export { coverageCheck, marginalSds, bonferroniZ, type CoverageInput, type CoverageResult, type ThinCoordinate, type LogZEstimateInput } from './diagnostics/coverage.js';
