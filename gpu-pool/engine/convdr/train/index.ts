// `convdr train`: knowledge distillation of the student's adapter, cross-validated by topic.
export { convdrTrain, ConvdrTrainError, ConvdrTrainOptions, DEFAULT_WEIGHT_DECAYS, rewriteAgreementJson, type ConvdrTrainResult, type FoldReport, type RankingLossRecord } from './convdr-train.ts';
export { agreements, batchGradient, fitAdapter, mean, pickRows, rankingLoss, type FitOptions, type FitResult, type KdData } from './fit.ts';
export { meanRankLoss, rankLossAndGradient, type RankRow } from './rank-loss.ts';
export { DEFAULT_RANK_NEGATIVES, rankingData, type RankingDataSummary } from './ranking-data.ts';
export { searcherDocuments, type DocumentSource } from './document-vectors.ts';
