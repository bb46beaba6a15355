// `edgesearch index add`: new documents into an existing index without a rebuild. Only the new
// documents are encoded; they join the shard their id hashes to, under the quantizers the index
// was trained with. The result is a new index version (the source is never modified): shards
// that got no document are linked unchanged, the others get their codes appended, their passage
// store and vector map extended and their BM25 postings rebuilt from the stored passages.
// `addedFrom` in a shard's manifest marks the new vectors, so `index optimize --added-only` can
// move just those.
import { join, resolve } from 'node:path';
import { readCorpus, type CorpusFormat, type Doc } from '../corpus/index.ts';
import { TokenStoreWriter } from '../colbert/store/index.ts';
import { loadEncoder, loadTokenEncoder, tokenMatrix } from '../encoders/index.ts';
import { FaissIndex } from '../index/index.ts';
import {
  FAISS_FILE,
  TARGETS_FILE,
  VECTOR_DOCS_FILE,
  checksumFiles,
  closeIndex,
  contentVersion,
  openIndex,
  readF32,
  shardOf,
  writeF32,
  writeU32,
  type IndexManifest,
  type DenseShard,
  denseShard,
  indexMethods,
  type LoadedShard,
  type Passage,
  type ShardManifest,
} from '../shard/index.ts';
import { BuildError, stderrIo, type BuildIo } from './index.ts';
import { publishNewVersion } from './new-version.ts';
import { rowsOf } from './row-encoders.ts';
import { writePassageFiles } from './passage-files.ts';

export interface AddOptions {
  index: string;
  corpus: string;
  format?: CorpusFormat;
  out: string;
  /** Model directory or manifest (default: the one recorded in the index; must be the same model). */
  model?: string;
  threads?: number;
  force?: boolean;
}

export interface AddResult {
  manifest: IndexManifest;
  docs: number;
  vectors: number;
}

/**
 * A ColBERT shard with its new documents' tokens appended to a copy of its token store, encoded
 * with the codec the index was built with (no retraining: scores stay comparable).
 */
async function extendTokenShard(shard: LoadedShard, stored: Passage[], dir: string, docs: Doc[], vectors: Float32Array, counts: number[]): Promise<ShardManifest> {
  const store = shard.tokens!;
  const writer = TokenStoreWriter.fromStore(store, dir);
  let names: string[];
  try {
    const d = store.dim;
    let at = 0;
    for (const n of counts) {
      writer.add(tokenMatrix(n, d, vectors.subarray(at * d, (at + n) * d)));
      at += n;
    }
    names = await writer.finish();
  } catch (err) {
    writer.abort();
    throw err;
  }
  names.push(...(await writePassageFiles(dir, [...stored, ...docs], shard.bm25 !== undefined)));
  const files = await checksumFiles(dir, names);
  const added = counts.reduce((a, b) => a + b, 0);
  return {
    ...shard.manifest,
    counts: { docs: shard.manifest.counts.docs + docs.length, vectors: store.tokens + added },
    files,
    version: contentVersion(files),
    addedFrom: shard.manifest.addedFrom ?? store.tokens,
  };
}

/** The shard (whose passages are `stored`) with its new documents appended, written into `dir`. */
async function extendShard(shard: DenseShard, stored: Passage[], dir: string, docs: Doc[], vectors: Float32Array, owners: number[]): Promise<ShardManifest> {
  const oldDocs = shard.manifest.counts.docs;
  const oldVectors = shard.index.ntotal;
  const d = shard.index.dimension;
  const names = [FAISS_FILE, VECTOR_DOCS_FILE, ...(await writePassageFiles(dir, [...stored, ...docs], shard.bm25 !== undefined))];

  // A fresh read of the file: the serving copy is never touched.
  const index = await FaissIndex.readFile(join(shard.dir, FAISS_FILE));
  try {
    await index.add(vectors);
    await index.writeFile(join(dir, FAISS_FILE));
  } finally {
    index.dispose();
  }
  const vectorDocs = new Uint32Array(oldVectors + owners.length);
  vectorDocs.set(shard.vectorDocs);
  owners.forEach((o, i) => (vectorDocs[oldVectors + i] = oldDocs + o));
  await writeU32(join(dir, VECTOR_DOCS_FILE), vectorDocs);
  if (TARGETS_FILE in shard.manifest.files) {
    const floats = new Float32Array((oldVectors + owners.length) * d);
    floats.set(await readF32(join(shard.dir, TARGETS_FILE)));
    floats.set(vectors, oldVectors * d);
    await writeF32(join(dir, TARGETS_FILE), floats);
    names.push(TARGETS_FILE);
  }
  const files = await checksumFiles(dir, names);
  return {
    ...shard.manifest,
    counts: { docs: oldDocs + docs.length, vectors: oldVectors + owners.length },
    files,
    version: contentVersion(files),
    addedFrom: shard.manifest.addedFrom ?? oldVectors,
  };
}

