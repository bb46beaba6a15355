// Public surface of the optimize module: target-embedding optimization (Tan et al., AAAI 2026).
export { contrastiveLoss, DEFAULT_TEMPERATURE, type CandidateSet, type ContrastiveOptions } from './contrastive.ts';
export { Adam, type AdamOptions } from './adam.ts';
export { optimizeTargets, type EpochReport, type TrainingData, type TrainOptions, type TrainResult } from './train.ts';
export { loadTrainingSet, describeTrainingSet, TrainingSetError, type TrainingSet, type TrainingSetReport, type UnknownPolicy } from './training-set.ts';
export { optimizeIndex, isValidation, OptimizeError, OptimizeOptions, type OptimizeResult } from './optimize-index.ts';
