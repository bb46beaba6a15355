// Phrase search on the command line, independent of model quality: an index built from phrase
// vectors the test constructs (3 shards), queried with --phrase-vectors; every query must get
// exactly its span, with the right character offsets, and the coarser units must follow.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { runCli } from '../../test/cli.ts';
import { fixtureIndex, USE_LITE_TOKENS_MODEL } from '../../test/index-fixture.ts';
import { constructedPhraseIndex, PHRASE_DIM, type ConstructedPhraseIndex } from '../../test/phrase-index-fixture.ts';
import { rng, spanQuery } from '../engine/phrase/store/test-helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'es-phrase-cli-'));
let built: ConstructedPhraseIndex;
beforeAll(async () => {
  built = await constructedPhraseIndex(join(work, 'constructed'), 30, 3);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function search(q: { start: Float32Array; end: Float32Array }, ...args: string[]) {
  const file = join(work, `q-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ start: Array.from(q.start), end: Array.from(q.end) }));
  const r = await runCli(['search', '--index', built.dir, '--mode', 'phrase', '--phrase-vectors', file, '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { hits: { docId: string; score: number; title: string; text: string; span?: { start: number; end: number; text: string } }[] };
}

/** A search with query text (for BM25) and given phrase vectors, on another index. */
async function searchText(index: string, text: string, q: { start: Float32Array; end: Float32Array }, ...args: string[]) {
  const file = join(work, `q-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ start: Array.from(q.start), end: Array.from(q.end) }));
  const r = await runCli(['search', text, '--index', index, '--mode', 'phrase', '--phrase-vectors', file, '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { hits: { docId: string; score: number; title: string; text: string; span?: { start: number; end: number; text: string } }[] };
}

describe('edgesearch search --mode phrase on a constructed phrase index', () => {
  it('answers every query with exactly its span and character offsets, over 3 shards', { timeout: 120_000 }, async () => {
    const r = rng(21);
    for (let n = 0; n < 8; n++) {
      const p = Math.floor(r() * built.passages.length);
      const words = built.passages[p].text.split(' ');
      const i = Math.floor(r() * words.length);
      const j = Math.min(words.length - 1, i + Math.floor(r() * 4));
      const { hits } = await search(spanQuery(built.passages[p], i, j, PHRASE_DIM), '--k', '5');
      const want = words.slice(i, j + 1).join(' ');
      const top = hits[0];
      expect(top.text).toBe(built.passages[p].text);
      expect(top.title).toBe(built.titles[p]);
      expect(top.span!.text).toBe(want);
      expect(top.text.slice(top.span!.start, top.span!.end)).toBe(want);
      expect(top.span!.start).toBe(words.slice(0, i).join(' ').length + (i > 0 ? 1 : 0));
      // Duplicates of one phrase text are merged: the phrases returned are distinct.
      expect(new Set(hits.map((h) => h.span!.text)).size).toBe(hits.length);
    }
  });

  it('aggregates to sentences, passages and documents (max over their phrases)', { timeout: 60_000 }, async () => {
    const p = 7;
    const q = spanQuery(built.passages[p], 1, 2, PHRASE_DIM);
    const phrase = await search(q, '--k', '3');
    const passage = await search(q, '--unit', 'passage', '--k', '3');
    const document = await search(q, '--unit', 'document', '--k', '3');
    const sentence = await search(q, '--unit', 'sentence', '--k', '3');
    expect(passage.hits[0].score).toBeCloseTo(phrase.hits[0].score, 6);
    expect(passage.hits[0].text).toBe(built.passages[p].text);
    expect(passage.hits[0].span).toBeUndefined();
    expect(new Set(passage.hits.map((h) => `${h.docId}`)).size).toBe(passage.hits.length);
    expect(document.hits[0].title).toBe(built.titles[p]);
    expect(new Set(document.hits.map((h) => h.title)).size).toBe(document.hits.length);
    // A constructed passage is one sentence (no full stops): the sentence is the whole text.
    expect(sentence.hits[0].span).toEqual({ start: 0, end: built.passages[p].text.length, text: built.passages[p].text });
  });

  it('refuses bad phrase vectors with the file and field, and --phrase-vectors outside mode phrase', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ start: [1, 2] }));
    const r = await runCli(['search', '--index', built.dir, '--mode', 'phrase', '--phrase-vectors', bad]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--phrase-vectors .*bad\.json: field end: /);
    const r2 = await runCli(['search', 'x', '--index', built.dir, '--mode', 'bm25', '--phrase-vectors', bad]);
    expect(r2.code).not.toBe(0);
  });

  it('refuses a model without phrase heads (nothing written), an index without a phrase store, and an unknown unit', { timeout: 120_000 }, async () => {
    const out = join(work, 'no-heads');
    const r = await runCli(['index', 'build', '--corpus', join(work, 'constructed', 'corpus.json'), '--format', 'squad', '--model', USE_LITE_TOKENS_MODEL, '--method', 'phrase', '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/has no phrase block: phrase retrieval needs a model made by `edgesearch phrase train`/);
    expect(existsSync(out)).toBe(false);
    const dense = await fixtureIndex({ limit: 40 });
    const r2 = await runCli(['search', 'vitamin d', '--index', dense, '--mode', 'phrase']);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/shard-000 holds no phrase index \(it was built for dense \+ bm25\): mode phrase needs an index built with --method phrase/);
    const r3 = await runCli(['search', 'x', '--index', built.dir, '--mode', 'phrase', '--unit', 'paragraph']);
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toMatch(/--unit.*paragraph.*phrase, sentence, passage, document/s);
  });

  it('reads the best BM25 passages whole and adds w_bm25 × their BM25 score to the phrase score', { timeout: 120_000 }, async () => {
    const lexical = await constructedPhraseIndex(join(work, 'with-bm25'), 30, 3, 11, { bm25: true });
    const p = lexical.passages[4];
    const words = p.text.split(' ');
    const text = words.slice(0, 3).join(' ');
    const q = spanQuery(p, 1, 2, PHRASE_DIM);
    const bm25 = await runCli(['search', text, '--index', lexical.dir, '--mode', 'bm25', '--k', '20', '--json']);
    expect(bm25.code, bm25.stderr).toBe(0);
    const passageScore = new Map((JSON.parse(bm25.stdout).hits as { docId: string; score: number }[]).map((h) => [h.docId, h.score]));
    // One start from the index: every other phrase comes from reading the BM25 passages.
    // Only the passage's BM25 beside the phrase score (the other evidence weighs 0 here; phrase/evidence tests it).
    const only = ['--sentence-weight', '0', '--context-weight', '0', '--overlap-weight', '0'];
    const fused = await searchText(lexical.dir, text, q, '--k', '5', '--candidates', '1', '--bm25-weight', '8', ...only);
    const reader = await searchText(lexical.dir, text, q, '--k', '200', '--candidates', '1', '--bm25-weight', '0', ...only);
    expect(fused.hits.length).toBe(5);
    expect(passageScore.has(fused.hits[0].docId)).toBe(true);
    for (const h of fused.hits) {
      const same = reader.hits.find((x) => x.docId === h.docId && x.span!.start === h.span!.start);
      expect(same, `${h.docId} ${h.span!.text}`).toBeDefined();
      expect(h.score - same!.score).toBeCloseTo(8 * (passageScore.get(h.docId) ?? 0), 3);
    }
    // Without query text (vectors only) nothing is read: each of the 3 shards' one start from its index.
    const vectorsOnly = await searchText(lexical.dir, ' ', q, '--k', '5', '--candidates', '1');
    expect(vectorsOnly.hits).toHaveLength(3);
    expect(vectorsOnly.hits[0].span!.text).toBe(words.slice(1, 3).join(' '));
  });
});
