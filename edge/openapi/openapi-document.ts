// /openapi.json, generated from the same zod schemas the edge validates with (request bodies as
// the client sends them, responses as the edge writes them), so a constraint cannot be enforced
// without being documented. Every route lists every status it can answer, with the error codes
// of that status and the headers that come with it.
import { z } from 'zod';
import {
  API_ERRORS,
  AdminHealthResponse,
  AdminStatsResponse,
  BatchResponse,
  Conversation,
  ConversationSearchRequest,
  ConversationSearchResponse,
  ErrorBody,
  HealthResponse,
  Hit,
  MAX_CONTEXT_CHARS,
  MAX_CONTEXT_TURNS,
  MAX_QUERY_CHARS,
  MAX_RESPONSE_CHARS,
  RecordResponseRequest,
  SearchRequest,
  SearchResponse,
  StoredTurn,
  Timings,
  batchBodyLimit,
  batchRequestSchema,
  searchBodyLimit,
  type ApiErrorCode,
} from '../../shared/api/index.ts';

export interface OpenApiOptions {
  /** MAX_BATCH_QUERIES: the batch schema's maxItems and the batch body limit follow from it. */
  maxBatchQueries: number;
  /** The configured PUBLIC_ORIGIN; without it the server is relative (`/`), never the request's Host. */
  origin?: string;
  /** PUBLIC_MODE: searches may be sent without a key. */
  publicMode: boolean;
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const uri = (id: string) => `#/components/schemas/${id}`;

function schemas(maxBatchQueries: number): Record<string, unknown> {
  const requests = z.registry<{ id: string }>();
  requests.add(SearchRequest, { id: 'SearchRequest' });
  requests.add(batchRequestSchema(maxBatchQueries), { id: 'BatchRequest' });
  requests.add(ConversationSearchRequest, { id: 'ConversationSearchRequest' });
  requests.add(RecordResponseRequest, { id: 'RecordResponseRequest' });
  const responses = z.registry<{ id: string }>();
  responses.add(Hit, { id: 'Hit' });
  responses.add(Timings, { id: 'Timings' });
  responses.add(SearchResponse, { id: 'SearchResponse' });
  responses.add(BatchResponse, { id: 'BatchResponse' });
  responses.add(ErrorBody, { id: 'Error' });
  responses.add(HealthResponse, { id: 'Health' });
  responses.add(AdminHealthResponse, { id: 'AdminHealth' });
  responses.add(AdminStatsResponse, { id: 'AdminStats' });
  responses.add(Conversation, { id: 'Conversation' });
  responses.add(ConversationSearchResponse, { id: 'ConversationSearchResponse' });
  responses.add(StoredTurn, { id: 'StoredTurn' });
  const strip = (defs: Record<string, Record<string, unknown>>) =>
    Object.fromEntries(Object.entries(defs).map(([id, { $schema: _, $id: __, ...schema }]) => [id, schema]));
  return {
    ...strip(z.toJSONSchema(requests, { io: 'input', uri }).schemas as Record<string, Record<string, unknown>>),
    ...strip(z.toJSONSchema(responses, { io: 'output', uri }).schemas as Record<string, Record<string, unknown>>),
  };
}

const headers = {
  RequestId: {
    description: 'A UUID the edge generated for this request (never the caller’s); 5xx messages name it, and the edge log has the detail under it.',
    required: true,
    schema: { type: 'string', format: 'uuid' },
  },
  RetryAfter: { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 1 } },
};
const requestIdHeader = { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } };
const retryAfterHeader = { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } };

/** What each error code means, as the descriptions of the responses that carry it say. */
const WHEN: Record<ApiErrorCode, string> = {
  bad_request: '`bad_request`: a field is wrong; `field` is its dotted path (unknown fields included)',
  invalid_json: '`invalid_json`: the body does not parse',
  unauthorized: '`unauthorized`: no key (where one is needed), a malformed Authorization header, or an unknown key',
  forbidden: '`forbidden`: the key lacks the route’s scope',
  not_found: '`not_found`: no such route',
  payload_too_large: '`payload_too_large`: the body is larger than any valid request to the route can be, or a context is larger than its limits (the message names the limit)',
  unsupported_media_type: '`unsupported_media_type`: the body is not sent as application/json',
  rate_limited: '`rate_limited`: the caller’s bucket is empty (a batch costs one token per query)',
  internal: '`internal`: a bug, or the edge’s configuration is invalid',
  bad_gateway: '`bad_gateway`: the pool refused the edge’s frame, or its answer could not be authenticated',
  pool_unavailable: '`pool_unavailable`: every pool router’s circuit is open (answered at once), or none answered, or all were overloaded',
  deadline_exceeded: '`deadline_exceeded`: the pool did not answer within the deadline',
};

