// The same knobs, with the same bounds, as the wire protocol and the edge API accept.
import { Mode, QueryParams } from '../../shared/protocol/index.ts';

export { QueryParams };
export const MethodName = Mode;
export type MethodName = Mode;

export interface MethodQuery {
  id: string;
  text: string;
  k: number;
  params?: QueryParams;
}

export interface BranchScore {
  score: number;
  /** 1-based rank within the branch. */
  rank: number;
}

export interface Hit {
  docId: string;
  score: number;
  shard: number;
  /** Shard-local document ordinal: where the evidence passage is stored. */
  ordinal: number;
  branches?: Partial<Record<'dense' | 'bm25', BranchScore>>;
}

/** The read interface every retrieval method implements; one result list per query, best first. */
export interface RetrievalMethod {
  readonly name: MethodName;
  search(queries: MethodQuery[]): Promise<Hit[][]>;
}

/** Best first; equal scores in a fixed order so results never depend on timing. */
export function compareHits(a: Hit, b: Hit): number {
  return b.score - a.score || a.shard - b.shard || a.ordinal - b.ordinal;
}

/** Exact top-k merge of per-shard lists (each already top-k of its shard). */
export function mergeTopK(lists: Hit[][], k: number): Hit[] {
  return lists.flat().sort(compareHits).slice(0, k);
}
