// ConvDR (conversational dense retrieval): CAsT readers and folds, the student encoder (base
// sentence encoder on several views of the conversation + a linear adapter distilled toward the
// encoder's vectors of manual rewrites), its training, and agreement figures.
export { loadConversationalEncoder, NotAConversationalModelError, studentEncoder, type LoadConversationalEncoderOptions } from './model/index.ts';
export { ADAPTER_FILE, applyAdapter, decodeAdapter, encodeAdapter, identityAdapter, readAdapter, viewFeatures, viewTexts, type Adapter } from './model/index.ts';
export { CastInputError, depthGroup, innerSplit, joinRewrites, readCastTopics, readConversations, readRewrites, topicFolds, turnsOf, type CastTopic, type CastTurn } from './cast/index.ts';
export { convdrTrain, ConvdrTrainError, ConvdrTrainOptions, DEFAULT_WEIGHT_DECAYS, rewriteAgreementJson, type ConvdrTrainResult } from './train/index.ts';
export { agreementJson, formatSummary, rankingAgreement, REWRITE_AGREEMENT_DEPTH, searcherRankings, summarize, type AgreementSummary, type RankingSource, type TurnFigure } from './agreement/index.ts';
