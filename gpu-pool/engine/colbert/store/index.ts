// ColBERT's compressed token store for one shard directory: write (build, delete, add without
// retraining) and read (PLAID-style candidates, exact MaxSim over decompressed tokens).
export {
  CENTROIDS_FILE,
  CODES_FILE,
  DOC_OFFSETS_FILE,
  IVF_DOCS_FILE,
  IVF_OFFSETS_FILE,
  RESIDUALS_FILE,
  STORE_FORMAT,
  STORE_FORMAT_VERSION,
  STORE_META_FILE,
  StoreMeta,
  TOKEN_STORE_FILES,
  TokenStoreError,
} from './files.ts';
export { DEFAULT_LIMIT, DEFAULT_NPROBE, TokenStore, type CandidateOptions } from './token-store.ts';
export { TokenStoreWriter } from './writer.ts';
