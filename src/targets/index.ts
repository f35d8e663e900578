/** Every built-in target factory and the target registry. */
export type { Target, TargetParamInfo, ModeStructure } from './target.js';
export { gaussian, gaussianFromCovariance, illConditionedGaussian, randomRotation } from './gaussian.js';
export type { GaussianOptions, IllConditionedOptions } from './gaussian.js';
export { banana } from './banana.js';
export type { BananaOptions } from './banana.js';
export { funnel } from './funnel.js';
export type { FunnelOptions } from './funnel.js';
export { gaussianMixture, ring, midgley40, mixture1d, MIDGLEY40_SD } from './mixture.js';
export type { GaussianMixtureOptions, RingOptions, Mixture1dOptions } from './mixture.js';
export { manyWell, manyWellRightWeight } from './manyWell.js';
export type { ManyWellOptions } from './manyWell.js';
export { energy } from './energy.js';
export type { EnergyName } from './energy.js';
export { expressionTarget, EXPRESSION_FUNCTIONS } from './expression.js';
export type { ExpressionOptions } from './expression.js';
export { listTargets, parseTargetSpec } from './registry.js';
export { customTarget } from './custom.js';
export type { CustomTargetSpec } from './custom.js';
