// The public JSON API of the edge: request and response schemas. The edge validates with them,
// /openapi.json is generated from them, and the typed client reads their types, so the three
// cannot drift apart. Constraints the JSON Schema of a zod check cannot carry (a refinement)
// carry their JSON Schema form in `.meta()`, beside the check.
import { z } from 'zod';
import { DEFAULT_RERANK_DEPTH, MAX_RERANK_DEPTH, Mode, QueryParams, RerankParams } from '../protocol/index.ts';
import { API_ERRORS, type ApiErrorCode } from './errors.ts';
import { DEFAULT_MAX_BATCH_QUERIES, MAX_CONTEXT_CHARS, MAX_CONTEXT_TURNS, MAX_K, MAX_QUERY_CHARS, MAX_RESPONSE_CHARS } from './limits.ts';

/** Collapses runs of whitespace and trims, in NFC: one spelling per query for the cache. */
export function normalizeQuery(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

const tooLong = `must be at most ${MAX_QUERY_CHARS} characters`;
const blank = 'must not be empty (or only whitespace)';

/**
 * The query text. Its length is counted in Unicode characters (code points), as sent and again
 * after normalization, so `maxLength` in the OpenAPI document is the rule the edge applies.
 */
export const QueryText = z
  .string()
  .min(1, { error: blank })
  .max(MAX_QUERY_CHARS, { error: tooLong })
  .regex(/\S/u, { error: blank })
  .transform(normalizeQuery)
  .pipe(z.string().max(MAX_QUERY_CHARS, { error: `${tooLong} after normalization` }));

/**
 * The params of a zod issue that is a 413 `payload_too_large` (a size limit of the context or a
 * stored conversation) rather than a 400: validationError reads them.
 */
export const TOO_LARGE = { status: 413 } as const;

/** Characters (code points), as JSON Schema's maxLength counts them. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * A response of a previous turn (what the bot answered), kept as sent: at most
 * MAX_RESPONSE_CHARS characters, else a 413 naming the limit.
 */
export const ResponseText = z
  .string()
  .superRefine((text, ctx) => {
    if (charCount(text) > MAX_RESPONSE_CHARS) ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_RESPONSE_CHARS} characters (MAX_RESPONSE_CHARS)`, params: TOO_LARGE });
  })
  .meta({ maxLength: MAX_RESPONSE_CHARS, description: `What was answered to that turn (the bot's answer, or an evidence passage): at most ${MAX_RESPONSE_CHARS} characters, else a 413.` });

/** A previous turn's query as sent: a query's rules (normalized like one after the context's size is checked). */
const TurnQuery = z.string().min(1, { error: blank }).max(MAX_QUERY_CHARS, { error: tooLong }).regex(/\S/u, { error: blank });

export const ContextTurn = z.strictObject({
  query: TurnQuery.meta({ description: `What was asked in that turn: a query's rules (1 to ${MAX_QUERY_CHARS} characters, not only whitespace; else a 400 naming the turn), normalized like one.` }),
  response: ResponseText.optional(),
});

/**
 * The previous turns of a conversation, oldest first. Its size limits are 413s naming the limit
 * (MAX_CONTEXT_TURNS turns, MAX_CONTEXT_CHARS characters of queries and responses together,
 * counted as sent, MAX_RESPONSE_CHARS a response); a turn's query is a query (400 naming it).
 */
export const QueryContext = z
  .array(ContextTurn)
  .superRefine((turns, ctx) => {
    if (turns.length > MAX_CONTEXT_TURNS) {
      ctx.addIssue({ code: 'custom', message: `must hold at most ${MAX_CONTEXT_TURNS} turns (MAX_CONTEXT_TURNS), not ${turns.length}`, params: TOO_LARGE });
      return;
    }
    const chars = turns.reduce((sum, t) => sum + charCount(t.query) + (t.response === undefined ? 0 : charCount(t.response)), 0);
    if (chars > MAX_CONTEXT_CHARS) {
      ctx.addIssue({ code: 'custom', message: `holds ${chars} characters of queries and responses, more than the ${MAX_CONTEXT_CHARS} (MAX_CONTEXT_CHARS) a context may`, params: TOO_LARGE });
    }
  })
  .transform((turns) => turns.map((t) => ({ ...t, query: normalizeQuery(t.query) })))
  .pipe(z.array(z.object({ query: z.string().max(MAX_QUERY_CHARS, { error: `${tooLong} after normalization` }), response: z.string().optional() })))
  .meta({
    maxItems: MAX_CONTEXT_TURNS,
    description: `The conversation before this query, oldest first (for chatbots that keep their own history; a stored conversation sends its own): the pool forms the query from these turns and \`query\` by \`params.policy\` (default concat). At most ${MAX_CONTEXT_TURNS} turns (MAX_CONTEXT_TURNS) and ${MAX_CONTEXT_CHARS} characters of queries and responses together (MAX_CONTEXT_CHARS), else a 413 naming the limit. The answer is cached per context: another context is another cache entry.`,
  });
export type QueryContext = z.output<typeof QueryContext>;

/** Hybrid fusion with both weights 0 scores every passage 0: no ranking at all. */
const zeroFusion = (p: QueryParams) => (p.weights?.dense ?? 1) + (p.weights?.bm25 ?? 1) === 0;

/** The pool's knobs, plus what the pool cannot rank with (an omitted weight counts as 1). */
export const SearchParams = QueryParams.refine((p) => !zeroFusion(p), {
  path: ['weights'],
  error: 'the fusion weights must not add up to 0 (an omitted weight counts as 1)',
}).meta({
  description:
    'Method parameters: nprobe, efSearch, windowFactor, refineFactor (dense; refineFactor on an index built with a refine stage: k × refineFactor candidates are re-scored exactly, default 4); rrfK, weights {dense, bm25} (each defaults to 1; they must not both be 0), depth (hybrid); k1, b (BM25); candidates (colbert: passages per shard re-scored exactly after candidate generation; phrase: phrase starts taken per shard, default 100); depth and weights (phrase: the depth best BM25 passages per shard, default 20, are read whole, and a phrase scores weights.dense × its start + end score + weights.bm25 × the BM25 score of its passage, defaults 1 and 8); unit (phrase: phrase, the default, or sentence, passage, document: phrase scores aggregated by max to that unit); policy (with `context`, every mode but conversational: how the query is formed from the previous turns: raw (the query alone), concat (the default: previous queries then this one), concat+responses (each previous response after its query), first (the first query, then this one) or window:N (the last N previous queries, then this one); encoders cut the oldest turns until the text fits their window). Unknown keys are refused.',
  not: { required: ['weights'], properties: { weights: { required: ['dense', 'bm25'], properties: { dense: { const: 0 }, bm25: { const: 0 } } } } },
});

/** The fields of a search request (a stored conversation's turn takes them but `context`). */
const SearchRequestFields = z.strictObject({
  query: QueryText.meta({
    description: `The question or keywords: 1 to ${MAX_QUERY_CHARS} Unicode characters (code points, not UTF-16 code units), not only whitespace; whitespace runs are collapsed (and the text NFC-normalized) before searching.`,
    examples: ['statins and dementia risk'],
  }),
  mode: Mode.default('hybrid').meta({
    description:
      'dense (neural), bm25 (keywords), hybrid (both, fused by reciprocal rank), conversational (ConvDR: the query and its `context` encoded by a pool\'s conversational encoder over the dense index; a pool without one answers 400), colbert (late interaction: token-level MaxSim; needs an index built with --method colbert, else a 400 naming the index) or phrase (DensePhrases: answer phrases, each with its evidence passage and `span`; needs an index built with --method phrase, else a 400 naming the index; `params.unit` aggregates to sentences, passages or documents). Any mode can be re-ranked with `rerank`.',
  }),
  k: z.number().int().min(1).max(MAX_K).default(10).meta({ description: 'How many results.' }),
  params: SearchParams.optional(),
  rerank: RerankParams.optional().meta({
    description: `A second stage: the mode's best \`depth\` (1 to ${MAX_RERANK_DEPTH}, default ${DEFAULT_RERANK_DEPTH}; at least k are taken) re-scored by \`method\` (colbert: MaxSim over the passages' token vectors) and ranked by that score, or with \`fuse\` by both stages' scores, each z-normalised over the candidates and added with \`weight\` (0 to 1, default 0.5; only with fuse) on the re-ranker and 1 - weight on the first stage. Hits then carry \`branches.first\` and \`branches.rerank\`. Needs an index built with --method colbert (else a 400 naming the index).`,
  }),
  cache: z
    .boolean()
    .default(true)
    .meta({
      description:
        'false bypasses the cache and request coalescing: no lookup, the answer is not stored, and the query goes to the pool on its own even while an identical one is in flight, so every request of a load test reaches the pool.',
    }),
  context: QueryContext.optional(),
});

/**
 * Mode conversational forms its query with its trained encoder: a policy is for the other modes
 * (the pool refuses the pair, and would refuse the whole frame the query travels in).
 */
function conversationalPolicy(req: { mode: string; params?: { policy?: string } }, ctx: z.RefinementCtx): void {
  if (req.mode === 'conversational' && req.params?.policy !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['params', 'policy'], message: 'mode "conversational" forms its query with its trained encoder; policy is for the other modes' });
  }
}
/** JSON Schema of conversationalPolicy. */
const conversationalPolicyJson = {
  not: { required: ['mode', 'params'], properties: { mode: { const: 'conversational' }, params: { required: ['policy'] } } },
};

export const SearchRequest = SearchRequestFields.superRefine(conversationalPolicy).meta(conversationalPolicyJson);
export type SearchRequest = z.output<typeof SearchRequest>;
export type SearchRequestInput = z.input<typeof SearchRequest>;

export const BranchScore = z.object({ score: z.number(), rank: z.number().int() });

export const Hit = z.object({
  rank: z.number().int().min(1),
  docId: z.string(),
  score: z.number(),
  title: z.string(),
  text: z.string().meta({ description: 'The evidence passage.' }),
  shard: z.number().int(),
  span: z
    .object({ start: z.number().int().min(0), end: z.number().int().min(0), text: z.string() })
    .optional()
    .meta({ description: 'Mode phrase: the answer phrase (unit sentence: the sentence) as text.slice(start, end), UTF-16 offsets into `text`. Absent for unit passage and other modes.' }),
  branches: z
    .object({ dense: BranchScore.optional(), bm25: BranchScore.optional(), first: BranchScore.optional(), rerank: BranchScore.optional() })
    .optional()
    .meta({ description: 'Per-stage scores and ranks: hybrid’s dense and bm25; a re-ranked query’s first stage (first) and re-ranker (rerank).' }),
});
export type Hit = z.infer<typeof Hit>;

export const Timings = z.object({
  edgeMs: z.number().min(0).meta({ description: 'Time in the edge, from the request to the response.' }),
  poolMs: z
    .number()
    .min(0)
    .optional()
    .meta({ description: 'Time this request waited on the pool: every attempt and the waits between retries, until the answer. Absent for a cached answer.' }),
  poolAttempts: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'Requests to pool routers behind the answer: 1, or more when attempts failed and were retried. Absent for a cached answer.' }),
});

