// The public JSON API of the edge: request and response schemas. The edge validates with them,
// /openapi.json is generated from them, and the typed client reads their types, so the three
// cannot drift apart. Constraints the JSON Schema of a zod check cannot carry (a refinement)
// carry their JSON Schema form in `.meta()`, beside the check.
import { z } from 'zod';
import { DEFAULT_RERANK_DEPTH, MAX_RERANK_DEPTH, Mode, QueryParams, RerankParams } from '../protocol/index.ts';
import { API_ERRORS, type ApiErrorCode } from './errors.ts';
import { DEFAULT_MAX_BATCH_QUERIES, MAX_K, MAX_QUERY_CHARS } from './limits.ts';

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

/** Hybrid fusion with both weights 0 scores every passage 0: no ranking at all. */
const zeroFusion = (p: QueryParams) => (p.weights?.dense ?? 1) + (p.weights?.bm25 ?? 1) === 0;

/** The pool's knobs, plus what the pool cannot rank with (an omitted weight counts as 1). */
export const SearchParams = QueryParams.refine((p) => !zeroFusion(p), {
  path: ['weights'],
  error: 'the fusion weights must not add up to 0 (an omitted weight counts as 1)',
}).meta({
  description:
    'Method parameters: nprobe, efSearch, windowFactor (dense); rrfK, weights {dense, bm25} (each defaults to 1; they must not both be 0), depth (hybrid); k1, b (BM25); candidates (colbert: passages per shard re-scored exactly after candidate generation; phrase: phrase starts taken per shard, default 100); depth and weights (phrase: the depth best BM25 passages per shard, default 20, are read whole, and a phrase scores weights.dense × its start + end score + weights.bm25 × the BM25 score of its passage, defaults 1 and 8); unit (phrase: phrase, the default, or sentence, passage, document: phrase scores aggregated by max to that unit). Unknown keys are refused.',
  not: { required: ['weights'], properties: { weights: { required: ['dense', 'bm25'], properties: { dense: { const: 0 }, bm25: { const: 0 } } } } },
});

export const SearchRequest = z.strictObject({
  query: QueryText.meta({
    description: `The question or keywords: 1 to ${MAX_QUERY_CHARS} Unicode characters (code points, not UTF-16 code units), not only whitespace; whitespace runs are collapsed (and the text NFC-normalized) before searching.`,
    examples: ['statins and dementia risk'],
  }),
  mode: Mode.default('hybrid').meta({
    description:
      'dense (neural), bm25 (keywords), hybrid (both, fused by reciprocal rank), colbert (late interaction: token-level MaxSim; needs an index built with --method colbert, else a 400 naming the index) or phrase (DensePhrases: answer phrases, each with its evidence passage and `span`; needs an index built with --method phrase, else a 400 naming the index; `params.unit` aggregates to sentences, passages or documents). Any mode can be re-ranked with `rerank`.',
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
});
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
