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
