/** Normalizing flows: bijectors, the Flow, reverse-KL training, save/load. */
export type { Bijector, BijectorResult } from './bijector.js';
export { Made, madeMasks, maskedDense, naturalOrder, hiddenDegrees, type MadeConfig } from './made.js';
export { IafAffine, type IafAffineConfig } from './iaf.js';
export { FastIafAffine } from './fastIaf.js';
export { FusedAdam, type FusedAdamOptions } from './fusedAdam.js';
export { AffineDiagonal, type AffineDiagonalConfig } from './affine.js';
export { Permute } from './permute.js';
export { Chain } from './chain.js';
export { Flow, baseNoise, standardNormalLogProb, type SeedLike } from './flow.js';
export { createDefaultFlow, defaultHidden, DEFAULT_FLOW_LAYERS, type DefaultFlowOptions } from './defaults.js';
export { flowToJSON, flowFromJSON, registerBijector, FLOW_FORMAT, FLOW_FORMAT_VERSION, type SavedFlow, type BijectorFactory } from './serialize.js';
export { trainReverseKL, learningRateAt, TRAIN_DEFAULTS, defaultBatchSize, type TrainOptions, type TrainResult, type TrainProgressInfo, type LearningRateSchedule } from './train.js';
