// A shard directory on disk: manifest, checksums, passage store, atomic publish.
export { checksumFile, type FileChecksum } from './checksum.ts';
export {
  FusionChoice,
  FusionRecord,
  IndexManifest,
  ManifestError,
  ModelRef,
  OptimizationRecord,
  ShardManifest,
  INDEX_MANIFEST_FILE,
  SHARD_FORMAT_VERSION,
  SHARD_MANIFEST_FILE,
  checksumFiles,
  contentVersion,
  indexMethods,
  indexVersionOf,
  readIndexManifest,
  readShardManifest,
  verifyShardFiles,
  writeJson,
} from './manifest.ts';
export { PASSAGE_DATA_FILE, PASSAGE_OFFSETS_FILE, PassageStore, PassageStoreWriter, type Passage } from './passage-store.ts';
export { checkShardFiles, loadedFiles } from './loaded-files.ts';
export { createStaging, exists, fsyncTree, publishDirectory, removeStaleStaging } from './publish.ts';
export { shardOf } from './shard-of.ts';
export { VECTOR_DOCS_FILE, FAISS_FILE, TARGETS_FILE, linkOrCopy, readF32, readVectorDocs, writeF32, writeU32 } from './files.ts';
export { NoDensePartError, closeIndex, closeShard, denseShard, openIndex, openShard, type DenseShard, type LoadedIndex, type LoadedShard, type OpenOptions } from './open-shard.ts';
