// The public JSON API of the edge: request and response schemas. The edge validates with them,
// /openapi.json is generated from them, and the typed client reads their types, so the three
// cannot drift apart.
import { z } from 'zod';
import { Mode, QueryParams } from '../protocol/index.ts';

/** Longest query text, in UTF-16 code units, after whitespace is collapsed. */
export const MAX_QUERY_CHARS = 1024;
/** Largest k a public request may ask for. */
export const MAX_K = 100;

/** Collapses runs of whitespace and trims, in NFC: one spelling per query for the cache. */
export function normalizeQuery(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

export const QueryText = z
  .string({ error: 'must be a string' })
  .transform(normalizeQuery)
  .pipe(
    z
      .string()
      .min(1, { error: 'must not be empty (or only whitespace)' })
      .max(MAX_QUERY_CHARS, { error: `must be at most ${MAX_QUERY_CHARS} characters` }),
  );

export const SearchRequest = z
  .strictObject({
    query: QueryText.meta({ description: 'The question or keywords; whitespace is collapsed.', example: 'statins and dementia risk' }),
    mode: Mode.default('hybrid').meta({ description: 'dense (neural), bm25 (keywords) or hybrid (both, fused by reciprocal rank).' }),
    k: z
      .number({ error: 'must be a number' })
      .int({ error: 'must be an integer' })
      .min(1, { error: 'must be at least 1' })
      .max(MAX_K, { error: `must be at most ${MAX_K}` })
      .default(10)
      .meta({ description: 'How many results.' }),
    params: QueryParams.optional().meta({ description: 'Method parameters: nprobe, efSearch, windowFactor, rrfK, weights, depth, k1, b.' }),
    cache: z.boolean().default(true).meta({ description: 'false bypasses the cache: no lookup, and the answer is not stored.' }),
  });
export type SearchRequest = z.output<typeof SearchRequest>;
export type SearchRequestInput = z.input<typeof SearchRequest>;

export const BranchScore = z.object({ score: z.number(), rank: z.number().int() });

export const Hit = z
  .object({
    rank: z.number().int().min(1),
    docId: z.string(),
    score: z.number(),
    title: z.string(),
    text: z.string().meta({ description: 'The evidence passage.' }),
    shard: z.number().int(),
    branches: z.object({ dense: BranchScore.optional(), bm25: BranchScore.optional() }).optional(),
  });
export type Hit = z.infer<typeof Hit>;

export const SearchResponse = z
  .object({
    query: z.string(),
    mode: Mode,
    k: z.number().int(),
    indexVersion: z.string().meta({ description: 'The index version the hits were computed on.' }),
    cached: z.boolean(),
    partial: z.object({ missingShards: z.array(z.number().int()) }).optional().meta({ description: 'Present when some shards did not answer; such answers are never cached.' }),
    hits: z.array(Hit),
    timings: z.object({ edgeMs: z.number(), poolMs: z.number().optional() }),
  });
export type SearchResponse = z.infer<typeof SearchResponse>;

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      field: z.string().optional().meta({ description: 'The request field that was wrong, as a dotted path.' }),
    }),
  });
export type ErrorBody = z.infer<typeof ErrorBody>;

export function batchRequestSchema(maxQueries: number) {
  return z
    .strictObject({
      queries: z
        .array(SearchRequest)
        .min(1, { error: 'must hold at least one query' })
        .max(maxQueries, { error: `must hold at most ${maxQueries} queries` }),
    });
}
export const DEFAULT_MAX_BATCH_QUERIES = 32;
export const BatchRequest = batchRequestSchema(DEFAULT_MAX_BATCH_QUERIES);
export type BatchRequest = z.output<typeof BatchRequest>;
export type BatchRequestInput = z.input<typeof BatchRequest>;

export const BatchResponse = z
  .object({
    results: z.array(z.union([SearchResponse, ErrorBody])).meta({ description: 'One entry per query, in order: a search response or an error.' }),
  });
export type BatchResponse = z.infer<typeof BatchResponse>;

export const EndpointHealth = z.object({
  url: z.string(),
  region: z.string().optional(),
  weight: z.number(),
  breaker: z.enum(['closed', 'open', 'half-open']),
  ready: z.boolean(),
  detail: z.string().optional().meta({ description: "Why the router is not ready (its own words, which may name files)." }),
});

/** Public: nothing about the pool's addresses or its errors. */
export const HealthResponse = z
  .object({
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
