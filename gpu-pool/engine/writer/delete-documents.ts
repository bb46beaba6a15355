// `edgesearch index delete`: documents out of an index without a rebuild, as a new version.
// Nothing is re-encoded and kept vectors keep their codes: IVF shards remove the rows and close
// the id gaps (ids stay row positions), flat-code shards (Flat, PQ) compact in order, HNSW shards,
// which cannot remove, are refilled with the kept rows. Passage stores, vector maps and stored
// floats are compacted in the same order; BM25 postings are rebuilt from the kept passages.
import { join, resolve } from 'node:path';
import { TokenStoreWriter } from '../colbert/store/index.ts';
import { readLines } from '../corpus/index.ts';
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
  writeF32,
  writeU32,
  type IndexManifest,
  type DenseShard,
  denseShard,
  type LoadedShard,
  type Passage,
  type ShardManifest,
} from '../shard/index.ts';
import { BuildError, stderrIo, type BuildIo } from './index.ts';
import { publishNewVersion } from './new-version.ts';
import { writePassageFiles } from './passage-files.ts';

export interface DeleteOptions {
  index: string;
  /** Document ids to delete. */
  ids: readonly string[];
  out: string;
  force?: boolean;
}

export interface DeleteResult {
  manifest: IndexManifest;
  docs: number;
  vectors: number;
}

/** Ids from a file: one per line; blank lines and `#` comments ignored. */
export async function readIdList(path: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const { text } of readLines(path)) {
    const id = text.trim();
    if (id !== '' && !id.startsWith('#')) ids.push(id);
  }
  return ids;
}

/** The kept rows of a shard's faiss index, same codes, ids 0..kept-1 in row order. */
async function compactIndex(shard: DenseShard, keepRow: Uint8Array, floats: Float32Array | undefined): Promise<FaissIndex> {
  const n = keepRow.length;
  const d = shard.index.dimension;
  const kept = keepRow.reduce((a, b) => a + b, 0);
  const index = await FaissIndex.readFile(join(shard.dir, FAISS_FILE));
  try {
    const deleted: bigint[] = [];
    const mapping = new BigInt64Array(n).fill(-1n);
    let next = 0n;
    for (let r = 0; r < n; r++) {
      if (keepRow[r]) mapping[r] = next++;
      else deleted.push(BigInt(r));
    }
    const layout = index.rowLayout;
    if (layout === 'hnsw') {
      // No removal in HNSW: refill with the kept rows (their floats, or their codes decoded, which
      // re-encode to the same codes).
      const rows = new Float32Array(kept * d);
      const source = floats ?? shard.index.reconstructBatch(Array.from({ length: n }, (_, i) => i));
      for (let r = 0, j = 0; r < n; r++) if (keepRow[r]) rows.set(source.subarray(r * d, (r + 1) * d), d * j++);
      await index.reset();
      await index.add(rows);
    } else {
      await index.removeIds(BigInt64Array.from(deleted));
      if (layout === 'ivf') await index.renumberIds(mapping);
    }
    if (index.ntotal !== kept) throw new BuildError(`${shard.dir}: ${index.ntotal} vectors left after deleting, expected ${kept}`);
    return index;
  } catch (err) {
    index.dispose();
    throw err;
  }
}

/** A ColBERT shard without the `doomed` local documents: the kept passages' compressed tokens copied as they are. */
async function compactTokenShard(shard: LoadedShard, stored: Passage[], dir: string, doomed: Set<number>): Promise<ShardManifest> {
  const store = shard.tokens!;
  const keep = Uint32Array.from([...stored.keys()].filter((local) => !doomed.has(local)));
  const writer = TokenStoreWriter.fromStore(store, dir, { keep });
  let names: string[];
  try {
    names = await writer.finish();
  } catch (err) {
    writer.abort();
    throw err;
  }
  const tokens = writer.tokens;
  names.push(...(await writePassageFiles(dir, Array.from(keep, (local) => stored[local]), shard.bm25 !== undefined)));
  const files = await checksumFiles(dir, names);
  // Tokens before the first added one that survive: where the added tokens now start.
  const offsets = store.compressed().docOffsets;
  const addedFrom = shard.manifest.addedFrom === undefined ? undefined : Array.from(keep).reduce((n, local) => (offsets[local] < shard.manifest.addedFrom! ? n + store.tokenCount(local) : n), 0);
  return { ...shard.manifest, counts: { docs: keep.length, vectors: tokens }, files, version: contentVersion(files), addedFrom };
}