/** Statuses whose errors always carry Retry-After. */
const RETRY_AFTER = new Set([429, 503]);

/** The error responses of `codes`, one per status, each with the exact code enum of that status. */
function errors(...codes: ApiErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of codes) byStatus.set(API_ERRORS[code], [...(byStatus.get(API_ERRORS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: list.map((c) => WHEN[c]).join('; '),
        headers: { ...requestIdHeader, ...(RETRY_AFTER.has(status) ? retryAfterHeader : {}) },
        content: {
          'application/json': {
            schema: { allOf: [ref('Error'), { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: list } } } } }] },
          },
        },
      },
    ]),
  );
}

const json = (schema: unknown, description: string, extraHeaders: Record<string, unknown> = {}) => ({
  description,
  headers: { ...requestIdHeader, ...extraHeaders },
  content: { 'application/json': { schema } },
});

// Generating the schemas costs a millisecond or two; an isolate serves few distinct variants.
const documents = new Map<string, ReturnType<typeof buildDocument>>();

export function openApiDocument(opts: OpenApiOptions): ReturnType<typeof buildDocument> {
  const key = `${opts.maxBatchQueries} ${opts.publicMode} ${opts.origin ?? ''}`;
  let doc = documents.get(key);
  if (!doc) {
    if (documents.size >= 16) documents.clear();
    documents.set(key, (doc = buildDocument(opts)));
  }
  return doc;
}

/** A path parameter. */
const pathParam = (name: string, schema: Record<string, unknown>, description: string) => ({ name, in: 'path', required: true, description, schema });
const conversationId = pathParam('id', { type: 'string', pattern: '^c_[A-Za-z0-9_-]{32}$' }, 'The conversation id (from POST /v1/conversations).');
const turnNumber = pathParam('n', { type: 'integer', minimum: 1 }, 'The turn number (1 for the first).');

