// Agreement figures of conversational query encodings with manual rewrites (no corpus judgments needed).
export { agreementJson, formatSummary, summarize, type AgreementSummary, type FoldMeans, type SystemMeans, type TurnFigure } from './summary.ts';
export { rankingAgreement, REWRITE_AGREEMENT_DEPTH, searchByVectors, searcherRankings, type RankingSource } from './rewrite-agreement.ts';
