// Phrase retrieval (DensePhrases): per shard, the phrase store's best phrases for the query's start
// and end vectors, their text read from the passage, duplicates of the same text merged (the best
// kept); or their scores aggregated (max) to the sentence, passage or document they lie in. Shards
// merged by score, then the same merge once more over all shards' lists.
//
// With a frozen encoder the phrase vectors know where an answer sits in a passage far better than
// which passage or sentence is relevant (SQuAD, held-out articles: MIPS alone puts the gold passage
// first for 0.7% of questions). So where the shard has BM25 postings and the query has text, the
// `depth` best BM25 passages are read whole too (every phrase scored exactly, as a reader would),
// and phrases are scored with the lexical evidence of phrase/evidence (passage and sentence BM25,
// question words around and inside the phrase) beside the phrase model's start + end.
import { PhraseUnit } from '../../../../shared/protocol/index.ts';
import { meanSentenceLength, PassageEvidence, PassageText, queryTerms, resolveWeights } from '../../phrase/evidence/index.ts';
import type { PhraseStore } from '../../phrase/store/index.ts';
import { splitSentences, type Span } from '../../phrase/text/index.ts';
import type { LoadedShard } from '../../shard/index.ts';
import { passageDocIds, topKInOrder } from '../order.ts';
import type { EncodedQuery, Hit, MethodPlugin, ShardBranch } from '../types.ts';

/** Each shard's list is this many times k, so that k distinct phrases (or documents) remain after merging duplicates across shards. */
export const PHRASE_SHARD_DEPTH = 4;
/** Passages per shard read whole, from BM25 (params.depth). */
export const DEFAULT_PHRASE_READ_DEPTH = 20;
export const DEFAULT_PHRASE_BM25_WEIGHT = 8;

export class NoPhraseStoreError extends Error {
  constructor(dir: string, methods: readonly string[]) {
    super(`${dir} holds no phrase index (it was built for ${methods.join(' + ')}): mode phrase needs an index built with --method phrase`);
    this.name = 'NoPhraseStoreError';
  }
}

function phraseStoreOf(shard: LoadedShard) {
  if (!shard.phrases) throw new NoPhraseStoreError(shard.dir, shard.manifest.methods);
  return shard.phrases;
}

function unitOf(q: Pick<EncodedQuery, 'params'>): PhraseUnit {
  return q.params?.unit ?? 'phrase';
}

/**
 * What makes two hits one result of a unit: a phrase's text, a sentence's or passage's place, a
 * document's title (DensePhrases aggregates passages to their Wikipedia article).
 */
function unitKey(unit: PhraseUnit, h: Hit): string {
  switch (unit) {
    case 'phrase':
    case 'document':
      return h.group!;
    case 'sentence':
      return `${h.shard}\u0000${h.ordinal}\u0000${h.span!.start}`;
    case 'passage':
      return `${h.shard}\u0000${h.ordinal}`;
  }
}

