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
// Written-once models (issue 12): ops, distributions, constrained parameters, Stan JSON data.
export { defineModel, isModel, param, ops, lpdf, lupdf, special, Var, ModelError, FAMILY_NAMES, constrainDraws, weightedSummary, cmdStanName } from './models/index.js';
export type { WeightedSummaryRow } from './models/index.js';
export type { Model, ModelSpec, ModelTarget, ModelContext, ModelData, ParamValues, ParamDecl, Value as ModelValue } from './models/index.js';
export type { ConstrainedView } from './targets/target.js';
// The tfjs instance flowsampler runs on, for custom tfjs targets that must share its engine (issue 12).
export * as tf from '@tensorflow/tfjs';
