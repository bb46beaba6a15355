import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Searcher } from '../search/index.ts';
import { closeIndex, denseShard, openIndex, readIndexManifest, type LoadedIndex } from '../shard/index.ts';
import { scifactTestQueries } from '../../../test/fixtures.ts';
import { fixtureIndex } from '../../../test/index-fixture.ts';
import { runCli } from '../../../test/cli.ts';
import { deleteDocuments } from './index.ts';

const quiet = { log: () => {} };
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-delete-'));
});

/** Document id → its vectors' reconstructions, concatenated in row order. */
async function vectorsByDoc(index: LoadedIndex): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer[]>();
  for (const shard of index.shards.map(denseShard)) {
    const ids = (await shard.passages.readAll()).map((p) => p.id);
    const n = shard.index.ntotal;
    const rows = shard.index.reconstructBatch(Array.from({ length: n }, (_, i) => i));
    const d = shard.index.dimension;
    for (let r = 0; r < n; r++) {
      const id = ids[shard.vectorDocs[r]];
      out.set(id, [...(out.get(id) ?? []), Buffer.from(rows.buffer, r * d * 4, d * 4)]);
    }
  }
  return new Map([...out].map(([id, parts]) => [id, Buffer.concat(parts)]));
}

describe.each(['IVF4,PQ16x4np', 'Flat', 'HNSW8_PQ16np'])('index delete (%s)', (factory) => {
  let source: string;
  let out: string;
  const doomed: string[] = [];

  beforeAll(async () => {
    source = await fixtureIndex({ limit: 120, factory, keepVectors: factory !== 'Flat' });
    const loaded = await openIndex(source);
    // Every 8th document of each shard, so every shard loses some from its middle.
    for (const shard of loaded.shards) {
      const passages = await shard.passages.readAll();
      passages.forEach((p, i) => i % 8 === 3 && doomed.push(p.id));
    }
    await closeIndex(loaded);
    out = join(work, factory.replace(/,/g, '_'));
    await deleteDocuments({ index: source, ids: doomed, out }, quiet);
  }, 120_000);

  it('keeps every other document with the same codes, and drops the deleted ones', async () => {
    const [a, b] = [await openIndex(source), await openIndex(out)];
    try {
      const [before, after] = [await vectorsByDoc(a), await vectorsByDoc(b)];
      expect(after.size).toBe(before.size - doomed.length);
      for (const id of doomed) expect(after.has(id)).toBe(false);
      for (const [id, bytes] of after) expect(bytes.equals(before.get(id)!), id).toBe(true);
      expect(b.manifest.counts.docs).toBe(a.manifest.counts.docs - doomed.length);
    } finally {
      await closeIndex(a);
      await closeIndex(b);
    }
  });

  it('answers like the source with the deleted documents left out (dense), and BM25 never returns them', async () => {
    const queries = (await scifactTestQueries(10)).map((q) => ({ id: q.id, text: q.text, k: 30, params: { nprobe: 4, efSearch: 256 } }));
    const [sa, sb] = [await Searcher.open(source), await Searcher.open(out)];
    try {
      const gone = new Set(doomed);
      const [ra, rb] = [await sa.searchHits('dense', queries), await sb.searchHits('dense', queries)];
      ra.forEach((hits, i) => {
        const want = hits.filter((h) => !gone.has(h.docId)).slice(0, 10);
        expect(rb[i].slice(0, 10).map((h) => h.docId)).toEqual(want.map((h) => h.docId));
      });
      for (const hits of await sb.searchHits('bm25', queries)) for (const h of hits) expect(gone.has(h.docId)).toBe(false);
    } finally {
      await sa.close();
      await sb.close();
    }
  });
});

describe('index delete (errors)', () => {
  it('refuses ids the index does not have, naming them, and writes nothing', async () => {
    const source = await fixtureIndex({ limit: 120, factory: 'Flat' });
    const out = join(work, 'unknown');
    const res = await runCli(['index', 'delete', '--index', source, '--id', 'no-such-doc', 'nor-this', '--out', out]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/2 of the ids to delete are not in the index \(e\.g\. "no-such-doc", "nor-this"\); nothing was deleted/);
    await expect(readIndexManifest(out)).rejects.toThrow(/cannot read/);
  });
});
