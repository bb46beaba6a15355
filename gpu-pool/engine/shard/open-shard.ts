import { join } from 'node:path';
import { Bm25Index } from '../bm25/index.ts';
import { FaissIndex } from '../index/index.ts';
import { FAISS_FILE, VECTOR_DOCS_FILE, readVectorDocs } from './files.ts';
import { checkShardFiles } from './loaded-files.ts';
import { ManifestError, readIndexManifest, readShardManifest, verifyShardFiles, type IndexManifest, type ShardManifest } from './manifest.ts';
import { PassageStore } from './passage-store.ts';

/** The read path of one shard: everything a query needs, loaded and verified. */
export interface LoadedShard {
  dir: string;
  manifest: ShardManifest;
  index: FaissIndex;
  /** vector id → shard-local document ordinal */
  vectorDocs: Uint32Array;
  passages: PassageStore;
  bm25?: Bm25Index;
}

export interface OpenOptions {
  /** Recompute every file's checksum before loading (default true). */
  verify?: boolean;
}

/**
 * Loads one shard. Whatever `verify` says, the manifest must list every file the loader reads
 * and those must be regular files in the directory (no symlinks); with `verify` (the default)
 * their checksums are recomputed first. Resources taken before a failure are released.
 */
export async function openShard(dir: string, opts: OpenOptions = {}): Promise<LoadedShard> {
  const manifest = await readShardManifest(dir);
  await checkShardFiles(dir, manifest);
  if (opts.verify !== false) await verifyShardFiles(dir, manifest);
  const index = await FaissIndex.readFile(join(dir, FAISS_FILE));
  let passages: PassageStore | undefined;
  try {
    if (index.dimension !== manifest.model.dimension) {
      throw new ManifestError(`faiss index has dimension ${index.dimension}, manifest says ${manifest.model.dimension}`, join(dir, FAISS_FILE));
    }
    const vectorDocs = await readVectorDocs(dir);
    if (vectorDocs.length !== index.ntotal) {
      throw new ManifestError(`${vectorDocs.length} vector→doc entries for ${index.ntotal} vectors`, dir);
    }
    passages = await PassageStore.open(dir);
    // Ordinals from the id map and the postings index the passage store: keep them inside it.
    const docs = passages.size;
    for (let r = 0; r < vectorDocs.length; r++) {
      if (vectorDocs[r] >= docs) throw new ManifestError(`vector ${r} names document ${vectorDocs[r]}, the passage store holds ${docs}`, join(dir, VECTOR_DOCS_FILE));
    }
    const bm25 = manifest.methods.includes('bm25') ? await Bm25Index.read(dir) : undefined;
    if (bm25 && bm25.docCount !== docs) throw new ManifestError(`BM25 postings cover ${bm25.docCount} documents, the passage store holds ${docs}`, dir);
    return { dir, manifest, index, vectorDocs, passages, bm25 };
  } catch (err) {
    await passages?.close();
    index.dispose();
    throw err;
  }
}

export interface LoadedIndex {
  dir: string;
  manifest: IndexManifest;
  shards: LoadedShard[];
}

export async function openIndex(dir: string, opts: OpenOptions = {}): Promise<LoadedIndex> {
  const manifest = await readIndexManifest(dir);
  const shards: LoadedShard[] = [];
  for (const entry of manifest.shards) {
    const shard = await openShard(join(dir, entry.dir), opts);
    if (shard.manifest.version !== entry.version) {
      throw new ManifestError(`shard ${entry.dir} has version ${shard.manifest.version}, index.json expects ${entry.version}`, join(dir, entry.dir));
    }
    shards.push(shard);
  }
  return { dir, manifest, shards };
}

/** Releases what openShard took: the passage file and the faiss index. */
export async function closeShard(shard: LoadedShard): Promise<void> {
  await shard.passages.close();
  shard.index.dispose();
}

export async function closeIndex(index: LoadedIndex): Promise<void> {
  for (const shard of index.shards) await closeShard(shard);
}
