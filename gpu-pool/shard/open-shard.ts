import { join } from 'node:path';
import { Bm25Index } from '../bm25/index.ts';
import { FaissIndex } from '../index/index.ts';
import { FAISS_FILE, readVectorDocs } from './files.ts';
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

export async function openShard(dir: string, opts: OpenOptions = {}): Promise<LoadedShard> {
  const manifest = await readShardManifest(dir);
  if (opts.verify !== false) await verifyShardFiles(dir, manifest);
  const index = await FaissIndex.readFile(join(dir, FAISS_FILE));
  if (index.dimension !== manifest.model.dimension) {
    throw new ManifestError(`faiss index has dimension ${index.dimension}, manifest says ${manifest.model.dimension}`, join(dir, FAISS_FILE));
  }
  const vectorDocs = await readVectorDocs(dir);
  if (vectorDocs.length !== index.ntotal) {
    throw new ManifestError(`${vectorDocs.length} vector→doc entries for ${index.ntotal} vectors`, dir);
  }
  const passages = await PassageStore.open(dir);
  const bm25 = manifest.methods.includes('bm25') ? await Bm25Index.read(dir) : undefined;
  return { dir, manifest, index, vectorDocs, passages, bm25 };
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
