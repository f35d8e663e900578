/**
 * Diagnostics: pure float64 functions of draws, matching R's posterior 1.4.0 (ESS, R-hat,
 * MCSE, summaries) and loo 2.5.1 (PSIS). `chains` arguments are arrays of per-chain
 * Float64Arrays of equal length, as `parameterChains` in src/core/draws.ts gives.
 */
export { autocovariance, autocorrelation, meanAutocovariance } from './autocovariance.js';
export { essBulk, essTail, essBasic, essMean, essQuantile, essSd, essMedian, essRaw } from './ess.js';
export { rhat, rhatBasic, rhatBulk, rhatTail, rhatRaw } from './rhat.js';
export { mcseMean, mcseSd, mcseQuantile, mcseMedian } from './mcse.js';
export { summarise, summariseChains, type SummaryRow } from './summarise.js';
export { psis, paretoKThreshold, paretoKCategoryLoo, psisTailLength, type PsisResult, type LooKCategory } from './psis.js';
export { gpdFit, qgpd } from './gpd.js';
export { kishEss, logZEstimate } from './importance.js';
export { reverseKL, forwardKL, knnKL, type KLEstimate } from './kl.js';
export { checkChains, splitChains, foldChains, zScale, MIN_DRAWS } from './chains.js';
export { fftInPlace, nextPow2 } from './fft.js';
