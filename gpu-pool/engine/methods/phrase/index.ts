// Phrase retrieval (DensePhrases): per shard, the phrase store's best phrases for the query's start
// and end vectors, their text read from the passage, duplicates of the same text merged (the best
// kept); or their scores aggregated (max) to the sentence, passage or document they lie in. Shards
// merged by score, then the same merge once more over all shards' lists.
import { PhraseUnit } from '../../../../shared/protocol/index.ts';
import { splitSentences } from '../../phrase/text/index.ts';
import type { LoadedShard } from '../../shard/index.ts';
import { passageDocIds, topKInOrder } from '../order.ts';
import type { EncodedQuery, Hit, MethodPlugin, ShardBranch } from '../types.ts';

/** Each shard's list is this many times k, so that k distinct phrases (or documents) remain after merging duplicates across shards. */
export const PHRASE_SHARD_DEPTH = 4;

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
        const [found] = await store.search([q.phrase!], { starts: q.params?.candidates, nprobe: q.params?.nprobe, efSearch: q.params?.efSearch });
        const unit = unitOf(q);
        const passages = new Map<number, { title: string; text: string }>();
        for (const p of found) if (!passages.has(p.ordinal)) passages.set(p.ordinal, await shard.passages.get(p.ordinal));
        const hits = found.map((p): Hit => {
          const { text, title } = passages.get(p.ordinal)!;
          let span = { start: p.charStart, end: p.charEnd, text: text.slice(p.charStart, p.charEnd) };
          if (unit === 'sentence') {
            const s = splitSentences(text).find((x) => x.start <= p.charStart && p.charStart < x.end) ?? { start: 0, end: text.length };
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
