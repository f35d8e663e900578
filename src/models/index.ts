/** Written-once Bayesian models: ops, distributions, constrained parameters, and the Target they compile to. */
export { Var, ModelError, type Value, type Shape } from './graph.js';
export * as ops from './ops.js';
export { lpdf, lupdf, FAMILY_NAMES, type FamilyName } from './distributions.js';
export { param, type ParamDecl, type RealOptions, type Bound } from './transforms.js';
export {
  defineModel, isModel,
  type Model, type ModelSpec, type ModelTarget, type ModelContext, type ModelData, type ParamValues, type ParamLayout, type DataKind,
} from './model.js';
export * as special from './special.js';
export { constrainDraws, weightedSummary, cmdStanName, type WeightedSummaryRow } from './draws.js';
