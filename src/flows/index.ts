/**
 * Normalizing flows (UDL ch. 16): bijectors defined once over `Ops`, the engines that run them,
 * the Flow, reverse-KL training, save/load.
 */
export type { Bijector, BijectorResult, PassCost, InverseRunner } from './bijectors/bijector.js';
export { AffineDiagonal, ActNorm, type AffineDiagonalConfig } from './bijectors/affineDiagonal.js';
export { Autoregressive, type AutoregressiveConfig, type AutoregressiveDirection } from './bijectors/autoregressive.js';
export { Coupling, transformedSet, type CouplingConfig, type Partition } from './bijectors/coupling.js';
export { Elementwise, type ElementwiseConfig } from './bijectors/elementwise.js';
export { LuLinear, type LuLinearConfig } from './bijectors/luLinear.js';
export { Permute } from './bijectors/permute.js';
// Residual and multi-scale flows (issue 15: UDL §16.3.6–16.4; docs/residual-flows.md).
export { AdditiveCoupling, type AdditiveCouplingConfig } from './bijectors/additiveCoupling.js';
export { IResNetBlock, aPrioriIterations, settleIterations, EXACT_LOGDET_MAX_DIM, MAX_FIXED_POINT_ITERATIONS, type IResNetConfig, type FixedPointReport, type ResidualExplicit } from './bijectors/iresnet.js';
export { residualLogDet, resolveLogDet, seriesTruncationBound, rouletteWeights, type ResidualLogDetConfig, type ResolvedLogDet, type Probe } from './bijectors/residualLogDet.js';
export { LipschitzMlp, spectralNorm, type LipschitzMlpConfig, type SpectralEstimate } from './nn/lipschitzMlp.js';
export { LIPSCHITZ_ACTIVATIONS, type LipschitzActivation } from './kernels/lipschitzActivation.js';
export { MultiScale, levelDims, type MultiScaleConfig, type MultiScaleLayerSpec } from './bijectors/multiScale.js';
export { densityGradientReversible, type ReversibleGradient } from './train/reversibleGradient.js';
export { createTransformer, type Transformer, type TransformerConfig } from './bijectors/transformers.js';
export { Made, madeMasks, naturalOrder, reversedOrder, hiddenDegrees, type MadeConfig } from './nn/made.js';
export { Mlp, type MlpConfig } from './nn/mlp.js';
export { Param, ParamStore } from './params.js';
export type { Ops, Kernel, Shape, DenseLayer } from './engine/ops.js';
export { standardNormalLogProb } from './engine/ops.js';
export { selectEngine } from './engine/select.js';
export { HeapEngine } from './engine/heap/heapEngine.js';
export { TfjsEngine } from './engine/tfjs/tfjsEngine.js';
export type { Engine, EngineChoice, Program, ProgramInput, RecordedRun } from './engine/engine.js';
export { Flow, type SeedLike, type FlowTape } from './flow.js';
export {
  createFlow,
  createFamilyFlow,
  createDefaultFlow,
  createSplineFlow,
  createMultiScaleFlow,
  defaultMultiScaleLevels,
  defaultHidden,
  DEFAULT_FLOW_LAYERS,
  FLOW_FAMILIES,
  type FlowFamily,
  type FamilyOptions,
  type FlowSpec,
  type LayerSpec,
  type DefaultFlowOptions,
  type SplineFlowOptions,
  type MultiScaleFlowOptions,
} from './builder.js';
export { registerBijector, bijectorTypes, type BijectorFactory } from './registry.js';
export { flowToJSON, flowFromJSON, FLOW_FORMAT, FLOW_FORMAT_VERSION, type SavedFlow, type FlowMeta } from './serialize.js';
export {
  trainReverseKL,
  learningRateAt,
  proposalQuality,
  TRAIN_DEFAULTS,
  PROPOSAL_CHECK_DEFAULTS,
  defaultBatchSize,
  type TrainOptions,
  type TrainResult,
  type TrainProgressInfo,
  type LearningRateSchedule,
  type TrainCheckpoint,
  type ProposalCheck,
  type ProposalCheckResult,
} from './train/reverseKL.js';
export { Adam, ADAM_DEFAULTS, gradientNorm, type AdamState } from './train/adam.js';
export { objectiveGradient, type ObjectiveGradient } from './train/objective.js';