export const SearchResponse = z.object({
  query: z.string().meta({ description: 'The query as searched (normalized).' }),
  mode: Mode,
  k: z.number().int(),
  indexVersion: z.string().meta({ description: 'The index version the hits were computed on.' }),
  cached: z.boolean(),
  partial: z
    .object({ missingShards: z.array(z.number().int()) })
    .optional()
    .meta({ description: 'Present when some shards did not answer; such answers are never cached.' }),
  hits: z.array(Hit),
  timings: Timings,
});
export type SearchResponse = z.infer<typeof SearchResponse>;

export const ErrorCode = z.enum(Object.keys(API_ERRORS) as [ApiErrorCode, ...ApiErrorCode[]]);

export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string().meta({ description: 'What was wrong, in words; a 5xx message is generic and names the request id.' }),
    field: z
      .string()
      .optional()
      .meta({ description: 'The request field that was wrong, as a dotted path (`k`, `params.weights`, `queries.3.query`); present whenever a field is at fault, unknown fields included.' }),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export function batchRequestSchema(maxQueries: number) {
  return z.strictObject({
    queries: z
      .array(SearchRequest)
      .min(1, { error: 'must hold at least one query' })
      .max(maxQueries, { error: `must hold at most ${maxQueries} queries` }),
  });
}
export const BatchRequest = batchRequestSchema(DEFAULT_MAX_BATCH_QUERIES);
export type BatchRequest = z.output<typeof BatchRequest>;
export type BatchRequestInput = z.input<typeof BatchRequest>;

