import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FaissIndex } from '../../index/index.ts';
import { PhraseStore, PhraseStoreError, PhraseStoreWriter } from './index.ts';
import { constructedCorpus, constructedPassage, rng, spanQuery } from './test-helpers.ts';

const d = 32;
const tmp = mkdtempSync(join(tmpdir(), 'es-phrase-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function write(dir: string, passages: ReturnType<typeof constructedCorpus>, opts: { maxPhraseTokens?: number; filterThreshold?: number } = {}) {
  mkdirSync(dir, { recursive: true });
  const w = new PhraseStoreWriter(dir, { dimension: d, maxPhraseTokens: opts.maxPhraseTokens ?? 20, startIndex: FaissIndex.create(d, 'Flat', 'ip'), factoryKey: 'Flat', filterThreshold: opts.filterThreshold });
  for (const p of passages) w.add(p);
  return w.finish();
}

describe('phrase store', () => {
  const corpus = constructedCorpus(40, d, 3);
  const dir = join(tmp, 'store');

  it('finds exactly the span each constructed query stands for, with its character offsets', async () => {
    await write(dir, corpus);
    const store = await PhraseStore.open(dir);
    try {
      expect(store.docs).toBe(40);
      expect(store.tokens).toBe(corpus.reduce((n, p) => n + p.tokens, 0));
      // Each passage's rows, in order and back to back; every constructed word may start a phrase.
      let at = 0;
      corpus.forEach((p, j) => {
        expect(store.passageRows(j)).toEqual([at, at + p.tokens]);
        for (let r = at; r < at + p.tokens; r++) expect(store.ordinalOfRow(r)).toBe(j);
        expect(store.canStart(at)).toBe(true);
        at += p.tokens;
      });
      expect(() => store.passageRows(40)).toThrow(/passage 40 is out of range \(40 passages\)/);
      const r = rng(9);
      const want: { p: number; i: number; j: number }[] = [];
      for (let q = 0; q < 60; q++) {
        const p = Math.floor(r() * corpus.length);
        const i = Math.floor(r() * corpus[p].tokens);
        const j = i + Math.floor(r() * (corpus[p].tokens - i));
        want.push({ p, i, j });
      }
      const got = await store.search(want.map(({ p, i, j }) => spanQuery(corpus[p], i, j, d)), { starts: 10 });
      want.forEach(({ p, i, j }, q) => {
        const top = got[q][0];
        const words = corpus[p].text.split(' ');
        expect(top.ordinal).toBe(p);
        expect(corpus[p].text.slice(top.charStart, top.charEnd)).toBe(words.slice(i, j + 1).join(' '));
        expect(top.score).toBeCloseTo(top.startScore + top.endScore, 5);
        // Int8 rows: the exact score of a unit start and end scaled by 10 is 20 within the quantization error.
        expect(Math.abs(top.score - 20)).toBeLessThan(0.2);
        for (let k = 1; k < got[q].length; k++) expect(got[q][k].score).toBeLessThanOrEqual(got[q][k - 1].score);
      });
    } finally {
      await store.close();
    }
  });

  it('never scores a phrase longer than maxPhraseTokens, nor one crossing into the next passage', async () => {
    const r = rng(5);
    const a = constructedPassage(['one', 'two', 'three', 'four', 'five', 'six'], d, r);
    const b = constructedPassage(['seven', 'eight'], d, r);
    const dir2 = join(tmp, 'short');
    await write(dir2, [a, b], { maxPhraseTokens: 3 });
    const store = await PhraseStore.open(dir2);
    try {
      // Asking for one..five (5 tokens): the best allowed end from "one" is within one..three.
      const [[top]] = await store.search([spanQuery(a, 0, 4, d)], { starts: 1 });
      expect(top.startRow).toBe(0);
      expect(top.endRow).toBeLessThanOrEqual(2);
      // Asking for six..seven: "six" may only end at "six".
      const [hits] = await store.search([{ start: spanQuery(a, 5, 5, d).start, end: spanQuery(b, 0, 0, d).end }], { starts: 8 });
      const six = hits.find((h) => h.startRow === 5)!;
      expect([six.ordinal, six.endRow, a.text.slice(six.charStart, six.charEnd)]).toEqual([0, 5, 'six']);
    } finally {
      await store.close();
    }
  });

  it('leaves starts below the filter threshold out of the index', async () => {
    const r = rng(6);
    const p = constructedPassage(['red', 'green', 'blue', 'cyan'], d, r);
    const dir3 = join(tmp, 'filtered');
    await write(dir3, [{ ...p, filter: Float32Array.from([0.9, 0.1, 0.8, 0.2]) }], { filterThreshold: 0.5 });
    const store = await PhraseStore.open(dir3);
    try {
      expect(store.meta.startable).toBe(2);
      expect(store.meta.filterThreshold).toBe(0.5);
      const [hits] = await store.search([spanQuery(p, 1, 2, d)], { starts: 10 });
      expect(hits.map((h) => h.startRow).sort()).toEqual([0, 2]);
    } finally {
      await store.close();
    }
  });

  it('refuses a truncated file or a meta file that disagrees, naming the file', async () => {
    const dir4 = join(tmp, 'broken');
    await write(dir4, corpus.slice(0, 3));
    truncateSync(join(dir4, 'phrase-ends.i8'), 10);
    await expect(PhraseStore.open(dir4)).rejects.toThrow(PhraseStoreError);
    await expect(PhraseStore.open(dir4)).rejects.toThrow(/phrase-ends\.i8: size 10 bytes, phrase\.json implies \d+ .*: truncated/);
    writeFileSync(join(dir4, 'phrase.json'), '{"format":"edgesearch-phrase-store"}');
    await expect(PhraseStore.open(dir4)).rejects.toThrow(/phrase\.json: field formatVersion/);
  });
});
