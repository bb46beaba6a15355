// Tuning an index to the user's judged queries: hybrid's default fusion (`edgesearch index tune`).
export { DEFAULT_FUSION, chooseFusion, foldOf, fusionCandidates, scoreCandidates, type BranchLists, type FusionChoiceResult } from './choose-fusion.ts';
export { TuneError, branchLists, tuneIndex, type TuneOptions, type TuneResult } from './tune-index.ts';
