// TREC CAsT inputs (topics, manual rewrites) and folds by topic.
export { CastInputError, depthGroup, joinRewrites, readCastTopics, readConversations, readRewrites, turnsOf, type CastTopic, type CastTurn, type JoinOptions, type Rewrites } from './cast.ts';
export { innerSplit, topicFolds } from './folds.ts';
