/** Samplers: classical baselines and flow-based samplers, all returning the common Draws. */
export type { SamplerOptions, SamplerProgress } from './sampler.js';
export { boxMullerNormals, multivariateNormal, exactNormal, type ExactNormalOptions } from './boxMuller.js';
export { exact } from './exact.js';
export { rejection, EnvelopeViolationError, type Proposal, type RejectionOptions } from './rejection.js';
export { rwm, type RwmOptions } from './rwm.js';
export { mala, type MalaOptions } from './mala.js';
export { hmc, type HmcOptions, type HamiltonianOptions } from './hmc.js';
export { nuts, type NutsOptions } from './nuts.js';
export { flowImportanceSample, systematicResample, defensiveBaseScale, type FlowImportanceOptions, type FlowImportanceResult } from './flowImportance.js';
export { flowImh, type FlowImhOptions } from './flowImh.js';
// Flow-assisted MCMC (issue 14): metrics, warm starts, NeuTra, the local–global sampler.
export { Metric, type MetricKind } from './metric.js';
export { warmStart, warmStartRule, type WarmStart, type WarmStartOptions, type WarmStartRule } from './warmStart.js';
export { neutra, neutraTarget, affineBijection, type DifferentiableBijection, type BijectionTape, type NeutraOptions, type NeutraTarget } from './neutra.js';
export { flowMc, type FlowMcOptions, type FlowProposal, type FlowRefit } from './flowMc.js';
