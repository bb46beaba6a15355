// The same knobs, with the same bounds, as the wire protocol and the edge API accept.
import { Branch, Mode, QueryParams, type ConversationTurn, type RerankParams } from '../../../shared/protocol/index.ts';
import type { TokenMatrix } from '../encoders/index.ts';
import type { PhraseQueryVectors } from '../phrase/model/index.ts';
import type { LoadedShard } from '../shard/index.ts';
import type { DocIdResolver } from './order.ts';

export { QueryParams };
export const MethodName = Mode;
export type MethodName = Mode;
/** A kind of per-shard search (a method runs one or more): what a shard-search frame names. */
export const BranchName = Branch;
export type BranchName = Branch;

export interface MethodQuery {
  id: string;
  text: string;
  k: number;
  params?: QueryParams;
  /** A second stage over the method's best `depth` (registry.ts RERANKERS). */
  rerank?: RerankParams;
  /** Phrase: the query's start and end vectors, when the caller gives them instead of (or besides) text. */
  phrase?: PhraseQueryVectors;
  /** The conversation's previous turns, oldest first: the text searched is formed from them (params.policy). */
  context?: readonly ConversationTurn[];
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
  /** Phrase search: the phrase (or sentence) within the passage, [start, end) UTF-16 offsets, and its text. */
  span?: { start: number; end: number; text: string };
  /** Phrase search: what makes hits of different shards one result (the phrase text; the document title). */
  group?: string;
  branches?: Partial<Record<'dense' | 'bm25' | 'first' | 'rerank', BranchScore>>;
}

/**
 * The read interface every retrieval method implements; one result list per query, best first in
 * the order of `compareHits` (order.ts), with the ids of tied hits resolved.
 */
export interface RetrievalMethod {
  readonly name: MethodName;
  search(queries: MethodQuery[]): Promise<Hit[][]>;
}

/** Query encodings a method needs before its shards can search. */
/** `conversation`: a vector from the whole conversation (mode conversational's trained encoder). */
export type QueryEncoding = 'sentence' | 'tokens' | 'phrase' | 'conversation';

/** A query with what its method's encodings made of it: what the shards search with. */
export interface EncodedQuery extends MethodQuery {
  /** The sentence vector (dense), or the conversation's (conversational). */
  vector?: Float32Array;
  /** The query's token vectors (late interaction). */
  tokens?: TokenMatrix;
}

/** A method that encodes its queries in a step the caller can time (and the pool router does once per batch). */
export interface EncodingRetrievalMethod extends RetrievalMethod {
  encode(queries: MethodQuery[]): Promise<EncodedQuery[]>;
  searchEncoded(queries: EncodedQuery[]): Promise<Hit[][]>;
}

/**
 * One kind of per-shard search, run where the shard is loaded (a local searcher, a pool shard
 * host): the same function on both, so a cluster merges the lists a single node does.
 */
export interface ShardBranch {
  readonly name: BranchName;
  /** Refuses a shard that cannot answer this branch, naming the shard and what it lacks. */
  check(shard: LoadedShard): void;
  /** One shard's top-k per query (each query to its own k), in the order of `compareHits`. */
  search(shard: LoadedShard, shardNo: number, queries: EncodedQuery[]): Promise<Hit[][]>;
}

/** One sub-query of a method: which branch every shard runs for it, and how deep. */
export interface BranchPlan {
  branch: BranchName;
  k: number;
}

/**
 * A retrieval method as one unit: what its queries are encoded into, which per-shard searches
 * it runs, and how their lists (each merged over the shards) make its answer. The local
 * searcher and the pool router both run a method through this, and nothing else names modes.
 */
export interface MethodPlugin {
  readonly name: MethodName;
  readonly encodings: readonly QueryEncoding[];
  /** Every branch its plans may name: the shards must be able to answer them all. */
  readonly branches: readonly BranchName[];
  plan(q: MethodQuery): BranchPlan[];
  /** The branches' merged lists (best first, each cut at its plan's k) → the top q.k. */
  combine(q: MethodQuery, lists: Partial<Record<BranchName, Hit[]>>, docIds: DocIdResolver): Promise<Hit[]>;
}

/**
 * A second stage: re-scores given passages of one shard (where their stored representation is),
 * so a cluster re-ranks exactly as a single node does.
 */
export interface Reranker {
  readonly name: RerankParams['method'];
  readonly encodings: readonly QueryEncoding[];
  /** Refuses a shard that cannot re-score (e.g. no token store), naming the shard and what it lacks. */
  check(shard: LoadedShard): void;
  /** One score per ordinal, higher is better. */
  score(shard: LoadedShard, query: EncodedQuery, ordinals: Uint32Array): Float32Array;
}
