// The document vectors the ranking loss needs, read from a dense index: its top hits for a query
// vector, and the stored window vectors of a document (a dense index holds one vector per window;
// a document scores as the max over its windows at search time). Vectors are read back with the
// faiss index's reconstruct (exact for Flat; the decoded codes for PQ / SQ), by the vector ids
// whose vectorDocs entry is the document's shard-local ordinal.
import type { Searcher } from '../../search/index.ts';
import { searchByVectors } from '../agreement/index.ts';
import { denseShard, type LoadedShard } from '../../shard/index.ts';

/** What the ranking loss needs from an index. */
export interface DocumentSource {
  /** The index, for messages. */
  name: string;
  /** The model the dense index was built with (its vectors must be the teacher's). */
  model: { id: string; manifestHash: string; dimension: number };
  /** Top-k document ids (best first) for each query vector (n × dimension). */
  search(vectors: Float32Array, n: number, k: number): Promise<string[][]>;
  /** The window vectors (windows × dimension) of each of `ids` the index holds; ids it does not hold are left out. */
  windows(ids: Iterable<string>): Promise<Map<string, Float32Array>>;
}

interface Located {
  shard: number;
  ordinal: number;
}

/** Vector ids by shard-local ordinal (CSR over vectorDocs). */
function rowsByOrdinal(vectorDocs: Uint32Array, docs: number): { start: Uint32Array; rows: Uint32Array } {
  const start = new Uint32Array(docs + 1);
  for (const o of vectorDocs) start[o + 1]++;
  for (let i = 0; i < docs; i++) start[i + 1] += start[i];
  const fill = start.slice(0, docs);
  const rows = new Uint32Array(vectorDocs.length);
  vectorDocs.forEach((o, r) => (rows[fill[o]++] = r));
  return { start, rows };
}

/** A Searcher's dense index as a document source (no encoder is loaded: searches take the vectors given). */
export function searcherDocuments(searcher: Searcher, opts: { batch?: number } = {}): DocumentSource {
  const batch = opts.batch ?? 64;
  const shards = searcher.index.shards;
  const located = new Map<string, Located>();
  const csr = new Map<number, ReturnType<typeof rowsByOrdinal>>();
  const rowsOf = (shard: LoadedShard, s: number) => {
    let c = csr.get(s);
    if (!c) csr.set(s, (c = rowsByOrdinal(denseShard(shard).vectorDocs, shard.passages.size)));
    return c;
  };
  return {
    name: searcher.index.dir,
    model: searcher.index.manifest.model,
    async search(vectors, n, k) {
      const results = await searchByVectors(searcher, vectors, n, k, batch);
      for (const hits of results) for (const h of hits) located.set(h.docId, { shard: h.shard, ordinal: h.ordinal });
      return results.map((hits) => hits.map((h) => h.docId));
    },
    async windows(ids) {
      const wanted = new Set(ids);
      const missing = new Set([...wanted].filter((id) => !located.has(id)));
      // Ids not seen in a search: one pass over each shard's passage ids.
      if (missing.size > 0)
        for (let s = 0; s < shards.length; s++) {
          const passages = await shards[s].passages.readAll();
          passages.forEach((p, ordinal) => {
            if (missing.has(p.id)) located.set(p.id, { shard: s, ordinal });
          });
        }
      const out = new Map<string, Float32Array>();
      for (const id of wanted) {
        const at = located.get(id);
        if (!at) continue;
        const shard = denseShard(shards[at.shard]);
        const { start, rows } = rowsOf(shard, at.shard);
        const ids = Array.from(rows.subarray(start[at.ordinal], start[at.ordinal + 1]));
        if (ids.length > 0) out.set(id, shard.index.reconstructBatch(ids));
      }
      return out;
    },
  };
}
