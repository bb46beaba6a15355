// One error style for every bad request: `field` is the dotted path of the field at fault
// (unknown keys included), the message is in the API's words whoever wrote the check, and what
// the pool cannot rank with (both fusion weights 0) is refused before it gets there. Also the
// limits: query length in code points, and a body limit no valid batch can exceed.
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.ts';
import { DEFAULT_MAX_BATCH_QUERIES, MAX_CONTEXT_CHARS, MAX_CONTEXT_TURNS, MAX_QUERY_CHARS, MAX_RESPONSE_CHARS, batchBodyLimit, searchBodyLimit } from './limits.ts';
import { ConversationSearchRequest, RecordResponseRequest, SearchRequest, batchRequestSchema, charCount } from './schemas.ts';
import { parseRequest } from './validation.ts';

function refusal(schema: Parameters<typeof parseRequest>[0], body: unknown): { code: string; field?: string; message: string } {
  try {
    parseRequest(schema, body);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    return { code: e.code, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}) };
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

const bad = (field: string, message: string) => ({ code: 'bad_request', field, message: `${field}: ${message}` });

describe('request validation errors', () => {
  it.each<[unknown, ReturnType<typeof bad>]>([
    [{ query: 'x', nprobe: 3 }, bad('nprobe', 'is not a known field')],
    [{ query: 'x', params: { bogus: 1 } }, bad('params.bogus', 'is not a known field')],
    [{ query: 'x', params: { weights: { bm_25: 1 } } }, bad('params.weights.bm_25', 'is not a known field')],
    [{ k: 3 }, bad('query', 'is required')],
    [{ query: 3 }, bad('query', 'must be a string')],
    [{ query: '' }, bad('query', 'must not be empty (or only whitespace)')],
    [{ query: ' \t\n' }, bad('query', 'must not be empty (or only whitespace)')],
    [{ query: 'a'.repeat(MAX_QUERY_CHARS + 1) }, bad('query', `must be at most ${MAX_QUERY_CHARS} characters`)],
    [{ query: 'x', k: 0 }, bad('k', 'must be at least 1')],
    [{ query: 'x', k: 101 }, bad('k', 'must be at most 100')],
    [{ query: 'x', k: 2.5 }, bad('k', 'must be an integer')],
    [{ query: 'x', k: '5' }, bad('k', 'must be a number')],
    [{ query: 'x', mode: 'sparse' }, bad('mode', 'must be one of "dense", "bm25", "hybrid", "colbert", "phrase", "conversational"')],
    [{ query: 'x', mode: 'phrase', params: { unit: 'paragraph' } }, bad('params.unit', 'must be one of "phrase", "sentence", "passage", "document"')],
    [{ query: 'x', cache: 'no' }, bad('cache', 'must be true or false')],
    // zod's own wording was "Too small: expected number to be >=1" here (the pool's schema).
    [{ query: 'x', params: { nprobe: 0 } }, bad('params.nprobe', 'must be at least 1')],
    [{ query: 'x', params: { b: 1.5 } }, bad('params.b', 'must be at most 1')],
    [{ query: 'x', params: 'fast' }, bad('params', 'must be an object')],
    [{ query: 'x', params: { weights: { dense: 0, bm25: 0 } } }, bad('params.weights', 'the fusion weights must not add up to 0 (an omitted weight counts as 1)')],
    [{ query: 'x', params: { candidates: 0 } }, bad('params.candidates', 'must be at least 1')],
    // rerank: the wire's RerankParams, with its bounds, and as strict.
    [{ query: 'x', rerank: {} }, bad('rerank.method', 'is required')],
    [{ query: 'x', rerank: { method: 'bm25' } }, bad('rerank.method', 'must be "colbert"')],
    [{ query: 'x', rerank: { method: 'colbert', depth: 0 } }, bad('rerank.depth', 'must be at least 1')],
    [{ query: 'x', rerank: { method: 'colbert', depth: 1001 } }, bad('rerank.depth', 'must be at most 1000')],
    [{ query: 'x', rerank: { method: 'colbert', depth: 2.5 } }, bad('rerank.depth', 'must be an integer')],
    [{ query: 'x', rerank: { method: 'colbert', fuse: 'yes' } }, bad('rerank.fuse', 'must be true or false')],
    [{ query: 'x', rerank: { method: 'colbert', fuse: true, weight: 1.5 } }, bad('rerank.weight', 'must be at most 1')],
    [{ query: 'x', rerank: { method: 'colbert', wieght: 0.5 } }, bad('rerank.wieght', 'is not a known field')],
    [{ query: 'x', rerank: 'colbert' }, bad('rerank', 'must be an object')],
  ])('%j → %j', (body, expected) => {
    expect(refusal(SearchRequest, body)).toEqual(expected);
  });

  it('names the body itself when it is not an object, with no field', () => {
    expect(refusal(SearchRequest, [])).toEqual({ code: 'bad_request', message: 'the request body must be an object' });
  });

  it('names the path of a field inside a batch, and the batch limits', () => {
    const schema = batchRequestSchema(2);
    expect(refusal(schema, { queries: [{ query: 'ok' }, { query: 'x', k: 500 }] })).toEqual(bad('queries.1.k', 'must be at most 100'));
    expect(refusal(schema, { queries: [{ query: 'ok', typo: 1 }] })).toEqual(bad('queries.0.typo', 'is not a known field'));
    expect(refusal(schema, { queries: [] })).toEqual(bad('queries', 'must hold at least one query'));
    expect(refusal(schema, { queries: [{ query: 'a' }, { query: 'b' }, { query: 'c' }] })).toEqual(bad('queries', 'must hold at most 2 queries'));
    expect(refusal(schema, { queries: [{ query: 'a' }], k: 3 })).toEqual(bad('k', 'is not a known field'));
  });

  it('accepts mode colbert and a rerank, filling in its defaults (depth 100, no fusion)', () => {
    expect(parseRequest(SearchRequest, { query: 'x', mode: 'colbert', params: { candidates: 500 } })).toMatchObject({ mode: 'colbert', params: { candidates: 500 } });
    expect(parseRequest(SearchRequest, { query: 'x', mode: 'bm25', rerank: { method: 'colbert' } }).rerank).toEqual({ method: 'colbert', depth: 100, fuse: false });
    expect(parseRequest(SearchRequest, { query: 'x', rerank: { method: 'colbert', depth: 1000, fuse: true, weight: 0 } }).rerank).toEqual({ method: 'colbert', depth: 1000, fuse: true, weight: 0 });
    expect(parseRequest(SearchRequest, { query: 'x' }).rerank).toBeUndefined();
    expect(refusal(batchRequestSchema(2), { queries: [{ query: 'a' }, { query: 'b', rerank: { method: 'colbert', depth: 5000 } }] })).toEqual(bad('queries.1.rerank.depth', 'must be at most 1000'));
  });

  it('accepts an omitted or a single zero weight (an omitted one counts as 1)', () => {
    expect(parseRequest(SearchRequest, { query: 'x', params: { weights: { dense: 0 } } }).params).toEqual({ weights: { dense: 0 } });
    expect(parseRequest(SearchRequest, { query: 'x', params: { weights: { bm25: 0, dense: 0.5 } } }).params?.weights).toEqual({ bm25: 0, dense: 0.5 });
  });
});

