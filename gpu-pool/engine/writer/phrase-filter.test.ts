// The phrase build path with a filter threshold, on phrase vectors built by hand (store/
// test-helpers.ts: the query for span (i, j) finds exactly that span when its start is indexed):
// rows carrying the filter's start likelihood, assembled and written as `index build --method
// phrase --filter-threshold` does. Starts below the threshold are never returned, kept ones are.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhraseStore } from '../phrase/store/index.ts';
import { constructedCorpus, rng, spanQuery } from '../phrase/store/test-helpers.ts';
import { createStaging, publishDirectory } from '../shard/index.ts';
import { assembleShards } from './assemble.ts';
import { packPhraseRows, phraseRowWidth, unpackPhraseRows } from './phrase-rows.ts';

const d = 16;
const THRESHOLD = 0.5;
let work: string;
const passages = constructedCorpus(24, d, 5).map((p, i) => {
  const r = rng(100 + i);
  return { ...p, filter: Float32Array.from({ length: p.tokens }, () => r()) };
});
const tokens = passages.reduce((n, p) => n + p.tokens, 0);
const kept = passages.reduce((n, p) => n + p.filter.filter((x) => x >= THRESHOLD).length, 0);

async function build(name: string, phrase: { filter?: boolean; filterThreshold?: number }, logs: string[]): Promise<string> {
  const corpus = join(work, 'corpus.json');
  const articles = Array.from({ length: passages.length / 3 }, (_, a) => ({ title: `Article ${a}`, paragraphs: passages.slice(3 * a, 3 * a + 3).map((p) => ({ context: p.text })) }));
  await writeFile(corpus, JSON.stringify({ data: articles }));
  const w = phraseRowWidth(d, phrase.filter);
  const vectors = new Float32Array(tokens * w);
  const windowDocs = new Uint32Array(tokens);
  let at = 0;
  passages.forEach((p, i) => {
    vectors.set(packPhraseRows(p, d, phrase.filter), at * w);
    windowDocs.fill(i, at, at + p.tokens);
    at += p.tokens;
  });
  const dir = join(work, name);
  const staging = await createStaging(dir);
  await assembleShards({
    method: 'phrase',
    phrase: { dimension: d, maxPhraseTokens: 20, ...phrase },
    corpus,
    format: 'squad',
    encoded: { dimension: w, vectors, windowDocs },
    model: { id: 'constructed', manifestHash: '0'.repeat(64), dimension: d, path: '' },
    factoryKey: 'Flat',
    metric: 'ip',
    shards: 1,
    bm25: false,
    trainSize: 100_000,
    staging,
    build: { constructed: true },
    progress: false,
    log: (m) => logs.push(m),
  });
  await publishDirectory(staging, dir);
  return join(dir, 'shard-000');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-phrase-filter-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('phrase rows with a filter column', () => {
  it('round-trip the start likelihood, and are refused without one', () => {
    const p = passages[0];
    const rows = packPhraseRows(p, d, true);
    expect(rows.length).toBe(p.tokens * (2 * d + 4));
    const back = unpackPhraseRows(rows, p.tokens, d, true);
    expect(Array.from(back.filter!)).toEqual(Array.from(p.filter));
    expect(Array.from(back.starts)).toEqual(Array.from(p.starts));
    expect(unpackPhraseRows(packPhraseRows(p, d), p.tokens, d).filter).toBeUndefined();
    expect(() => packPhraseRows({ ...p, filter: undefined }, d, true)).toThrow(/no filter scores for its \d+ tokens/);
  });
});

describe('phrase build with a filter threshold', () => {
  it('indexes only the starts at or above the threshold, records it, and reports what the store costs', async () => {
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(tokens);
    const logs: string[] = [];
    const shard = await build('filtered', { filter: true, filterThreshold: THRESHOLD }, logs);
    const all: string[] = [];
    const unfiltered = await build('unfiltered', { filter: true }, all);
    const text = logs.join('\n');
    expect(text).toContain(`phrase index: ${kept} phrase starts (start likelihood ≥ ${THRESHOLD}) of ${tokens} tokens a phrase may start at`);
    expect(text).toMatch(new RegExp(`phrase store: ${kept} phrases indexed \\(filter threshold ${THRESHOLD}\\) of ${tokens} tokens a phrase may start at \\(\\d+\\.\\d%\\); \\d+ bytes \\(\\d+\\.\\d MiB\\), \\d+\\.\\d bytes per phrase; start index \\d+ bytes`));
    expect(all.join('\n')).toContain(`phrase index: ${tokens} phrase starts of ${tokens} tokens`);
    const store = await PhraseStore.open(shard);
    const full = await PhraseStore.open(unfiltered);
    try {
      expect(store.meta.startable).toBe(kept);
      expect(store.meta.filterThreshold).toBe(THRESHOLD);
      expect(full.meta.startable).toBe(tokens);
      expect(full.meta.filterThreshold).toBeUndefined();
      let row = 0;
      let checked = 0;
      for (const p of passages) {
        for (let i = 0; i < p.tokens; i++) {
          const j = Math.min(p.tokens - 1, i + 1);
          const [hits] = await store.search([spanQuery(p, i, j, d)], { starts: 10 });
          expect(store.canStart(row + i)).toBe(p.filter[i] >= THRESHOLD);
          if (p.filter[i] >= THRESHOLD) {
            // Kept: its span is the best phrase, as without a filter.
            expect([hits[0].startRow, hits[0].endRow]).toEqual([row + i, row + j]);
            checked++;
          } else {
            // Filtered out: no phrase starting there comes back, though it may still end a phrase.
            expect(hits.some((h) => h.startRow === row + i)).toBe(false);
            const [h] = await full.search([spanQuery(p, i, j, d)], { starts: 10 });
            expect([h[0].startRow, h[0].endRow]).toEqual([row + i, row + j]);
          }
          // No start returned anywhere is below the threshold.
          for (const h of hits) {
            const owner = store.ordinalOfRow(h.startRow);
            expect(passages[owner].filter[h.startRow - store.passageRows(owner)[0]]).toBeGreaterThanOrEqual(THRESHOLD);
          }
        }
        row += p.tokens;
      }
      expect(checked).toBe(kept);
    } finally {
      await store.close();
      await full.close();
    }
  });

  it('refuses a threshold when the rows carry no filter scores', async () => {
    await expect(build('no-filter-rows', { filterThreshold: 0.3 }, [])).rejects.toThrow(/a phrase filter threshold needs rows that carry the filter scores/);
  });
});
