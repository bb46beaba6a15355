// The behaviour every retrieval method must have, run against each implementation
// (in the manner of Hono's common.case.test.ts for routers).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Passage } from '../shard/index.ts';
import type { Hit, MethodQuery, RetrievalMethod } from './types.ts';

export interface ContractFixture {
  method: RetrievalMethod;
  /** Resolves a hit to its stored passage. */
  passage(hit: Hit): Promise<Passage>;
  /** Documents known to be in the index, to query for. */
  sample: Passage[];
  shardCount: number;
  docsPerShard: number[];
}

const QUERIES = ['vitamin D and bone health', 'cancer cells immune response', 'gene expression in mice', 'randomized trial of aspirin'];

export function runMethodContract(name: string, setup: () => Promise<ContractFixture>): void {
  describe(`retrieval method contract: ${name}`, () => {
    let f: ContractFixture;
    beforeAll(async () => {
      f = await setup();
    });
    const q = (text: string, k = 10, id = text): MethodQuery => ({ id, text, k });

    it('answers an empty batch with an empty list', async () => {
      expect(await f.method.search([])).toEqual([]);
    });

    it('returns one list per query, at most k hits, best first, no document twice', async () => {
      const results = await f.method.search(QUERIES.map((t, i) => q(t, 5 + i)));
      expect(results).toHaveLength(QUERIES.length);
      results.forEach((hits, i) => {
        expect(hits.length).toBeGreaterThan(0);
        expect(hits.length).toBeLessThanOrEqual(5 + i);
        for (let j = 1; j < hits.length; j++) expect(hits[j - 1].score).toBeGreaterThanOrEqual(hits[j].score);
        const keys = hits.map((h) => `${h.shard}:${h.ordinal}`);
        expect(new Set(keys).size).toBe(keys.length);
      });
    });

    it('points every hit at a stored passage of a real shard', async () => {
      const [hits] = await f.method.search([q(QUERIES[0], 20)]);
      for (const hit of hits) {
        expect(hit.shard).toBeGreaterThanOrEqual(0);
        expect(hit.shard).toBeLessThan(f.shardCount);
        expect(hit.ordinal).toBeLessThan(f.docsPerShard[hit.shard]);
        expect((await f.passage(hit)).id).toBeTruthy();
      }
    });

    it('gives the same answer for a query alone or in a batch, and on repeat', async () => {
      const batch = await f.method.search(QUERIES.map((t) => q(t)));
      for (const [i, text] of QUERIES.entries()) {
        const [alone] = await f.method.search([q(text)]);
        expect(alone.map((h) => `${h.shard}:${h.ordinal}`)).toEqual(batch[i].map((h) => `${h.shard}:${h.ordinal}`));
        alone.forEach((h, j) => expect(h.score).toBeCloseTo(batch[i][j].score, 4));
      }
    });

    it('returns a prefix of the deeper ranking for a smaller k', async () => {
      const [deep] = await f.method.search([q(QUERIES[1], 20)]);
      const [shallow] = await f.method.search([q(QUERIES[1], 3)]);
      expect(shallow.map((h) => h.score)).toEqual(deep.slice(0, 3).map((h) => h.score));
    });

    it('finds a document when asked for its own title', async () => {
      const sample = f.sample.filter((p) => p.title.split(/\s+/).length >= 4).slice(0, 10);
      const results = await f.method.search(sample.map((p, i) => q(p.title, 10, String(i))));
      let found = 0;
      for (const [i, hits] of results.entries()) {
        const ids = await Promise.all(hits.map(async (h) => (await f.passage(h)).id));
        if (ids.includes(sample[i].id)) found++;
      }
      expect(found).toBeGreaterThanOrEqual(Math.ceil(sample.length * 0.8));
    });
  });
}
