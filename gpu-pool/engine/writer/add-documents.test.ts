import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCorpus } from '../corpus/index.ts';
import { optimizeIndex } from '../optimize/index.ts';
import { Searcher } from '../search/index.ts';
import { readIndexManifest, readShardManifest, TARGETS_FILE } from '../shard/index.ts';
import { SCIFACT_DIR, scifactTestQueries } from '../../../test/fixtures.ts';
import { fixtureIndex } from '../../../test/index-fixture.ts';
import { addDocuments } from './index.ts';

const quiet = { log: () => {} };
let base: string;
let full: string;
let added: string;
let work: string;
let corpus: string;

beforeAll(async () => {
  // The index of SciFact's first 200 documents plus documents 200-229 added, against a build of the first 230.
  [base, full] = await Promise.all([fixtureIndex({ limit: 200, keepVectors: true }), fixtureIndex({ limit: 230, keepVectors: true })]);
  work = await mkdtemp(join(tmpdir(), 'es-add-'));
  const lines: string[] = [];
  let n = 0;
  for await (const doc of readCorpus(SCIFACT_DIR, 'beir')) {
    if (n++ < 200) continue;
    lines.push(JSON.stringify({ _id: doc.id, title: doc.title, text: doc.text }));
    if (n === 230) break;
  }
  corpus = join(work, 'new.jsonl');
  await writeFile(corpus, `${lines.join('\n')}\n`);
  added = join(work, 'added');
  await addDocuments({ index: base, corpus, out: added }, quiet);
}, 180_000);

const f32 = async (path: string) => new Float32Array(new Uint8Array(await readFile(path)).buffer);

describe('index add', () => {
  it('answers like a full build of the same documents (dense and BM25 top-10)', async () => {
    const [a, b] = [await readIndexManifest(added), await readIndexManifest(full)];
    expect(a.counts).toEqual(b.counts);
    expect(a.shards.map((s) => [s.docs, s.vectors])).toEqual(b.shards.map((s) => [s.docs, s.vectors]));
    const queries = await scifactTestQueries(20);
    const [sa, sb] = [await Searcher.open(added), await Searcher.open(full)];
    try {
      for (const mode of ['dense', 'bm25'] as const) {
        const batch = queries.map((q) => ({ id: q.id, text: q.text, k: 10 }));
        const [ra, rb] = [await sa.searchHits(mode, batch), await sb.searchHits(mode, batch)];
        ra.forEach((hits, i) => {
          expect(hits.map((h) => h.docId), `${mode} ${queries[i].id}`).toEqual(rb[i].map((h) => h.docId));
          hits.forEach((h, j) => expect(h.score).toBeCloseTo(rb[i][j].score, 4));
        });
      }
    } finally {
      await sa.close();
      await sb.close();
    }
  });

  it('leaves the source as it was and marks the new vectors', async () => {
    const source = await readIndexManifest(base);
    expect(source.counts.docs).toBe(200);
    for (const entry of (await readIndexManifest(added)).shards) {
      const [now, before] = [await readShardManifest(join(added, entry.dir)), await readShardManifest(join(base, entry.dir))];
      expect(now.addedFrom).toBe(before.counts.vectors);
    }
  });

  it('refuses documents that are already in the index, naming them', async () => {
    await expect(addDocuments({ index: added, corpus, out: join(work, 'again') }, quiet)).rejects.toThrow(/30 document ids are already in the index \(e\.g\. "\d+"/);
  });

  it('index optimize --added-only moves only the added vectors', async () => {
    const out = join(work, 'optimized');
    const result = await optimizeIndex(
      { index: added, queries: join(SCIFACT_DIR, 'queries.train.jsonl'), qrels: join(SCIFACT_DIR, 'qrels', 'train.tsv'), out, unknown: 'skip', addedOnly: true, epochs: 1, lr: 0.03, negatives: 200, validFraction: 0 },
      quiet,
    );
    expect(result.changedRows).toBeGreaterThan(0);
    let movedAdded = 0;
    for (const entry of (await readIndexManifest(out)).shards) {
      const from = (await readShardManifest(join(added, entry.dir))).addedFrom!;
      expect((await readShardManifest(join(out, entry.dir))).addedFrom).toBeUndefined();
      const [before, after] = [await f32(join(added, entry.dir, TARGETS_FILE)), await f32(join(out, entry.dir, TARGETS_FILE))];
      const d = before.length / (await readShardManifest(join(added, entry.dir))).counts.vectors;
      expect(Buffer.from(after.buffer, 0, from * d * 4).equals(Buffer.from(before.buffer, 0, from * d * 4))).toBe(true);
      for (let r = from; r < before.length / d; r++) if (after.subarray(r * d, (r + 1) * d).some((x, i) => x !== before[r * d + i])) movedAdded++;
    }
    expect(movedAdded).toBe(result.changedRows);
  });
});
