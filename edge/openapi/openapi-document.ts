// /openapi.json, generated from the same zod schemas the edge validates with (request bodies as
// the client sends them, responses as the edge writes them).
import { z } from 'zod';
import { API_ERRORS, AdminHealthResponse, BatchResponse, ErrorBody, HealthResponse, Hit, SearchRequest, SearchResponse, batchRequestSchema } from '../../shared/api/index.ts';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const uri = (id: string) => `#/components/schemas/${id}`;

function schemas(maxBatchQueries: number): Record<string, unknown> {
  const requests = z.registry<{ id: string }>();
  requests.add(SearchRequest, { id: 'SearchRequest' });
  requests.add(batchRequestSchema(maxBatchQueries), { id: 'BatchRequest' });
  const responses = z.registry<{ id: string }>();
  responses.add(Hit, { id: 'Hit' });
  responses.add(SearchResponse, { id: 'SearchResponse' });
  responses.add(BatchResponse, { id: 'BatchResponse' });
  responses.add(ErrorBody, { id: 'Error' });
  responses.add(HealthResponse, { id: 'Health' });
  responses.add(AdminHealthResponse, { id: 'AdminHealth' });
  const strip = (defs: Record<string, Record<string, unknown>>) =>
    Object.fromEntries(Object.entries(defs).map(([id, { $schema: _, $id: __, ...schema }]) => [id, schema]));
  return {
    ...strip(z.toJSONSchema(requests, { io: 'input', uri }).schemas as Record<string, Record<string, unknown>>),
    ...strip(z.toJSONSchema(responses, { io: 'output', uri }).schemas as Record<string, Record<string, unknown>>),
  };
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });

function errors(...codes: (keyof typeof API_ERRORS)[]) {
  const byStatus = new Map<number, string[]>();
  for (const code of codes) byStatus.set(API_ERRORS[code], [...(byStatus.get(API_ERRORS[code]) ?? []), code]);
  return Object.fromEntries([...byStatus].map(([status, list]) => [String(status), errorResponse(list.join(', '))]));
}

const searchErrors = errors('bad_request', 'invalid_json', 'unauthorized', 'forbidden', 'payload_too_large', 'unsupported_media_type', 'rate_limited', 'bad_gateway', 'pool_unavailable', 'deadline_exceeded');

// Generating the schemas costs a millisecond or two; an isolate serves few distinct variants.
const documents = new Map<string, ReturnType<typeof buildDocument>>();

/** `origin`: the configured PUBLIC_ORIGIN; without it the server is relative (`/`), never the request's Host. */
export function openApiDocument(opts: { maxBatchQueries: number; origin?: string }): ReturnType<typeof buildDocument> {
  const key = `${opts.maxBatchQueries} ${opts.origin ?? ''}`;
  let doc = documents.get(key);
  if (!doc) {
    if (documents.size >= 16) documents.clear();
    documents.set(key, (doc = buildDocument(opts)));
  }
  return doc;
}

function buildDocument(opts: { maxBatchQueries: number; origin?: string }) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'edgesearch',
      version: '1',
      description:
        'Neural and keyword search with evidence passages. Send `Authorization: Bearer <key>`; keys have scopes (search, admin). ' +
        'Errors are `{error: {code, message, field?}}`; 429 and 503 carry Retry-After. Every response carries `X-Request-Id`; ' +
        'a 5xx message is generic and names it (the detail is in the edge log under that id).',
    },
    servers: [{ url: opts.origin ?? '/' }],
    components: {
      schemas: schemas(opts.maxBatchQueries),
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key issued with `edgesearch edge keygen`.' } },
    },
    security: [{ apiKey: [] }],
    paths: {
      '/v1/search': {
        post: {
          operationId: 'search',
          summary: 'Search: top-k passages for one query',
          requestBody: { required: true, content: { 'application/json': { schema: ref('SearchRequest') } } },
          responses: { '200': { description: 'The hits, best first.', content: { 'application/json': { schema: ref('SearchResponse') } } }, ...searchErrors },
        },
      },
      '/v1/search/batch': {
        post: {
          operationId: 'searchBatch',
          summary: `Search several queries at once (at most ${opts.maxBatchQueries}); each costs one rate-limit token`,
          requestBody: { required: true, content: { 'application/json': { schema: ref('BatchRequest') } } },
          responses: { '200': { description: 'One entry per query, in order.', content: { 'application/json': { schema: ref('BatchResponse') } } }, ...searchErrors },
        },
      },
      '/v1/health': {
        get: {
          operationId: 'health',
          summary: 'Edge and pool status, and the index version last served',
          security: [],
          responses: {
            '200': { description: 'At least one pool endpoint is ready.', content: { 'application/json': { schema: ref('Health') } } },
            '503': { description: 'No pool endpoint is ready.', content: { 'application/json': { schema: ref('Health') } } },
          },
        },
      },
      '/v1/admin/health': {
        get: {
          operationId: 'adminHealth',
          summary: 'Health with every pool router: URL, weight, region, circuit state, readiness and why not ready (scope admin)',
          responses: {
            '200': { description: 'At least one pool endpoint is ready.', content: { 'application/json': { schema: ref('AdminHealth') } } },
            '503': { description: 'No pool endpoint is ready.', content: { 'application/json': { schema: ref('AdminHealth') } } },
            ...errors('unauthorized', 'forbidden'),
          },
        },
      },
    },
  };
}
