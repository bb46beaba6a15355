// faiss indexes for the pool: a typed wrapper over the node-addon-api binding
// in gpu-pool/engine/native (system faiss 1.7.3). See gpu-pool/engine/native/README.md.
export {
  FaissIndex,
  NO_RESULT,
  faissVersion,
  getThreads,
  setThreads,
  type Metric,
  type ReadOptions,
  type SearchParams,
  type SearchResult,
  type TrainingClustering,
  type TrainOptions,
} from './faiss-index.ts';
export { maxSim } from './maxsim.ts';
export { matmul, type MatmulOptions } from './matmul.ts';
export { kmeans, type KmeansOptions, type KmeansResult } from './kmeans.ts';
export {
  assignCentroids,
  maxSimResidual,
  plaidCandidates,
  residualBytes,
  residualDecode,
  residualEncode,
  type CentroidPassages,
  type PlaidOptions,
  type ResidualBits,
  type ResidualCodecArrays,
  type ResidualTokens,
} from './residual.ts';
export { trainingDataWarning } from './training-warning.ts';
export { FaissError, type FaissErrorCode } from './errors.ts';
