// The same knobs, with the same bounds, as the wire protocol and the edge API accept.
import { Mode, QueryParams } from '../../../shared/protocol/index.ts';

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
  /** '' until read from the passage store (methods resolve it only where scores tie). */
  docId: string;
  score: number;
  shard: number;
  /** Shard-local document ordinal: where the evidence passage is stored. */
  ordinal: number;
  branches?: Partial<Record<'dense' | 'bm25', BranchScore>>;
}

/**
 * The read interface every retrieval method implements; one result list per query, best first in
 * the order of `compareHits` (order.ts), with the ids of tied hits resolved.
 */
export interface RetrievalMethod {
  readonly name: MethodName;
  search(queries: MethodQuery[]): Promise<Hit[][]>;
}

/** A method that can also search with query vectors encoded by the caller (who times encoding). */
export interface VectorRetrievalMethod extends RetrievalMethod {
  searchVectors(queries: MethodQuery[], vectors: Float32Array): Promise<Hit[][]>;
}