const tooLarge = (field: string, message: string) => ({ code: 'payload_too_large', field, message: `${field}: ${message}` });

describe('conversation context', () => {
  it.each<[unknown, { code: string; field?: string; message: string }]>([
    [{ query: 'x', context: [{ query: 'a' }, { query: 'b' }, { query: '' }] }, bad('context.2.query', 'must not be empty (or only whitespace)')],
    [{ query: 'x', context: [{ query: ' \n' }] }, bad('context.0.query', 'must not be empty (or only whitespace)')],
    [{ query: 'x', context: [{ response: 'r' }] }, bad('context.0.query', 'is required')],
    [{ query: 'x', context: [{ query: 'a', typo: 1 }] }, bad('context.0.typo', 'is not a known field')],
    [{ query: 'x', context: [{ query: 'a'.repeat(MAX_QUERY_CHARS + 1) }] }, bad('context.0.query', `must be at most ${MAX_QUERY_CHARS} characters`)],
    [{ query: 'x', context: [{ query: 'a', response: 7 }] }, bad('context.0.response', 'must be a string')],
    [{ query: 'x', context: 'a' }, bad('context', 'must be an array')],
    [{ query: 'x', params: { policy: 'window:0' } }, bad('params.policy', 'must be raw, concat, concat+responses, first or window:N (N 1-999)')],
    [{ query: 'x', mode: 'conversational', params: { policy: 'concat' } }, bad('params.policy', 'mode "conversational" forms its query with its trained encoder; policy is for the other modes')],
    // Size limits: 413s naming the limit.
    [{ query: 'x', context: Array(MAX_CONTEXT_TURNS + 1).fill({ query: 'a' }) }, tooLarge('context', `must hold at most ${MAX_CONTEXT_TURNS} turns (MAX_CONTEXT_TURNS), not ${MAX_CONTEXT_TURNS + 1}`)],
    [{ query: 'x', context: [{ query: 'a', response: 'r'.repeat(MAX_RESPONSE_CHARS + 1) }] }, tooLarge('context.0.response', `must be at most ${MAX_RESPONSE_CHARS} characters (MAX_RESPONSE_CHARS)`)],
    [
      { query: 'x', context: Array(4).fill({ query: 'a', response: 'r'.repeat(MAX_RESPONSE_CHARS) }) },
      tooLarge('context', `holds ${4 * (MAX_RESPONSE_CHARS + 1)} characters of queries and responses, more than the ${MAX_CONTEXT_CHARS} (MAX_CONTEXT_CHARS) a context may`),
    ],
  ])('%j → %j', (body, expected) => {
    expect(refusal(SearchRequest, body)).toEqual(expected);
  });

  it('names the path inside a batch, and a 413 there too', () => {
    const schema = batchRequestSchema(3);
    expect(refusal(schema, { queries: [{ query: 'a' }, { query: 'b', context: [{ query: '' }] }] })).toEqual(bad('queries.1.context.0.query', 'must not be empty (or only whitespace)'));
    expect(refusal(schema, { queries: [{ query: 'a', context: Array(33).fill({ query: 'a' }) }] }).code).toBe('payload_too_large');
  });

  it('normalizes the turns’ queries like the query, keeps responses as sent, and counts characters as sent', () => {
    const parsed = parseRequest(SearchRequest, { query: 'x', context: [{ query: '  a \n b ' }, { query: 'c', response: '  r  r ' }] });
    expect(parsed.context).toEqual([{ query: 'a b' }, { query: 'c', response: '  r  r ' }]);
    expect(parseRequest(SearchRequest, { query: 'x' }).context).toBeUndefined();
    // Exactly at the limit, in astral characters (two UTF-16 units each): accepted.
    const exact = Array.from({ length: 16 }, () => ({ query: '😀'.repeat(MAX_CONTEXT_CHARS / 16) }));
    expect(charCount(exact.map((t) => t.query).join(''))).toBe(MAX_CONTEXT_CHARS);
    expect(parseRequest(SearchRequest, { query: 'x', context: exact }).context).toHaveLength(16);
    // Whitespace counts as sent (the body limit is on what is sent).
    const padded = Array.from({ length: 17 }, () => ({ query: `a${' '.repeat(1000)}` }));
    expect(refusal(SearchRequest, { query: 'x', context: padded }).code).toBe('payload_too_large');
    expect(parseRequest(SearchRequest, { query: 'x', context: Array(MAX_CONTEXT_TURNS).fill({ query: 'a' }) }).context).toHaveLength(MAX_CONTEXT_TURNS);
  });

  it('a conversation turn is a search without context, with record: "top"; a PUT response is a response', () => {
    expect(parseRequest(ConversationSearchRequest, { query: 'x', record: 'top' })).toMatchObject({ query: 'x', record: 'top', mode: 'hybrid' });
    expect(refusal(ConversationSearchRequest, { query: 'x', context: [] })).toEqual(bad('context', 'is not a known field'));
    expect(refusal(ConversationSearchRequest, { query: 'x', record: 'all' })).toEqual(bad('record', 'must be "top"'));
    expect(refusal(ConversationSearchRequest, { query: 'x', mode: 'conversational', params: { policy: 'raw' } }).field).toBe('params.policy');
    expect(parseRequest(ConversationSearchRequest, { query: 'x', mode: 'conversational' }).mode).toBe('conversational');
    expect(parseRequest(RecordResponseRequest, { response: '' })).toEqual({ response: '' });
    expect(refusal(RecordResponseRequest, { response: 'r'.repeat(MAX_RESPONSE_CHARS + 1) })).toEqual(tooLarge('response', `must be at most ${MAX_RESPONSE_CHARS} characters (MAX_RESPONSE_CHARS)`));
    expect(refusal(RecordResponseRequest, {})).toEqual(bad('response', 'is required'));
  });
});

