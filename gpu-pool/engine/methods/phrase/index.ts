// Phrase retrieval (DensePhrases): per shard, the phrase store's best phrases for the query's start
// and end vectors, their text read from the passage, duplicates of the same text merged (the best
// kept); or their scores aggregated (max) to the sentence, passage or document they lie in. Shards
// merged by score, then the same merge once more over all shards' lists.
//
// With a frozen encoder the phrase vectors know where an answer sits in a passage far better than
// which passage is relevant (SQuAD, held-out articles: MIPS alone puts the gold passage first for
// 0.7% of questions). So where the shard has BM25 postings and the query has text, the `depth`
// best BM25 passages are read whole too (every phrase scored exactly, as a reader would), and a
// phrase's score is w_dense · (start + end) + w_bm25 · (its passage's BM25 score, 0 outside the
// shard's top depth): EM@1 0.075 instead of 0.005 on those questions.
import { PhraseUnit } from '../../../../shared/protocol/index.ts';
import { splitSentences } from '../../phrase/text/index.ts';
import { comparePhrases, type PhraseCandidate, type PhraseStore } from '../../phrase/store/index.ts';
import type { LoadedShard } from '../../shard/index.ts';
import { passageDocIds, topKInOrder } from '../order.ts';
import type { EncodedQuery, Hit, MethodPlugin, ShardBranch } from '../types.ts';

/** Each shard's list is this many times k, so that k distinct phrases (or documents) remain after merging duplicates across shards. */
export const PHRASE_SHARD_DEPTH = 4;
/** Passages per shard read whole, from BM25 (params.depth). */
export const DEFAULT_PHRASE_READ_DEPTH = 20;
/** Weight of the BM25 evidence (params.weights.bm25), the best of 0..8 on SQuAD dev articles 20-23 (validation, never the test articles 24-47); the phrase score's is 1 (params.weights.dense). */
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
        const found = await phraseCandidates(shard, store, q);
        const unit = unitOf(q);
        // Each passage read (and, for unit sentence, split) once, however many of its phrases were found.
        const passages = new Map<number, { title: string; text: string; sentences?: { start: number; end: number }[] }>();
        for (const p of found) {
          if (passages.has(p.ordinal)) continue;
          const { title, text } = await shard.passages.get(p.ordinal);
          passages.set(p.ordinal, { title, text, ...(unit === 'sentence' ? { sentences: splitSentences(text) } : {}) });
        }
        const hits = found.map((p): Hit => {
          const { text, title, sentences } = passages.get(p.ordinal)!;
          let span = { start: p.charStart, end: p.charEnd, text: text.slice(p.charStart, p.charEnd) };
          if (sentences) {
            const s = sentences.find((x) => x.start <= p.charStart && p.charStart < x.end) ?? { start: 0, end: text.length };
            span = { start: s.start, end: s.end, text: text.slice(s.start, s.end) };
          }
          const group = unit === 'phrase' ? span.text : unit === 'document' ? title : undefined;
          return { docId: '', score: p.score, shard: shardNo, ordinal: p.ordinal, ...(unit === 'passage' ? {} : { span }), ...(group !== undefined ? { group } : {}) };
        });
        // Candidates come best first (ties: lower ordinal, earlier): the first of each key is its max.
        const unique = firstOfEachKey(hits, (h) => unitKey(unit, h));
        return topKInOrder(unique, q.k, docIds);
      }),
    );
  },
};

/**
 * The shard's scored phrases for one query, best first: the start index's best starts, and with
 * BM25 and query text every phrase of the `depth` best BM25 passages; fused as the header says.
 */
async function phraseCandidates(shard: LoadedShard, store: PhraseStore, q: EncodedQuery): Promise<PhraseCandidate[]> {
  const [mips] = await store.search([q.phrase!], { starts: q.params?.candidates, nprobe: q.params?.nprobe, efSearch: q.params?.efSearch });
  const depth = q.params?.depth ?? DEFAULT_PHRASE_READ_DEPTH;
  if (!shard.bm25 || shard.bm25.docCount === 0 || !q.text.trim()) return mips;
  const wDense = q.params?.weights?.dense ?? 1;
  const wBm25 = q.params?.weights?.bm25 ?? DEFAULT_PHRASE_BM25_WEIGHT;
  const { ordinals, scores } = shard.bm25.search(q.text, Math.min(depth, shard.bm25.docCount), { k1: q.params?.k1, b: q.params?.b });
  const bm25 = new Map<number, number>();
  ordinals.forEach((o, i) => bm25.set(o, scores[i]));
  const byStart = new Map<number, PhraseCandidate>();
  const fused = (p: PhraseCandidate): PhraseCandidate => ({ ...p, score: wDense * (p.startScore + p.endScore) + wBm25 * (bm25.get(p.ordinal) ?? 0) });
  for (const p of mips) byStart.set(p.startRow, fused(p));
  for (const o of ordinals) {
    const [from, to] = store.passageRows(o);
    for (let r = from; r < to; r++) {
      if (byStart.has(r) || !store.canStart(r)) continue;
      const p = store.phraseAt(q.phrase!, r, o);
      if (p) byStart.set(r, fused(p));
    }
  }
  return [...byStart.values()].sort(comparePhrases);
}