export const BatchResponse = z.object({
  results: z
    .array(z.union([SearchResponse, ErrorBody]))
    .meta({
      description:
        'One entry per query, in order: a search response, or an error (a pool failure: bad_gateway, pool_unavailable, deadline_exceeded, internal; or bad_request when the index cannot answer the query’s mode or rerank).',
    }),
});
export type BatchResponse = z.infer<typeof BatchResponse>;

export const BreakerState = z.enum(['closed', 'open', 'half-open']);

export const EndpointHealth = z.object({
  url: z.string(),
  region: z.string().optional(),
  weight: z.number(),
  breaker: BreakerState,
  ready: z.boolean(),
  detail: z.string().optional().meta({ description: 'Why the router is not ready (its own words, which may name files).' }),
});

/** Public: nothing about the pool's addresses or its errors. */
export const HealthResponse = z.object({
  edge: z.literal('ok'),
  pool: z.enum(['ok', 'degraded', 'down']),
  indexVersion: z.string().optional().meta({ description: 'The index version this edge last saw the pool answer with.' }),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

/** For keys with the admin scope: the public health and every pool router with its state. */
export const AdminHealthResponse = HealthResponse.extend({
  endpoints: z.array(EndpointHealth),
});
export type AdminHealthResponse = z.infer<typeof AdminHealthResponse>;

/** For keys with the admin scope: this isolate's counters. */
export const AdminStatsResponse = z.object({
  endpoints: z.array(EndpointHealth.pick({ url: true, region: true, weight: true, breaker: true })),
  batches: z
    .object({ frames: z.number().int().min(0), queries: z.number().int().min(0), largest: z.number().int().min(0) })
    .meta({ description: 'Frames sent to the pool, the queries they carried, and the most in one frame.' }),
  coalesced: z.number().int().min(0).meta({ description: 'Requests that shared an identical request’s pool call.' }),
  indexVersion: z.string().nullable().meta({ description: 'The index version last seen from the pool (null before the first answer).' }),
});
export type AdminStatsResponse = z.infer<typeof AdminStatsResponse>;

// ---- Conversations: a history kept at the edge (one Durable Object per conversation).

/**
 * A conversation id: `c_` and 32 base64url characters (192 random bits). In public mode it is the
 * capability to the conversation, so it is never guessable.
 */
export const CONVERSATION_ID_PATTERN = /^c_[A-Za-z0-9_-]{32}$/;
export const ConversationId = z.string().regex(CONVERSATION_ID_PATTERN).meta({ description: 'The conversation id (`c_` and 32 base64url characters: 192 random bits).' });

/** What the edge may record as a turn's response: `top`, the best hit's passage (CAsT-20's automatic canonical response). */
export const RecordMode = z.enum(['top']);

/** A turn of a stored conversation: a search request without `context` (the history is the conversation's). */
export const ConversationSearchRequest = SearchRequestFields.omit({ context: true }).extend({
  record: RecordMode.optional().meta({
    description:
      '`top`: store the best hit\'s passage as this turn\'s response (CAsT-20\'s automatic canonical response; cut to fit the conversation\'s limits and MAX_RESPONSE_CHARS), so `params.policy: "concat+responses"` reads it in later turns. Without it the turn has no response until one is PUT.',
  }),
})
  .superRefine(conversationalPolicy)
  .meta(conversationalPolicyJson);
export type ConversationSearchRequest = z.output<typeof ConversationSearchRequest>;
export type ConversationSearchRequestInput = z.input<typeof ConversationSearchRequest>;

export const ConversationSearchResponse = SearchResponse.extend({
  conversation: z.string().meta({ description: 'The conversation id.' }),
  turn: z.number().int().min(1).meta({ description: 'The number of the turn this search was stored as (1 for the first).' }),
});
export type ConversationSearchResponse = z.infer<typeof ConversationSearchResponse>;

/** PUT /v1/conversations/{id}/turns/{n}/response: what the bot answered to turn n. */
export const RecordResponseRequest = z.strictObject({ response: ResponseText });
export type RecordResponseRequest = z.output<typeof RecordResponseRequest>;

export const StoredTurn = z.object({
  turn: z.number().int().min(1),
  query: z.string().meta({ description: 'The query as searched (normalized).' }),
  response: z.string().optional().meta({ description: 'The recorded response, when one was PUT or recorded with `record: "top"`.' }),
});
export type StoredTurn = z.infer<typeof StoredTurn>;

export const ConversationLimits = z
  .object({
    maxTurns: z.number().int().min(1).meta({ description: 'Turns kept (CONVERSATION_MAX_TURNS); a turn past it is a 413.' }),
    maxTurnBytes: z.number().int().min(1).meta({ description: 'UTF-8 bytes of one turn, query and response (CONVERSATION_MAX_TURN_BYTES).' }),
    maxBytes: z.number().int().min(1).meta({ description: 'UTF-8 bytes of all turns together (CONVERSATION_MAX_BYTES).' }),
    ttlS: z.number().int().min(1).meta({ description: 'Seconds without a call after which the conversation is erased (CONVERSATION_TTL_S).' }),
  })
  .meta({ description: 'The limits this conversation is kept under.' });
export type ConversationLimits = z.infer<typeof ConversationLimits>;

export const Conversation = z.object({
  id: z.string(),
  createdAt: z.string().meta({ description: 'ISO 8601 time of creation.' }),
  expiresAt: z.string().meta({ description: 'ISO 8601 time the conversation is erased unless a call comes first (each call moves it on by the idle TTL).' }),
  bytes: z.number().int().min(0).meta({ description: 'UTF-8 bytes of the stored turns.' }),
  turns: z.array(StoredTurn).meta({ description: 'The stored turns, oldest first.' }),
  limits: ConversationLimits,
});
export type Conversation = z.infer<typeof Conversation>;