function buildDocument(opts: OpenApiOptions) {
  const searchLimit = searchBodyLimit();
  const batchLimit = batchBodyLimit(opts.maxBatchQueries);
  // Keyless searches in public mode: a bearer key, or none at all.
  const searchSecurity = opts.publicMode ? [{ apiKey: [] }, {}] : [{ apiKey: [] }];
  const searchErrors = (limit: number) => ({
    ...errors('bad_request', 'invalid_json', 'unauthorized', 'forbidden', 'payload_too_large', 'unsupported_media_type', 'rate_limited', 'internal'),
    '413': { ...(errors('payload_too_large')['413'] as object), description: `${WHEN.payload_too_large}: more than ${limit} bytes` },
  });
  const adminErrors = errors('unauthorized', 'forbidden', 'internal');
  const conversationNotFound = {
    '404': { ...(errors('not_found')['404'] as object), description: '`not_found`: no such conversation (never created, deleted, expired after its idle TTL, or another key’s: the same answer), or no such turn' },
  };
  const conversationSizes =
    'the size limits of a stored conversation (CONVERSATION_MAX_TURNS turns, CONVERSATION_MAX_TURN_BYTES bytes a turn, CONVERSATION_MAX_BYTES all turns; the message names the limit), or a body larger than any valid request to the route can be';
  // Every call of a conversation is a search-scoped call and costs one rate-limit token.
  const conversationErrors = {
    ...errors('unauthorized', 'forbidden', 'rate_limited', 'internal'),
    ...conversationNotFound,
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'edgesearch',
      version: '1',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description: [
        'Neural and keyword search with evidence passages.',
        `Send \`Authorization: Bearer <key>\`; keys have scopes (search, admin).${opts.publicMode ? ' This edge runs in public mode: searches without a key are admitted, rate-limited per client address.' : ''}`,
        'Errors are `{error: {code, message, field?}}`: `field` is the dotted path of the field at fault whenever one is (unknown fields included); 4xx messages say precisely what was wrong, 5xx messages are generic and name the request id. 429 and 503 errors carry Retry-After. Every response carries `X-Request-Id`. A path or method not listed here answers 404 `not_found`, except `/mcp`: the Model Context Protocol endpoint (JSON-RPC over Streamable HTTP; keyed and rate-limited as the searches are), which MCP describes rather than this document.',
        `Query length is counted in Unicode characters (code points): at most ${MAX_QUERY_CHARS}, as sent and after normalization. A query's \`context\` (previous turns) holds at most ${MAX_CONTEXT_TURNS} turns and ${MAX_CONTEXT_CHARS} characters of queries and responses together, a response at most ${MAX_RESPONSE_CHARS}; past these limits it is a 413 naming the limit. Body limits follow from these limits, so a request whose fields are all valid is never refused for its size: ${searchLimit} bytes for a search, ${batchLimit} for a batch of ${opts.maxBatchQueries} (each query's text at ${MAX_QUERY_CHARS} characters and its context at ${MAX_CONTEXT_CHARS}, each character at most 12 bytes in JSON, plus room for the other fields).`,
        'Stored conversations (/v1/conversations) keep the history at the edge: each turn searches with the turns before it as its context and is stored only when the search succeeds; turns sent together are stored one after another, in the order they arrived. A conversation belongs to the key that created it (keyless callers in public mode share the id as its capability); it is erased after an idle TTL. Every call costs one rate-limit token.',
        '`cache: false` bypasses the cache and the coalescing of identical requests, so every such request reaches the pool.',
        'The /v1 routes answer CORS requests from the configured origins; /openapi.json from any origin.',
      ].join('\n\n'),
    },
    servers: [{ url: opts.origin ?? '/' }],
    components: {
      schemas: schemas(opts.maxBatchQueries),
      headers,
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key issued with `edgesearch edge keygen`.' } },
      // Not used by a listed route: what every other path or method answers.
      responses: { NotFound: errors('not_found')['404'] },
    },
    security: [{ apiKey: [] }],
    paths: {
      '/': {
        get: {
          operationId: 'demoPage',
          summary: 'The demo page',
          security: [],
          responses: {
            '200': { description: 'An HTML page that searches this edge.', headers: requestIdHeader, content: { 'text/html': { schema: { type: 'string' } } } },
            ...errors('internal'),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          security: [],
          responses: {
            '200': json({ type: 'object' }, 'The OpenAPI 3.1 document of this edge (CORS: any origin).'),
            ...errors('internal'),
          },
        },
      },
      '/v1/search': {
        post: {
          operationId: 'search',
          summary: 'Search: top-k passages for one query',
          security: searchSecurity,
          requestBody: { required: true, content: { 'application/json': { schema: ref('SearchRequest') } } },
          responses: {
            '200': json(ref('SearchResponse'), 'The hits, best first.'),
            ...searchErrors(searchLimit),
            '400': { ...(errors('bad_request', 'invalid_json')['400'] as object), description: `${WHEN.bad_request}, or the index cannot answer the query’s \`mode\` or \`rerank\` (colbert on an index built without --method colbert: \`field\` names which, the message names the index); ${WHEN.invalid_json}` },
            ...errors('bad_gateway', 'pool_unavailable', 'deadline_exceeded'),
          },
        },
      },
      '/v1/search/batch': {
        post: {
          operationId: 'searchBatch',
          summary: `Search several queries at once (at most ${opts.maxBatchQueries}); each costs one rate-limit token`,
          description: 'Pool failures, and queries the index cannot answer (bad_request: a mode or rerank it lacks the data for), are reported per query in the results; the request itself still succeeds.',
          security: searchSecurity,
          requestBody: { required: true, content: { 'application/json': { schema: ref('BatchRequest') } } },
          responses: {
            '200': json(ref('BatchResponse'), 'One entry per query, in order.'),
            ...searchErrors(batchLimit),
          },
        },
      },
      '/v1/conversations': {
        post: {
          operationId: 'createConversation',
          summary: 'Start a stored conversation (no body); it belongs to the calling key',
          security: searchSecurity,
          responses: {
            '201': json(ref('Conversation'), 'The new, empty conversation: its id, limits and expiry.'),
            ...errors('unauthorized', 'forbidden', 'payload_too_large', 'rate_limited', 'internal'),
          },
        },
      },
      '/v1/conversations/{id}': {
        get: {
          operationId: 'getConversation',
          parameters: [conversationId],
          summary: 'The stored turns (a call: the idle TTL starts again)',
          security: searchSecurity,
          responses: {
            '200': json(ref('Conversation'), 'The conversation and its turns, oldest first.'),
            ...conversationErrors,
          },
        },
        delete: {
          operationId: 'deleteConversation',
          parameters: [conversationId],
          summary: 'Erase the conversation (404 afterwards)',
          security: searchSecurity,
          responses: {
            '204': { description: 'Erased.', headers: requestIdHeader },
            ...conversationErrors,
          },
        },
      },
      '/v1/conversations/{id}/search': {
        post: {
          operationId: 'conversationSearch',
          parameters: [conversationId],
          summary: 'Search the next turn with the stored turns as its context, and store it (with the best passage as its response when `record` is "top")',
          description:
            'The answer is the one POST /v1/search gives with the stored turns as `context` (the same cache entry). The turn is stored only when the search succeeds; turns of one conversation sent together are searched and stored one after another, in the order they arrived, each with exactly the turns stored before it.',
          security: searchSecurity,
          requestBody: { required: true, content: { 'application/json': { schema: ref('ConversationSearchRequest') } } },
          responses: {
            '200': json(ref('ConversationSearchResponse'), 'The hits, best first, and the number the turn was stored as.'),
            ...searchErrors(searchLimit),
            '400': { ...(errors('bad_request', 'invalid_json')['400'] as object), description: `${WHEN.bad_request} (\`context\` among them: the conversation's history is its context), or the index cannot answer the query’s \`mode\` or \`rerank\`; ${WHEN.invalid_json}` },
            '413': { ...(errors('payload_too_large')['413'] as object), description: `\`payload_too_large\`: ${conversationSizes} (more than ${searchLimit} bytes)` },
            ...conversationNotFound,
            ...errors('bad_gateway', 'pool_unavailable', 'deadline_exceeded'),
          },
        },
      },
      '/v1/conversations/{id}/turns/{n}/response': {
        put: {
          operationId: 'recordResponse',
          parameters: [conversationId, turnNumber],
          summary: 'Record what was answered to turn n (replacing a response recorded before); later turns read it under params.policy "concat+responses"',
          security: searchSecurity,
          requestBody: { required: true, content: { 'application/json': { schema: ref('RecordResponseRequest') } } },
          responses: {
            '200': json(ref('StoredTurn'), 'The turn as stored.'),
            ...searchErrors(searchLimit),
            '413': { ...(errors('payload_too_large')['413'] as object), description: `\`payload_too_large\`: a response longer than ${MAX_RESPONSE_CHARS} characters (MAX_RESPONSE_CHARS), ${conversationSizes} (more than ${searchLimit} bytes)` },
            ...conversationNotFound,
          },
        },
      },
      '/v1/health': {
        get: {
          operationId: 'health',
          summary: 'Edge and pool status, and the index version last served',
          security: [],
          responses: {
            '200': json(ref('Health'), 'At least one pool router is ready.'),
            '503': json(ref('Health'), 'No pool router is ready.'),
            ...errors('internal'),
          },
        },
      },
      '/v1/admin/health': {
        get: {
          operationId: 'adminHealth',
          summary: 'Health with every pool router: URL, weight, region, circuit state, readiness and why not ready (scope admin)',
          responses: {
            '200': json(ref('AdminHealth'), 'At least one pool router is ready.'),
            '503': json(ref('AdminHealth'), 'No pool router is ready.'),
            ...adminErrors,
          },
        },
      },
      '/v1/admin/stats': {
        get: {
          operationId: 'adminStats',
          summary: 'This isolate’s counters: circuit states, frames and queries sent, coalesced requests, last index version (scope admin)',
          responses: {
            '200': json(ref('AdminStats'), 'The counters.'),
            ...adminErrors,
          },
        },
      },
    },
  };
}
