import { join } from 'node:path';
import { Bm25Index } from '../bm25/index.ts';
import { TokenStore } from '../colbert/store/index.ts';
import { PhraseStore } from '../phrase/store/index.ts';
import { FaissIndex } from '../index/index.ts';
import { FAISS_FILE, VECTOR_DOCS_FILE, readVectorDocs } from './files.ts';
import { checkShardFiles } from './loaded-files.ts';
import { ManifestError, readIndexManifest, readShardManifest, verifyShardFiles, type IndexManifest, type ShardManifest } from './manifest.ts';
import { PassageStore } from './passage-store.ts';

/** The read path of one shard: everything a query needs, loaded and verified. */
export interface LoadedShard {
  dir: string;
  manifest: ShardManifest;
  /** The dense part (faiss index), absent when the shard was built without one (a colbert index). */
  index?: FaissIndex;
  /** vector id → shard-local document ordinal (with `index`). */
  vectorDocs?: Uint32Array;
  passages: PassageStore;
  bm25?: Bm25Index;
  /** ColBERT's compressed token vectors, per document ordinal. */
  tokens?: TokenStore;
  /** DensePhrases' phrase index: start / end vectors of every passage token. */
  phrases?: PhraseStore;
}

/** The dense part of a shard: what dense search, `index add`, `index delete` and `index optimize` work on. */
export interface DenseShard extends LoadedShard {
  index: FaissIndex;
  vectorDocs: Uint32Array;
}

export class NoDensePartError extends Error {
  constructor(dir: string, methods: readonly string[]) {
    super(`${dir} holds no dense vectors (it was built for ${methods.join(' + ')}): dense search and the commands that change dense vectors need an index built with --method dense`);
    this.name = 'NoDensePartError';
  }
}

/** The shard as a dense shard, or a clear error naming it and what it holds instead. */
export function denseShard(shard: LoadedShard): DenseShard {
  if (!shard.index || !shard.vectorDocs) throw new NoDensePartError(shard.dir, shard.manifest.methods);
  return shard as DenseShard;
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
  const dense = manifest.methods.includes('dense');
  const index = dense ? await FaissIndex.readFile(join(dir, FAISS_FILE)) : undefined;
  let passages: PassageStore | undefined;
  let tokens: TokenStore | undefined;
  let phrases: PhraseStore | undefined;
  try {
    passages = await PassageStore.open(dir);
    const docs = passages.size;
    let vectorDocs: Uint32Array | undefined;
    if (index) {
      if (index.dimension !== manifest.model.dimension) {
        throw new ManifestError(`faiss index has dimension ${index.dimension}, manifest says ${manifest.model.dimension}`, join(dir, FAISS_FILE));
      }
      vectorDocs = await readVectorDocs(dir);
      if (vectorDocs.length !== index.ntotal) {
        throw new ManifestError(`${vectorDocs.length} vector→doc entries for ${index.ntotal} vectors`, dir);
      }
      // Ordinals from the id map and the postings index the passage store: keep them inside it.
      for (let r = 0; r < vectorDocs.length; r++) {
        if (vectorDocs[r] >= docs) throw new ManifestError(`vector ${r} names document ${vectorDocs[r]}, the passage store holds ${docs}`, join(dir, VECTOR_DOCS_FILE));
      }
    }
    const bm25 = manifest.methods.includes('bm25') ? await Bm25Index.read(dir) : undefined;
    if (bm25 && bm25.docCount !== docs) throw new ManifestError(`BM25 postings cover ${bm25.docCount} documents, the passage store holds ${docs}`, dir);
    if (manifest.methods.includes('colbert')) {
      tokens = await TokenStore.open(dir);
      if (tokens.docs !== docs) throw new ManifestError(`the token store covers ${tokens.docs} documents, the passage store holds ${docs}`, dir);
      if (tokens.dim !== manifest.model.dimension) throw new ManifestError(`the token store holds ${tokens.dim}-d token vectors, manifest says ${manifest.model.dimension}`, dir);
    }
    if (manifest.methods.includes('phrase')) {
      phrases = await PhraseStore.open(dir);
      if (phrases.docs !== docs) throw new ManifestError(`the phrase store covers ${phrases.docs} documents, the passage store holds ${docs}`, dir);
    }
    return { dir, manifest, index, vectorDocs, passages, bm25, tokens, phrases };
  } catch (err) {
    await passages?.close();
    await tokens?.close();
    await phrases?.close();
    index?.dispose();
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
  await shard.tokens?.close();
  await shard.phrases?.close();
  shard.index?.dispose();
}

export async function closeIndex(index: LoadedIndex): Promise<void> {
  for (const shard of index.shards) await closeShard(shard);
}