export async function addDocuments(opts: AddOptions, io: BuildIo = stderrIo): Promise<AddResult> {
  const out = resolve(opts.out);
  const loaded = await openIndex(resolve(opts.index));
  try {
    const recorded = loaded.manifest.model;
    // Read once: for the ids already there, and to rewrite the stores that get documents.
    const stored = await Promise.all(loaded.shards.map((shard) => shard.passages.readAll()));
    const existing = new Set(stored.flatMap((passages) => passages.map((p) => p.id)));

    const docs: Doc[] = [];
    const clashes: string[] = [];
    for await (const doc of readCorpus(resolve(opts.corpus), opts.format)) {
      if (existing.has(doc.id)) clashes.push(doc.id);
      else docs.push(doc);
    }
    if (clashes.length > 0) throw new BuildError(`${opts.corpus}: ${clashes.length} document id${clashes.length === 1 ? ' is' : 's are'} already in the index (e.g. ${clashes.slice(0, 5).map((id) => JSON.stringify(id)).join(', ')}); adding never replaces a document`);
    if (docs.length === 0) throw new BuildError(`${opts.corpus}: no documents to add`);

    // Rows as the index holds them: window vectors, or (ColBERT) token vectors.
    const colbert = indexMethods(loaded.manifest).includes('colbert');
    const model = opts.model ?? recorded.path;
    const loadOptions = { threads: opts.threads, log: io.log, batching: 'padded' as const, batchSize: 16 };
    const encoder = colbert ? await loadTokenEncoder(model, loadOptions) : await loadEncoder(model, loadOptions);
    try {
      if (encoder.manifestHash !== recorded.manifestHash) throw new BuildError(`model ${encoder.modelId} (${encoder.manifestPath}) is not the model ${recorded.id} the index was built with: its vectors would not be comparable`);
      const rows = rowsOf(encoder);
      const shardCount = loaded.shards.length;
      const perShard = Array.from({ length: shardCount }, () => [] as Doc[]);
      for (const doc of docs) perShard[shardOf(doc.id, shardCount)].push(doc);

      let vectors = 0;
      const manifest = await publishNewVersion({
        source: loaded,
        out,
        force: opts.force,
        writeShard: async (shard, dir, s) => {
          const part = perShard[s];
          if (part.length === 0) return undefined;
          const encoded = await rows.encode(part);
          const added = encoded.counts.reduce((a, b) => a + b, 0);
          vectors += added;
          io.log(`shard ${s}: +${part.length} docs, +${added} ${rows.rows === 'tokens' ? 'tokens' : 'vectors'}`);
          if (colbert) return extendTokenShard(shard, stored[s], dir, part, encoded.vectors, encoded.counts);
          const owners = encoded.counts.flatMap((n, i) => new Array<number>(n).fill(i));
          return extendShard(denseShard(shard), stored[s], dir, part, encoded.vectors, owners);
        },
      });
      io.log(`index ${manifest.version} published at ${out}: +${docs.length} docs, +${vectors} ${colbert ? 'tokens' : 'vectors'}`);
      return { manifest, docs: docs.length, vectors };
    } finally {
      await encoder.dispose();
    }
  } finally {
    await closeIndex(loaded);
  }
}
