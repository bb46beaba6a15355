// The generated OpenAPI document: valid for two independent validators, and exact — the request
// schemas accept and refuse what the edge's own validation does (the same bodies through zod and
// through ajv on the document), every route lists every status it can answer with its error codes
// and headers, and the limits named are the ones enforced.
import SwaggerParser from '@apidevtools/swagger-parser';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import {
  API_ERRORS,
  ConversationSearchRequest,
  MAX_CONTEXT_CHARS,
  MAX_CONTEXT_TURNS,
  MAX_K,
  MAX_QUERY_CHARS,
  MAX_RESPONSE_CHARS,
  RecordResponseRequest,
  SearchRequest,
  batchBodyLimit,
  batchRequestSchema,
  parseRequest,
  searchBodyLimit,
} from '../../shared/api/index.ts';
import { OpenApiChecker } from '../../test/edge/openapi-check.ts';
import { openApiDocument } from './openapi-document.ts';

const doc = (publicMode = false, maxBatchQueries = 32) => structuredClone(openApiDocument({ maxBatchQueries, publicMode })) as Record<string, any>;

describe('the OpenAPI document', () => {
  it.each([false, true])('is valid for swagger-parser and for openapi-schema-validator (public mode %s)', async (publicMode) => {
    // swagger-parser dereferences in place: each validator gets its own copy.
    await expect(SwaggerParser.validate(doc(publicMode) as never)).resolves.toBeDefined();
    const validator = new Validator();
    const res = await validator.validate(doc(publicMode));
    expect(res.errors ?? [], JSON.stringify(res.errors)).toEqual([]);
    expect(res.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('names its license, and security: a bearer key, or none for searches in public mode', () => {
    expect(doc().info.license).toEqual({ name: 'Apache-2.0', identifier: 'Apache-2.0' });
    expect(doc(false).paths['/v1/search'].post.security).toEqual([{ apiKey: [] }]);
    expect(doc(true).paths['/v1/search'].post.security).toEqual([{ apiKey: [] }, {}]);
    expect(doc(true).paths['/v1/search/batch'].post.security).toEqual([{ apiKey: [] }, {}]);
    for (const path of ['/v1/admin/health', '/v1/admin/stats']) expect(doc(true).paths[path].get.security, path).toBeUndefined(); // the document's default: a key
    for (const path of ['/', '/openapi.json', '/v1/health']) expect(doc(true).paths[path].get.security, path).toEqual([]);
  });

  it('lists every status each route can answer, the codes of each, and their headers', () => {
    const d = doc();
    const statuses = (path: string, method: string) => Object.keys(d.paths[path][method].responses).sort();
    expect(statuses('/v1/search', 'post')).toEqual(['200', '400', '401', '403', '413', '415', '429', '500', '502', '503', '504']);
    expect(statuses('/v1/search/batch', 'post')).toEqual(['200', '400', '401', '403', '413', '415', '429', '500']);
    expect(statuses('/v1/health', 'get')).toEqual(['200', '500', '503']);
    expect(statuses('/v1/admin/health', 'get')).toEqual(['200', '401', '403', '500', '503']);
    expect(statuses('/v1/admin/stats', 'get')).toEqual(['200', '401', '403', '500']);
    expect(statuses('/openapi.json', 'get')).toEqual(['200', '500']);
    expect(statuses('/', 'get')).toEqual(['200', '500']);
    expect(statuses('/v1/conversations', 'post')).toEqual(['201', '401', '403', '413', '429', '500']);
    expect(statuses('/v1/conversations/{id}', 'get')).toEqual(['200', '401', '403', '404', '429', '500']);
    expect(statuses('/v1/conversations/{id}', 'delete')).toEqual(['204', '401', '403', '404', '429', '500']);
    expect(statuses('/v1/conversations/{id}/search', 'post')).toEqual(['200', '400', '401', '403', '404', '413', '415', '429', '500', '502', '503', '504']);
    expect(statuses('/v1/conversations/{id}/turns/{n}/response', 'put')).toEqual(['200', '400', '401', '403', '404', '413', '415', '429', '500']);
    for (const [path, method] of [['/v1/conversations', 'post'], ['/v1/conversations/{id}', 'get'], ['/v1/conversations/{id}/search', 'post']]) {
      expect(d.paths[path][method].security, path).toEqual([{ apiKey: [] }]);
      expect(doc(true).paths[path][method].security, path).toEqual([{ apiKey: [] }, {}]);
    }
    expect(d.paths['/v1/conversations/{id}/turns/{n}/response'].put.parameters.map((p: { name: string }) => p.name)).toEqual(['id', 'n']);
    expect(d.components.schemas.Error.properties.error.properties.code.enum).toEqual(Object.keys(API_ERRORS));
    const search = d.paths['/v1/search'].post.responses;
    expect(search['400'].content['application/json'].schema.allOf[1].properties.error.properties.code.enum).toEqual(['bad_request', 'invalid_json']);
    expect(search['503'].content['application/json'].schema.allOf[1].properties.error.properties.code.enum).toEqual(['pool_unavailable']);
    for (const [path, item] of Object.entries<any>(d.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        for (const [status, response] of Object.entries<any>(op.responses)) {
          const where = `${method} ${path} ${status}`;
          expect(response.headers?.['X-Request-Id'], where).toEqual({ $ref: '#/components/headers/RequestId' });
          if (status === '429' || (status === '503' && path.endsWith('/search'))) expect(response.headers['Retry-After'], where).toBeDefined();
          // Each error status names the codes it is sent with, and those codes have that status.
          const codes = response.content?.['application/json']?.schema?.allOf?.[1]?.properties.error.properties.code.enum as (keyof typeof API_ERRORS)[] | undefined;
          if (Number(status) >= 400 && !(status === '503' && path.includes('health'))) {
            expect(codes, where).toBeDefined();
            for (const code of codes!) expect(API_ERRORS[code], `${where} ${code}`).toBe(Number(status));
          }
        }
      }
    }
    expect(d.components.responses.NotFound.content['application/json'].schema.allOf[1].properties.error.properties.code.enum).toEqual(['not_found']);
  });

  it('states the limits the edge enforces, from the same constants', () => {
    const d = doc(false, 7);
    const req = d.components.schemas.SearchRequest.properties;
    expect(req.query).toMatchObject({ type: 'string', minLength: 1, maxLength: MAX_QUERY_CHARS, pattern: '\\S' });
    expect(req.k).toMatchObject({ type: 'integer', minimum: 1, maximum: MAX_K, default: 10 });
    expect(req.mode.enum).toEqual(['dense', 'bm25', 'hybrid', 'colbert', 'phrase', 'conversational']);
    expect(req.mode.description).toMatch(/conversational \(ConvDR/);
    expect(req.context).toMatchObject({ type: 'array', maxItems: MAX_CONTEXT_TURNS, items: { type: 'object', additionalProperties: false, required: ['query'] } });
    expect(req.context.items.properties.query).toMatchObject({ type: 'string', minLength: 1, maxLength: MAX_QUERY_CHARS, pattern: '\\S' });
    expect(req.context.items.properties.response).toMatchObject({ type: 'string', maxLength: MAX_RESPONSE_CHARS });
    expect(req.context.description).toContain(`${MAX_CONTEXT_CHARS} characters of queries and responses together (MAX_CONTEXT_CHARS)`);
    expect(req.params.properties.policy).toMatchObject({ type: 'string', pattern: expect.stringContaining('concat') });
    const conv = d.components.schemas.ConversationSearchRequest;
    expect(conv.additionalProperties).toBe(false);
    expect(conv.properties.context).toBeUndefined();
    expect(conv.properties.record).toMatchObject({ enum: ['top'] });
    expect(d.components.schemas.ConversationSearchResponse.required).toEqual(expect.arrayContaining(['conversation', 'turn', 'hits']));
    expect(d.components.schemas.RecordResponseRequest.properties.response).toMatchObject({ type: 'string', maxLength: MAX_RESPONSE_CHARS });
    expect(req.mode.description).toMatch(/colbert \(late interaction.*--method colbert/);
    expect(req.mode.description).toMatch(/phrase \(DensePhrases.*--method phrase/);
    expect(req.rerank).toMatchObject({ type: 'object', additionalProperties: false, required: ['method'] });
    expect(req.rerank.properties).toMatchObject({
      method: { enum: ['colbert'] },
      depth: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
      fuse: { type: 'boolean', default: false },
      weight: { type: 'number', minimum: 0, maximum: 1 },
    });
    expect(req.params.properties.candidates).toMatchObject({ type: 'integer', minimum: 1 });
    expect(req.params.description).toMatch(/candidates \(colbert/);
    expect(Object.keys(d.components.schemas.Hit.properties.branches.properties)).toEqual(['dense', 'bm25', 'first', 'rerank']);
    expect(req.params.additionalProperties).toBe(false);
    expect(req.params.not).toBeDefined(); // both fusion weights 0
    expect(d.components.schemas.SearchRequest.additionalProperties).toBe(false);
    expect(d.components.schemas.BatchRequest.properties.queries).toMatchObject({ minItems: 1, maxItems: 7 });
    expect(d.info.description).toContain(`${searchBodyLimit()} bytes for a search, ${batchBodyLimit(7)} for a batch of 7`);
    expect(d.components.schemas.Timings.properties.poolAttempts).toMatchObject({ type: 'integer', minimum: 1 });
    expect(d.components.schemas.SearchRequest.properties.cache.description).toMatch(/coalescing/);
  });

  it('accepts and refuses exactly the request bodies the edge does', () => {
    const checker = new OpenApiChecker(doc(false, 3));
    const single = checker.requestSchema('POST', '/v1/search');
    const batch = checker.requestSchema('POST', '/v1/search/batch');
    const cjk = '検'.repeat(MAX_QUERY_CHARS);
    const emoji = '😀'.repeat(MAX_QUERY_CHARS); // 2,048 UTF-16 code units, 1,024 characters
    const bodies: unknown[] = [
      { query: 'x' },
      { query: cjk },
      { query: `${cjk}検` },
      { query: emoji },
      { query: `${emoji}😀` },
      { query: '' },
      { query: ' \n\t ' },
      { query: ' a ' },
      { query: 3 },
      {},
      [],
      'query',
      null,
      { query: 'x', mode: 'dense' },
      { query: 'x', mode: 'sparse' },
      { query: 'x', k: 0 },
      { query: 'x', k: 1 },
      { query: 'x', k: MAX_K },
      { query: 'x', k: MAX_K + 1 },
      { query: 'x', k: 2.5 },
      { query: 'x', k: '5' },
      { query: 'x', cache: false },
      { query: 'x', cache: 'no' },
      { query: 'x', nprobe: 3 },
      { query: 'x', params: {} },
      { query: 'x', params: { nprobe: 0 } },
      { query: 'x', params: { nprobe: 65536, efSearch: 1, windowFactor: 64, rrfK: 0, depth: 10000, k1: 10, b: 1 } },
      { query: 'x', params: { b: 1.5 } },
      { query: 'x', params: { bogus: 1 } },
      { query: 'x', params: { weights: { dense: 0, bm25: 0 } } },
      { query: 'x', params: { weights: { dense: 0 } } },
      { query: 'x', params: { weights: { bm25: 0 } } },
      { query: 'x', params: { weights: { dense: 0, bm25: 0.001 } } },
      { query: 'x', params: { weights: {} } },
      { query: 'x', params: { weights: { dense: 101 } } },
      { query: 'x', params: { weights: { bm_25: 1 } } },
      { query: 'x', mode: 'colbert' },
      { query: 'x', mode: 'colbert', params: { candidates: 10000 } },
      { query: 'x', params: { candidates: 0 } },
      { query: 'x', rerank: { method: 'colbert' } },
      { query: 'x', rerank: { method: 'colbert', depth: 1, fuse: true, weight: 1 } },
      { query: 'x', rerank: { method: 'colbert', depth: 1000, fuse: false, weight: 0 } },
      { query: 'x', rerank: {} },
      { query: 'x', rerank: { method: 'bm25' } },
      { query: 'x', rerank: { method: 'colbert', depth: 0 } },
      { query: 'x', rerank: { method: 'colbert', depth: 1001 } },
      { query: 'x', rerank: { method: 'colbert', depth: 2.5 } },
      { query: 'x', rerank: { method: 'colbert', fuse: 'yes' } },
      { query: 'x', rerank: { method: 'colbert', weight: -0.1 } },
      { query: 'x', rerank: { method: 'colbert', weight: 1.01 } },
      { query: 'x', rerank: { method: 'colbert', wieght: 0.5 } },
      { query: 'x', rerank: 'colbert' },
      { query: 'x', rerank: null },
      { query: 'x', context: [] },
      { query: 'x', context: [{ query: 'a' }, { query: 'b', response: 'r' }] },
      { query: 'x', context: [{ query: 'a', response: '' }] },
      { query: 'x', context: [{ query: '' }] },
      { query: 'x', context: [{ query: ' \t' }] },
      { query: 'x', context: [{ response: 'r' }] },
      { query: 'x', context: [{ query: 'a', extra: 1 }] },
      { query: 'x', context: [{ query: cjk }] },
      { query: 'x', context: [{ query: `${cjk}検` }] },
      { query: 'x', context: [{ query: 'a', response: '😀'.repeat(MAX_RESPONSE_CHARS) }] },
      { query: 'x', context: [{ query: 'a', response: 'r'.repeat(MAX_RESPONSE_CHARS + 1) }] },
      { query: 'x', context: [{ query: 'a', response: 3 }] },
      { query: 'x', context: Array(MAX_CONTEXT_TURNS).fill({ query: 'a' }) },
      { query: 'x', context: Array(MAX_CONTEXT_TURNS + 1).fill({ query: 'a' }) },
      { query: 'x', context: { query: 'a' } },
      { query: 'x', params: { policy: 'concat+responses' } },
      { query: 'x', params: { policy: 'window:3' } },
      { query: 'x', params: { policy: 'window:0' } },
      { query: 'x', params: { policy: 'last' } },
      { query: 'x', mode: 'conversational' },
      { query: 'x', mode: 'conversational', context: [{ query: 'a' }] },
      { query: 'x', mode: 'conversational', params: { policy: 'concat' } },
      { query: 'x', mode: 'conversational', params: { nprobe: 4 } },
      { query: 'x', mode: 'dense', params: { policy: 'concat' } },
    ];
    for (const body of bodies) {
      const zodOk = accepts(SearchRequest, body);
      expect(single(body), `${JSON.stringify(body).slice(0, 80)}: zod ${zodOk}, document ${!zodOk}`).toBe(zodOk);
    }
    const schema = batchRequestSchema(3);
    const batches: unknown[] = [{ queries: [] }, { queries: [{ query: 'a' }] }, { queries: Array(3).fill({ query: cjk }) }, { queries: Array(4).fill({ query: 'a' }) }, { queries: [{ query: 'a' }, { query: 'b', k: 500 }] }, { queries: [{ query: 'a' }], extra: 1 }, { queries: 'a' }, { queries: [{ query: 'a', mode: 'colbert' }, { query: 'b', rerank: { method: 'colbert', fuse: true } }] }, { queries: [{ query: 'a' }, { query: 'b', rerank: { method: 'colbert', depth: 5000 } }] }];
    for (const body of batches) expect(batch(body), JSON.stringify(body).slice(0, 80)).toBe(accepts(schema, body));
    // The one limit JSON Schema cannot state (MAX_CONTEXT_CHARS, in the description): documented, not checked by the document.
    expect(single({ query: 'x', context: Array(5).fill({ query: 'a', response: 'r'.repeat(4000) }) })).toBe(true);
    expect(accepts(SearchRequest, { query: 'x', context: Array(5).fill({ query: 'a', response: 'r'.repeat(4000) }) })).toBe(false);
    const turn = checker.requestSchema('POST', '/v1/conversations/{id}/search');
    for (const body of [
      { query: 'x' },
      { query: 'x', record: 'top' },
      { query: 'x', record: 'all' },
      { query: 'x', context: [] },
      { query: '' },
      { query: 'x', mode: 'bm25', params: { policy: 'first' } },
      { query: 'x', mode: 'conversational', params: { policy: 'first' } },
      { query: 'x', mode: 'conversational', record: 'top' },
    ]) {
      expect(turn(body), JSON.stringify(body)).toBe(accepts(ConversationSearchRequest, body));
    }
    const put = checker.requestSchema('PUT', '/v1/conversations/{id}/turns/{n}/response');
    for (const body of [{ response: 'x' }, { response: '' }, { response: 'r'.repeat(MAX_RESPONSE_CHARS + 1) }, {}, { response: 'x', extra: 1 }, { response: 3 }]) {
      expect(put(body), JSON.stringify(body)).toBe(accepts(RecordResponseRequest, body));
    }
  });
});

function accepts(schema: Parameters<typeof parseRequest>[0], body: unknown): boolean {
  try {
    parseRequest(schema, body);
    return true;
  } catch {
    return false;
  }
}
