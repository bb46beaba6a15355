// `index add` and `index delete` on a ColBERT index: the token store follows the passages, under
// the codec the index was built with, and the new version searches like the old one did for
// every document it kept.
import { describe, expect, it } from 'vitest';
import { fixtureIndex, newerFixture } from '../../../test/index-fixture.ts';
import { Searcher } from '../search/index.ts';
import { closeIndex, openIndex, readIndexManifest, type LoadedIndex } from '../shard/index.ts';

async function tokensById(index: LoadedIndex): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const shard of index.shards) {
    const passages = await shard.passages.readAll();
    passages.forEach((p, local) => out.set(p.id, shard.tokens!.tokensOf(local).data));
  }
  return out;
}

describe('a ColBERT index changed in place of a rebuild', () => {
  it('index add appends the new documents\' tokens with the same codec; the old ones are untouched', async () => {
    const base = await fixtureIndex({ method: 'colbert', limit: 60 });
    const added = await newerFixture(base, 'colbert-added', { add: { from: 60, count: 15 } });
    const [before, after] = [await openIndex(base), await openIndex(added)];
    try {
      expect(after.manifest.counts.docs).toBe(75);
      expect(after.manifest.methods).toEqual(['colbert', 'bm25']);
      expect(after.manifest.lineage).toContain(before.manifest.version);
      const [was, now] = [await tokensById(before), await tokensById(after)];
      for (const [id, tokens] of was) expect(Buffer.from(now.get(id)!.buffer).equals(Buffer.from(tokens.buffer)), id).toBe(true);
      // The new documents: their tokens as the model gives them, through the index's own codec.
      const searcher = await Searcher.open(added, { log: () => {} });
      try {
        const encoder = await searcher.tokenEncoder();
        let checked = 0;
        for (const shard of after.shards) {
          const passages = await shard.passages.readAll();
          const codec = shard.tokens!.codec;
          for (const [local, p] of passages.entries()) {
            if (was.has(p.id)) continue;
            const [m] = await encoder.encodeDocumentTokens([{ title: p.title, text: p.text }]);
            const enc = codec.encode(m.data);
            const want = codec.decode(enc.codes, enc.residuals);
            const got = shard.tokens!.tokensOf(local).data;
            expect(got.length).toBe(want.length);
            got.forEach((x, i) => expect(Math.abs(x - want[i])).toBeLessThan(1e-5));
            checked++;
          }
        }
        expect(checked).toBe(15);
        // And colbert search finds a new document by its title.
        const newDoc = [...now.keys()].find((id) => !was.has(id))!;
        const titled = (await Promise.all(after.shards.map((s) => s.passages.readAll()))).flat().find((p) => p.id === newDoc)!;
        const [hits] = await searcher.searchHits('colbert', [{ id: 'q', text: titled.title, k: 5 }]);
        expect(hits.map((h) => h.docId)).toContain(newDoc);
      } finally {
        await searcher.close();
      }
    } finally {
      await closeIndex(before);
      await closeIndex(after);
    }
  }, 300_000);

  it('index delete drops the documents and their tokens, copying the kept ones bit for bit', async () => {
    const base = await fixtureIndex({ method: 'colbert', limit: 60 });
    const source = await openIndex(base);
    const all = await tokensById(source);
    await closeIndex(source);
    const victims = [...all.keys()].slice(0, 7);
    const smaller = await newerFixture(base, 'colbert-deleted', { remove: victims });
    const after = await openIndex(smaller);
    try {
      expect((await readIndexManifest(smaller)).counts.docs).toBe(53);
      const now = await tokensById(after);
      expect(now.size).toBe(53);
      for (const id of victims) expect(now.has(id)).toBe(false);
      for (const [id, tokens] of now) expect(Buffer.from(tokens.buffer).equals(Buffer.from(all.get(id)!.buffer)), id).toBe(true);
      expect(after.shards.reduce((n, s) => n + s.tokens!.tokens, 0)).toBe((await readIndexManifest(smaller)).counts.vectors);
    } finally {
      await closeIndex(after);
    }
    const searcher = await Searcher.open(smaller, { log: () => {} });
    try {
      const [hits] = await searcher.searchHits('colbert', [{ id: 'q', text: 'cells', k: 50, params: { candidates: 10000 } }]);
      for (const h of hits) expect(victims).not.toContain(h.docId);
    } finally {
      await searcher.close();
    }
  }, 300_000);
});
