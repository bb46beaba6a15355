// Public surface of colbert/train: `edgesearch colbert train`, ColBERT's linear projection trained on
// top of a frozen token encoder (see README.md), and the pieces it is made of.
export { colbertTrain, ColbertTrainError, ColbertTrainOptions, PROJECTION_FILE, type Baselines, type ColbertTrainResult, type FeatureCacheReport } from './colbert-train.ts';
export {
  trainProjection,
  validationNdcg,
  projectItems,
  meanLoss,
  type EpochReport,
  type ProjectionData,
  type ProjectionTrainOptions,
  type ProjectionTrainResult,
  type TrainExample,
  type ValidationQuery,
} from './train-projection.ts';
export { maxSimLossAndGradient, LossScratch, type LossItem, type LossResult } from './maxsim-loss.ts';
export { principalProjection, randomProjection, orthonormalizeColumns, seededRandom, shuffle } from './init.ts';
export { FeatureStore, remapFeatures, type FeatureSet } from './features.ts';
export { FeatureCache, fillFeatureCache, textKey } from './feature-cache.ts';
