// The one ranking order of the system: score descending, equal scores by document id
// descending (trec_eval's order, so what `search` prints, what `eval` scores and what a run
// file says are the same ranking, and trec_eval reading our run files agrees with `eval`).
// Hits carry their document id only once it is read from the passage store, so cuts at k
// resolve the ids of tied hits first (topKInOrder); lists without ids fall back to shard and
// ordinal, which is deterministic but not trec_eval's order.
import type { Hit } from './types.ts';

/**
 * C strcmp order of the UTF-8 bytes, which trec_eval uses: Unicode code point order. JavaScript's
 * `<` compares UTF-16 code units, which differs for characters above U+FFFF against U+E000-U+FFFF.
 */
export function compareDocIds(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (code points above U+FFFF) rank after U+E000-U+FFFF, as in UTF-8. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** trec_eval's order: score descending, then document id descending. */
export function compareRanked(a: { score: number; docId: string }, b: { score: number; docId: string }): number {
  return b.score - a.score || compareDocIds(b.docId, a.docId);
}

/**
 * Hits in trec_eval's order where their document ids are known (an unresolved id is ''), then by
 * shard and ordinal, so every list has one deterministic order.
 */
export function compareHits(a: Hit, b: Hit): number {
  return compareRanked(a, b) || a.shard - b.shard || a.ordinal - b.ordinal || (a.span?.start ?? 0) - (b.span?.start ?? 0) || (a.span?.end ?? 0) - (b.span?.end ?? 0);
}

/** Merge of per-shard lists (each top-k of its shard in this order) in trec_eval's order. */
export function mergeTopKInOrder(lists: Hit[][], k: number, resolve: DocIdResolver): Promise<Hit[]> {
  return topKInOrder(lists.flat(), k, resolve);
}

/** Fills `docId` of each given hit (e.g. from the shard's passage store). */
export type DocIdResolver = (hits: Hit[]) => Promise<void>;

/**
 * The best k of `hits` in trec_eval's order. Document ids are resolved only for hits whose score
 * ties another's within the first k (or across the k-th place), the only ones whose order and
 * membership depend on them; scores rarely tie for dense search, often for BM25 and fusion.
 * Sorts `hits` in place and sets `docId` on the resolved ones.
 */
export async function topKInOrder(hits: Hit[], k: number, resolve: DocIdResolver): Promise<Hit[]> {
  hits.sort(compareHits);
  const end = Math.min(k, hits.length);
  const unresolved: Hit[] = [];
  for (let i = 0; i < end; ) {
    let j = i + 1;
    while (j < hits.length && hits[j].score === hits[i].score) j++;
    if (j - i > 1) for (let t = i; t < j; t++) if (hits[t].docId === '') unresolved.push(hits[t]);
    i = j;
  }
  if (unresolved.length > 0) {
    await resolve(unresolved);
    hits.sort(compareHits);
  }
  return hits.slice(0, k);
}

/** A resolver reading ids from passage stores, `stores(shard)` giving the store of a hit's shard. */
export function passageDocIds(stores: (shard: number) => { get(ordinal: number): Promise<{ id: string }> }): DocIdResolver {
  return async (hits) => {
    await Promise.all(
      hits.map(async (h) => {
        h.docId = (await stores(h.shard).get(h.ordinal)).id;
      }),
    );
  };
}
