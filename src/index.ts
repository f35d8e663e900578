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
export { saveFlow, loadFlow, readFlowMeta } from './io/flowFile.js';
