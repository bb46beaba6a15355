// `convdr train`: knowledge distillation of the student's adapter, cross-validated by topic.
export { convdrTrain, ConvdrTrainError, ConvdrTrainOptions, DEFAULT_WEIGHT_DECAYS, rewriteAgreementJson, type ConvdrTrainResult, type FoldReport } from './convdr-train.ts';
export { agreements, fitAdapter, mean, pickRows, type FitOptions, type FitResult, type KdData } from './fit.ts';
