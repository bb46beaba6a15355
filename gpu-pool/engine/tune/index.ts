// Tuning an index to the user's judged queries: hybrid's default fusion (`edgesearch index tune`).
export { DEFAULT_FUSION, chooseFusion, foldOf, fusionCandidates, type BranchLists, type FusionChoiceResult } from './choose-fusion.ts';
export { TuneError, tuneIndex, type TuneOptions, type TuneResult } from './tune-index.ts';
