// Per-query search parameters and the retrieval mode, shared by the edge API and the wire
// frames so both tiers accept exactly the same knobs with the same bounds.
import { z } from 'zod';

export const Mode = z.enum(['dense', 'bm25', 'hybrid', 'colbert', 'phrase', 'conversational']);
export type Mode = z.infer<typeof Mode>;

/** The per-shard searches the modes are made of (a shard-search frame's sub-query names one). */
export const Branch = z.enum(['dense', 'bm25', 'colbert', 'phrase']);
export type Branch = z.infer<typeof Branch>;
/** What a sub-query of each branch must carry to its shard (phrase: the query's start and end vectors). */
export const BRANCH_INPUT: Record<Branch, 'vector' | 'text' | 'tokens' | 'phrase'> = { dense: 'vector', bm25: 'text', colbert: 'tokens', phrase: 'phrase' };

/** What a phrase search returns: phrases, or phrase scores aggregated (max) to coarser units, as DensePhrases does. */
export const PhraseUnit = z.enum(['phrase', 'sentence', 'passage', 'document']);
export type PhraseUnit = z.infer<typeof PhraseUnit>;

/** Second stages that re-score a first stage's best `depth` (ColBERT's MaxSim). */
export const RerankMethod = z.enum(['colbert']);
export type RerankMethod = z.infer<typeof RerankMethod>;
export const DEFAULT_RERANK_DEPTH = 100;
export const MAX_RERANK_DEPTH = 1000;

/**
 * Re-ranking of any mode's results: its best `depth` re-scored by `method`; with `fuse`, the
 * first stage's and the re-ranker's scores, each z-normalised over the query's candidates, are
 * added with `weight` on the re-ranker (1 - weight on the first stage).
 */
export const RerankParams = z.strictObject({
  method: RerankMethod,
  depth: z.number().int().min(1).max(MAX_RERANK_DEPTH).default(DEFAULT_RERANK_DEPTH),
  fuse: z.boolean().default(false),
  weight: z.number().min(0).max(1).optional(),
});
export type RerankParams = z.output<typeof RerankParams>;

/**
 * How a query is formed from the conversation before it (its `context`), for every mode but
 * `conversational` (which forms it with its trained encoder): `raw` the current utterance only,
 * `concat` the previous utterances then the current (ConvDR's no_res), `concat+responses` with
 * each previous response after its utterance (ConvDR's auto_can), `first` the conversation's
 * first utterance then the current, `window:N` the last N previous utterances then the current.
 * Encoders cut the oldest turns until the text fits their window.
 */
export const POLICY_PATTERN = /^(raw|concat|concat\+responses|first|window:([1-9][0-9]{0,2}))$/;
export const Policy = z.string().regex(POLICY_PATTERN, { error: 'must be raw, concat, concat+responses, first or window:N (N 1-999)' });
export type Policy = z.infer<typeof Policy>;
/** The policy of a query with context and no `params.policy`. */
export const DEFAULT_POLICY: Policy = 'concat';

/** Most previous turns a query's context may carry (the wire and the edge alike). */
export const MAX_CONTEXT_TURNS = 32;
/** Longest response in a context turn, in UTF-16 code units (a passage as evidence fits). */
export const MAX_RESPONSE_CHARS = 4096;

/** One previous turn of a conversation: what was asked and, optionally, what was answered. */
export const ConversationTurn = z.strictObject({
  query: z.string().min(1).max(4096),
  response: z.string().max(MAX_RESPONSE_CHARS).optional(),
});
export type ConversationTurn = z.infer<typeof ConversationTurn>;
export const ConversationContext = z.array(ConversationTurn).max(MAX_CONTEXT_TURNS);

/**
 * How hybrid combines its two branches: reciprocal rank fusion (`rrf`, the default: Σ w / (rrfK +
 * rank)), or a convex combination of each branch's scores normalised over its list per query
 * (`minmax`: to [0, 1]; `zscore`: to mean 0 and deviation 1), Σ w · normalised score, where a
 * document a branch did not return counts that branch's lowest normalised score.
 */
export const Fusion = z.enum(['rrf', 'minmax', 'zscore']);
export type Fusion = z.infer<typeof Fusion>;

/** Fusion weights for hybrid search; strict so a typo ("bm_25") is an error, not a no-op. */
const Weights = z.strictObject({
  dense: z.number().min(0).max(100).optional(),
  bm25: z.number().min(0).max(100).optional(),
  /** Phrase: BM25 of the sentence a phrase is in. */
  sentence: z.number().min(0).max(100).optional(),
  /** Phrase: question words around the phrase. */
  context: z.number().min(0).max(100).optional(),
  /** Phrase: penalty for question words inside the phrase. */
  overlap: z.number().min(0).max(100).optional(),
});

/**
 * Tuning knobs; every one optional (the pool fills in defaults from the index). Strict: an
 * unknown key is rejected rather than silently ignored. Bounds keep a single query from
 * asking the index for unbounded work.
 */
export const QueryParams = z.strictObject({
  nprobe: z.number().int().min(1).max(65536).optional(),
  efSearch: z.number().int().min(1).max(65536).optional(),
  windowFactor: z.number().int().min(1).max(64).optional(),
  /** Dense on a refine index (",RFlat", ",Refine(SQ8)"): candidates per result re-scored exactly. */
  refineFactor: z.number().min(1).max(64).optional(),
  rrfK: z.number().min(0).max(10000).optional(),
  fusion: Fusion.optional(),
  weights: Weights.optional(),
  depth: z.number().int().min(1).max(10000).optional(),
  k1: z.number().min(0).max(10).optional(),
  b: z.number().min(0).max(1).optional(),
  /** ColBERT: passages re-scored exactly per shard after candidate generation. Phrase: starts taken from each shard's start index. */
  candidates: z.number().int().min(1).max(10000).optional(),
  /** Phrase: the unit results are (default phrase). */
  unit: PhraseUnit.optional(),
  /** How the query is formed from its context (default concat when there is context). */
  policy: Policy.optional(),
});
export type QueryParams = z.infer<typeof QueryParams>;

/** Largest windowFactor and depth (hybrid branch depth) QueryParams allow; shard-level k is derived from them. */
export const MAX_WINDOW_FACTOR = 64;
export const MAX_HYBRID_DEPTH = 10000;