describe('query length and body limits', () => {
  it('counts query length in Unicode characters (code points), as the OpenAPI maxLength does', () => {
    const emoji = '😀'.repeat(MAX_QUERY_CHARS);
    expect(emoji.length).toBe(2 * MAX_QUERY_CHARS);
    expect(parseRequest(SearchRequest, { query: emoji }).query).toBe(emoji);
    expect(refusal(SearchRequest, { query: `${emoji}x` }).field).toBe('query');
    // Whitespace counts as sent: the limit is on the text the caller sends.
    expect(refusal(SearchRequest, { query: `x${' '.repeat(MAX_QUERY_CHARS)}` }).field).toBe('query');
  });

  it('fits every valid batch, however its JSON is spelled, in the batch body limit', () => {
    const bytes = (v: unknown, indent?: number) => new TextEncoder().encode(JSON.stringify(v, null, indent)).length;
    // The consumer's refused batch: 32 queries of 1,024 CJK characters, 99.5 KB.
    const cjk = { queries: Array.from({ length: 32 }, (_, i) => ({ query: `${String.fromCodePoint(0x4e00 + i)}${'検索'.repeat(511)}語`, mode: 'hybrid', k: 10 })) };
    expect(parseRequest(batchRequestSchema(32), cjk).queries.map((q) => [...q.query].length)).toEqual(Array(32).fill(MAX_QUERY_CHARS));
    expect(bytes(cjk)).toBe(99_469); // 99.5 KB, over the old 64 KiB limit
    expect(bytes(cjk)).toBeLessThanOrEqual(batchBodyLimit(32));
    // The worst: astral characters \u-escaped (12 bytes each, as Python's json.dumps writes
    // them), every field at its longest spelling, pretty-printed.
    const ascii = (v: unknown) => JSON.stringify(v, null, 2).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const longest = {
      query: '😀'.repeat(MAX_QUERY_CHARS),
      mode: 'hybrid',
      k: 100,
      cache: false,
      params: { nprobe: 65536, efSearch: 65536, windowFactor: 64, rrfK: 1234.5678901234567, weights: { dense: 12.345678901234567, bm25: 98.76543210987654 }, depth: 10000, k1: 1.2345678901234567, b: 0.12345678901234567, candidates: 10000 },
      rerank: { method: 'colbert', depth: 1000, fuse: false, weight: 0.12345678901234567 },
    };
    const worst = { queries: Array(DEFAULT_MAX_BATCH_QUERIES).fill(longest) };
    expect(parseRequest(batchRequestSchema(DEFAULT_MAX_BATCH_QUERIES), JSON.parse(ascii(worst))).queries).toHaveLength(DEFAULT_MAX_BATCH_QUERIES);
    expect(new TextEncoder().encode(ascii(worst)).length).toBeLessThanOrEqual(batchBodyLimit(DEFAULT_MAX_BATCH_QUERIES));
    expect(new TextEncoder().encode(ascii(longest)).length).toBeLessThanOrEqual(searchBodyLimit());
    expect(bytes(longest, 2)).toBeLessThan(searchBodyLimit());
    // With the longest context: MAX_CONTEXT_CHARS astral characters spread over every turn it
    // may hold, each turn with a response, in the escaped spelling, pretty-printed, in a batch.
    const perTurn = MAX_CONTEXT_CHARS / MAX_CONTEXT_TURNS / 2;
    const withContext = { ...longest, params: { ...longest.params, policy: 'concat+responses' }, context: Array.from({ length: MAX_CONTEXT_TURNS }, () => ({ query: '😀'.repeat(perTurn), response: '😀'.repeat(perTurn) })) };
    const fullBatch = { queries: Array(DEFAULT_MAX_BATCH_QUERIES).fill(withContext) };
    expect(parseRequest(batchRequestSchema(DEFAULT_MAX_BATCH_QUERIES), JSON.parse(ascii(fullBatch))).queries).toHaveLength(DEFAULT_MAX_BATCH_QUERIES);
    const indented = (v: unknown) => JSON.stringify(v, null, 4).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    expect(new TextEncoder().encode(indented(fullBatch)).length).toBeLessThanOrEqual(batchBodyLimit(DEFAULT_MAX_BATCH_QUERIES));
    expect(new TextEncoder().encode(indented(withContext)).length).toBeLessThanOrEqual(searchBodyLimit());
    // Many short turns: the per-turn room for field names and indentation.
    const manyTurns = { ...longest, context: Array.from({ length: MAX_CONTEXT_TURNS }, () => ({ query: '😀'.repeat(MAX_CONTEXT_CHARS / MAX_CONTEXT_TURNS - 1), response: '' })) };
    expect(parseRequest(SearchRequest, JSON.parse(indented(manyTurns))).context).toHaveLength(MAX_CONTEXT_TURNS);
    expect(new TextEncoder().encode(indented(manyTurns)).length).toBeLessThanOrEqual(searchBodyLimit());
  });
});
