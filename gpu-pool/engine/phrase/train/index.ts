// Public surface of phrase/train: `edgesearch phrase train`, DensePhrases' phrase heads trained on
// top of a frozen token encoder (see README.md), and the pieces it is made of.
export { phraseTrain, PhraseTrainError, PhraseTrainOptions, PHRASE_FILTER_FILE, PHRASE_HEADS_FILE, type AnswerCounts, type PhraseFilterReport, type PhraseTrainResult } from './phrase-train.ts';
export {
  FILTER_THRESHOLDS,
  filterFigures,
  filterLikelihoods,
  filterLossAndGradient,
  filterViews,
  foldFilterScale,
  positiveWeights,
  trainFilter,
  type FilterData,
  type FilterEpochReport,
  type FilterParagraph,
  type FilterPositiveWeights,
  type FilterThresholdFigures,
  type FilterTrainOptions,
  type FilterTrainResult,
} from './train-filter.ts';
export {
  assembleBatch,
  initialHeads,
  meanSpanLoss,
  trainHeads,
  validate,
  type EpochReport,
  type HeadsData,
  type HeadsTrainOptions,
  type HeadsTrainResult,
  type TrainQuestion,
  type Validation,
  type ValidationQuestion,
} from './train-heads.ts';
export { headViews, spanLossAndGradient, type SpanBatch } from './span-loss.ts';
export { answerTokens, type AnswerTokens } from './answer-tokens.ts';
export { ArticleRangeError, formatArticles, parseArticles, splitArticles } from './articles.ts';
export { divideRows, foldScales, rmsNorm } from './feature-scale.ts';
export { cachedTextFeatures, featureKey, fromCachedRows, toCachedRows, type CachedFeatures } from './text-features.ts';