/** The first (best) hit of each key, in order. */
function firstOfEachKey(hits: Hit[], key: (h: Hit) => string): Hit[] {
  const seen = new Set<string>();
  return hits.filter((h) => {
    const k = key(h);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export const phraseMethod: MethodPlugin = {
  name: 'phrase',
  encodings: ['phrase'],
  branches: ['phrase'],
  plan: (q) => [{ branch: 'phrase', k: q.k * PHRASE_SHARD_DEPTH }],
  combine: async (q, lists) => {
    const unit = unitOf(q);
    // Hits of different shards may be one result (the same phrase text, the same document title).
    if (unit !== 'phrase' && unit !== 'document') return (lists.phrase ?? []).slice(0, q.k);
    return firstOfEachKey(lists.phrase ?? [], (h) => unitKey(unit, h)).slice(0, q.k);
  },
};

export const phraseBranch: ShardBranch = {
  name: 'phrase',
  check: (shard) => void phraseStoreOf(shard),
  search: async (shard, shardNo, queries) => {
    const store = phraseStoreOf(shard);
    const docIds = passageDocIds(() => shard.passages);
    for (const q of queries) if (!q.phrase) throw new Error(`query ${q.id}: phrase search needs the query's start and end vectors`);
    return Promise.all(
      queries.map(async (q) => {
        const unit = unitOf(q);
        const found = await phraseCandidates(shard, store, q);
        const hit = (p: FoundPhrase): Hit => {
          const text = p.text;
          let span = { start: p.charStart, end: p.charEnd, text: text.slice(p.charStart, p.charEnd) };
          if (unit === 'sentence') span = { start: p.sentence.start, end: p.sentence.end, text: text.slice(p.sentence.start, p.sentence.end) };
          const group = unit === 'phrase' ? span.text : unit === 'document' ? p.title : undefined;
          return { docId: '', score: p.score, shard: shardNo, ordinal: p.ordinal, ...(unit === 'passage' ? {} : { span }), ...(group !== undefined ? { group } : {}) };
        };
        // Candidates come best first (ties: lower ordinal, earlier): the first of each key is its
        // max. Hits are made until k distinct keys are seen and the score drops below the k-th
        // (equal scores stay for topKInOrder's tie order).
        const unique: Hit[] = [];
        const seen = new Set<string>();
        for (const p of found) {
          if (unique.length >= q.k && p.score < unique[q.k - 1].score) break;
          const h = hit(p);
          const key = unitKey(unit, h);
          if (seen.has(key)) continue;
          seen.add(key);
          unique.push(h);
        }
        return topKInOrder(unique, q.k, docIds);
      }),
    );
  },
};

/** A scored phrase with what its hit shows: its passage's text and title, the sentence it starts in. */
interface FoundPhrase {
  ordinal: number;
  charStart: number;
  charEnd: number;
  score: number;
  sentence: Span;
  text: string;
  title: string;
}

/** Best first; ties: lower ordinal, earlier, shorter (comparePhrases' order). */
function compareFound(a: FoundPhrase, b: FoundPhrase): number {
  return b.score - a.score || a.ordinal - b.ordinal || a.charStart - b.charStart || a.charEnd - b.charEnd;
}

/**
 * The shard's scored phrases for one query, best first. With BM25 postings and query text: every
 * phrase of the passages read whole (the `depth` best BM25 passages and those of the start index's
 * best starts), scored with the evidence weights (phrase/evidence). Otherwise the start index's
 * best starts, scored by the phrase model alone.
 */
async function phraseCandidates(shard: LoadedShard, store: PhraseStore, q: EncodedQuery): Promise<FoundPhrase[]> {
  const [mips] = await store.search([q.phrase!], { starts: q.params?.candidates, nprobe: q.params?.nprobe, efSearch: q.params?.efSearch });
  const bm25 = shard.bm25;
  if (!bm25 || bm25.docCount === 0 || !q.text.trim()) {
    const passages = new Map<number, { title: string; text: string; sentences: Span[] }>();
    const out: FoundPhrase[] = [];
    for (const p of mips) {
      let passage = passages.get(p.ordinal);
      if (!passage) {
        const { title, text } = await shard.passages.get(p.ordinal);
        passages.set(p.ordinal, (passage = { title, text, sentences: splitSentences(text) }));
      }
      const sentence = passage.sentences.find((x) => x.start <= p.charStart && p.charStart < x.end) ?? { start: 0, end: passage.text.length };
      out.push({ ordinal: p.ordinal, charStart: p.charStart, charEnd: p.charEnd, score: p.score, sentence, text: passage.text, title: passage.title });
    }
    return out;
  }
  const depth = q.params?.depth ?? DEFAULT_PHRASE_READ_DEPTH;
  const { ordinals } = bm25.search(q.text, Math.min(depth, bm25.docCount), { k1: q.params?.k1, b: q.params?.b });
  // The passages of the model's k best starts are read too, so a phrase the model is sure of
  // competes with all its evidence even when BM25 missed its passage.
  const read = [...new Set([...ordinals, ...mips.slice(0, q.k).map((p) => p.ordinal)])];
  const found = await readPassages(shard, store, q, read);
  return found.sort(compareFound);
}

/**
 * Every start's best phrase in each of the passages `ordinals`, read whole with the evidence of
 * phrase/evidence under the query's weights (the unit's defaults where it gives none). The shard
 * must have BM25 postings (their IDF scores sentences and passages).
 */
export async function readPassages(shard: LoadedShard, store: PhraseStore, q: EncodedQuery, ordinals: readonly number[]): Promise<FoundPhrase[]> {
  const bm25 = shard.bm25!;
  const terms = queryTerms(q.text, bm25, { k1: q.params?.k1, b: q.params?.b });
  const weights = resolveWeights(unitOf(q), q.params?.weights);
  const sentenceLength = meanSentenceLength(bm25.termStats().avgDocLength, await sentencesPerPassage(shard));
  const out: FoundPhrase[] = [];
  for (const o of ordinals) {
    const passage = await passageText(shard, o);
    const evidence = new PassageEvidence(o, store.passageTokens(q.phrase!, o), passage, terms, sentenceLength);
    for (const p of evidence.bestPhrases(weights)) out.push({ ordinal: o, charStart: p.charStart, charEnd: p.charEnd, score: p.score, sentence: p.sentence, text: passage.text, title: passage.title });
  }
  return out;
}

/** Analysed passages kept per shard (query-independent; a popular passage is read by many queries). */
const PASSAGE_TEXT_CACHE = 8192;
const passageTexts = new WeakMap<LoadedShard, Map<number, Promise<PassageText>>>();

/** The shard's passage `ordinal`, analysed (PassageText), from a small LRU. */
export function passageText(shard: LoadedShard, ordinal: number): Promise<PassageText> {
  let cache = passageTexts.get(shard);
  if (!cache) passageTexts.set(shard, (cache = new Map()));
  let p = cache.get(ordinal);
  if (p) {
    cache.delete(ordinal);
    cache.set(ordinal, p);
    return p;
  }
  p = shard.passages.get(ordinal).then(({ title, text }) => new PassageText(title, text));
  // A failed read is not kept.
  p.catch(() => cache.delete(ordinal));
  cache.set(ordinal, p);
  if (cache.size > PASSAGE_TEXT_CACHE) cache.delete(cache.keys().next().value!);
  return p;
}

const SENTENCE_SAMPLE = 1000;
const sentenceCounts = new WeakMap<LoadedShard, Promise<number>>();

/** Mean sentences per passage of the shard, from up to 1,000 evenly spaced passages (computed once per shard). */
export function sentencesPerPassage(shard: LoadedShard): Promise<number> {
  let p = sentenceCounts.get(shard);
  if (!p) {
    p = (async () => {
      const n = shard.passages.size;
      const step = Math.max(1, n / SENTENCE_SAMPLE);
      let sentences = 0;
      let passages = 0;
      for (let x = 0; x < n; x += step) {
        sentences += splitSentences((await shard.passages.get(Math.floor(x))).text).length;
        passages++;
      }
      return passages > 0 ? sentences / passages : 1;
    })();
    sentenceCounts.set(shard, p);
  }
  return p;
}