/** The shard (whose passages are `stored`) without the `doomed` local documents, written into `dir`. */
async function compactShard(shard: DenseShard, stored: Passage[], dir: string, doomed: Set<number>): Promise<ShardManifest> {
  const docs = shard.manifest.counts.docs;
  const n = shard.index.ntotal;
  const d = shard.index.dimension;
  const newLocal = new Int32Array(docs).fill(-1);
  const kept: Passage[] = [];
  stored.forEach((p, local) => {
    if (!doomed.has(local)) newLocal[local] = kept.push(p) - 1;
  });
  const names = [FAISS_FILE, VECTOR_DOCS_FILE, ...(await writePassageFiles(dir, kept, shard.bm25 !== undefined))];

  const keepRow = new Uint8Array(n);
  for (let r = 0; r < n; r++) keepRow[r] = newLocal[shard.vectorDocs[r]] >= 0 ? 1 : 0;
  const keptRows = keepRow.reduce((a, b) => a + b, 0);
  const floats = TARGETS_FILE in shard.manifest.files ? await readF32(join(shard.dir, TARGETS_FILE)) : undefined;
  const index = await compactIndex(shard, keepRow, floats);
  try {
    await index.writeFile(join(dir, FAISS_FILE));
  } finally {
    index.dispose();
  }
  const vectorDocs = new Uint32Array(keptRows);
  const keptFloats = floats ? new Float32Array(keptRows * d) : undefined;
  for (let r = 0, j = 0; r < n; r++) {
    if (!keepRow[r]) continue;
    vectorDocs[j] = newLocal[shard.vectorDocs[r]];
    keptFloats?.set(floats!.subarray(r * d, (r + 1) * d), j * d);
    j++;
  }
  await writeU32(join(dir, VECTOR_DOCS_FILE), vectorDocs);
  if (keptFloats) {
    await writeF32(join(dir, TARGETS_FILE), keptFloats);
    names.push(TARGETS_FILE);
  }
  const files = await checksumFiles(dir, names);
  const addedFrom = shard.manifest.addedFrom === undefined ? undefined : keepRow.subarray(0, shard.manifest.addedFrom).reduce((a, b) => a + b, 0);
  return { ...shard.manifest, counts: { docs: kept.length, vectors: keptRows }, files, version: contentVersion(files), addedFrom };
}

export async function deleteDocuments(opts: DeleteOptions, io: BuildIo = stderrIo): Promise<DeleteResult> {
  if (opts.ids.length === 0) throw new BuildError('no document ids to delete');
  const loaded = await openIndex(resolve(opts.index));
  try {
    // Read once: where each id lives (shard, local ordinal), and to rewrite the stores that lose documents.
    const stored = await Promise.all(loaded.shards.map((shard) => shard.passages.readAll()));
    const where = new Map<string, [number, number]>();
    stored.forEach((passages, s) => passages.forEach((p, local) => where.set(p.id, [s, local])));
    const unknown = [...new Set(opts.ids)].filter((id) => !where.has(id));
    if (unknown.length > 0) throw new BuildError(`${unknown.length} of the ids to delete are not in the index (e.g. ${unknown.slice(0, 5).map((id) => JSON.stringify(id)).join(', ')}); nothing was deleted`);
    const doomed = loaded.shards.map(() => new Set<number>());
    for (const id of opts.ids) {
      const [s, local] = where.get(id)!;
      doomed[s].add(local);
    }
    const before = loaded.manifest.counts;
    const manifest = await publishNewVersion({
      source: loaded,
      out: opts.out,
      force: opts.force,
      writeShard: async (shard, dir, s) => {
        if (doomed[s].size === 0) return undefined;
        return shard.tokens ? compactTokenShard(shard, stored[s], dir, doomed[s]) : compactShard(denseShard(shard), stored[s], dir, doomed[s]);
      },
    });
    const docs = before.docs - manifest.counts.docs;
    const vectors = before.vectors - manifest.counts.vectors;
    io.log(`index ${manifest.version} published at ${resolve(opts.out)}: -${docs} docs, -${vectors} vectors`);
    return { manifest, docs, vectors };
  } finally {
    await closeIndex(loaded);
  }
}
