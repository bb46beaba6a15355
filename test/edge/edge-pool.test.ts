// The edge in workerd (wrangler dev) in front of a real pool node: answers equal the pool's,
// repeats come from the cache, and every kind of bad request gets its status and error code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureIndex } from '../index-fixture.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { SIGNING_KEY, startSoloNode, type SoloNode } from '../pool/harness.ts';
import { EdgeSearchError, createClient } from '@edgesearch/client';
import { startEdge, testKey, type EdgeServer } from './harness.ts';

let pool: SoloNode;
let edge: EdgeServer;
const searcher = testKey('searcher', ['search']);
const admin = testKey('admin', ['admin']);
const limited = testKey('limited', ['search'], { perSecond: 0.2, burst: 3 }); // a token per 5 s: none comes back during the test
let queries: { id: string; text: string }[];

function post(path: string, body: unknown, key: string | null = searcher.key, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${edge.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

beforeAll(async () => {
  const index = await fixtureIndex({ limit: 200, shards: 2 });
  queries = await scifactTestQueries(20);
  pool = await startSoloNode(index, 2);
  edge = await startEdge({
    POOL_ENDPOINTS: pool.node.url,
    POOL_SIGNING_KEY: SIGNING_KEY,
    API_KEYS: JSON.stringify([searcher.entry, admin.entry, limited.entry]),
    CORS_ORIGINS: 'https://app.example',
  });
}, 300_000);
afterAll(async () => {
  await edge?.stop();
  await pool?.close();
});

describe('search through the edge', () => {
  it('returns the same top-10 as the pool, with evidence, for each mode', async () => {
    for (const mode of ['dense', 'bm25', 'hybrid'] as const) {
      const direct = await pool.client.search(queries.map((q) => ({ id: q.id, mode, k: 10, text: q.text })));
      for (const [i, q] of queries.entries()) {
        const res = await post('/v1/search', { query: q.text, mode, k: 10, cache: false });
        expect(res.status, await res.clone().text()).toBe(200);
        const body = await res.json();
        expect(body.hits.map((h: { docId: string }) => h.docId)).toEqual(direct.results[i].hits.map((h) => h.docId));
        // Scores agree to float32 precision: the encoder batches these queries differently.
        body.hits.forEach((h: { score: number }, j: number) => expect(h.score).toBeCloseTo(direct.results[i].hits[j].score, 5));
        expect(body.hits[0]).toMatchObject({ rank: 1, title: expect.any(String), text: expect.stringMatching(/\S/) });
        expect(body.indexVersion).toBe(direct.indexVersion);
      }
    }
  });

  it('answers a repeat from the cache, keyed on the normalized query', async () => {
    const first = await (await post('/v1/search', { query: 'vitamin D and bone density', mode: 'bm25', k: 5 })).json();
    expect(first.cached).toBe(false);
    const again = await (await post('/v1/search', { query: '  vitamin D   and bone density ', mode: 'bm25', k: 5 })).json();
    expect(again.cached).toBe(true);
    expect(again.hits).toEqual(first.hits);
    expect(again.query).toBe('vitamin D and bone density');
    // Another k, mode or parameter is another entry.
    expect((await (await post('/v1/search', { query: 'vitamin D and bone density', mode: 'bm25', k: 6 })).json()).cached).toBe(false);
    expect((await (await post('/v1/search', { query: 'vitamin D and bone density', mode: 'bm25', k: 5, params: { k1: 1.2 } })).json()).cached).toBe(false);
    // cache: false goes to the pool even though an entry exists ...
    expect((await (await post('/v1/search', { query: 'vitamin D and bone density', mode: 'bm25', k: 5, cache: false })).json()).cached).toBe(false);
    // ... and stores nothing: a query seen only with cache: false is a miss later.
    const bypass = { query: 'sodium intake and blood pressure', mode: 'bm25', k: 5 };
    expect((await (await post('/v1/search', { ...bypass, cache: false })).json()).cached).toBe(false);
    expect((await (await post('/v1/search', bypass)).json()).cached).toBe(false);
    expect((await (await post('/v1/search', bypass)).json()).cached).toBe(true);
  });

  it('answers a batch in order, each query on its own', async () => {
    const res = await post('/v1/search/batch', { queries: [{ query: queries[0].text, k: 3 }, { query: queries[1].text, mode: 'bm25', k: 2 }] });
    expect(res.status).toBe(200);
    const { results } = await res.json();
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ query: queries[0].text, mode: 'hybrid', k: 3 });
    expect(results[0].hits).toHaveLength(3);
    expect(results[1].hits).toHaveLength(2);
  });
});

describe('bad requests', () => {
  const expectError = async (res: Response, status: number, code: string, field?: string) => {
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(status);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toEqual(expect.any(String));
    if (field !== undefined) expect(body.error.field).toBe(field);
    return body.error.message as string;
  };

  it('400 for a body that is not JSON', async () => {
    await expectError(await post('/v1/search', '{"query": "x",'), 400, 'invalid_json');
  });

  it('400 for k out of range, naming the field', async () => {
    expect(await expectError(await post('/v1/search', { query: 'x', k: 101 }), 400, 'bad_request', 'k')).toBe('k: must be at most 100');
    await expectError(await post('/v1/search', { query: 'x', k: 0 }), 400, 'bad_request', 'k');
    await expectError(await post('/v1/search', { query: 'x', k: 2.5 }), 400, 'bad_request', 'k');
  });

  it('400 for an empty, blank or 10 KB query', async () => {
    await expectError(await post('/v1/search', { query: '' }), 400, 'bad_request', 'query');
    await expectError(await post('/v1/search', { query: ' \n\t ' }), 400, 'bad_request', 'query');
    await expectError(await post('/v1/search', { k: 3 }), 400, 'bad_request', 'query');
    // 10 KB is within the body limit of a search (which fits any valid one), and refused by length.
    expect(await expectError(await post('/v1/search', { query: 'word '.repeat(2048) }), 400, 'bad_request', 'query')).toBe('query: must be at most 1024 characters');
    await expectError(await post('/v1/search', { query: 'a'.repeat(1025) }), 400, 'bad_request', 'query');
  });

  it('400 for unknown fields and bad parameters, with the path of the field', async () => {
    expect(await expectError(await post('/v1/search', { query: 'x', nprobe: 3 }), 400, 'bad_request', 'nprobe')).toBe('nprobe: is not a known field');
    await expectError(await post('/v1/search', { query: 'x', mode: 'sparse' }), 400, 'bad_request', 'mode');
    await expectError(await post('/v1/search', { query: 'x', params: { nprobe: 0 } }), 400, 'bad_request', 'params.nprobe');
    await expectError(await post('/v1/search/batch', { queries: [{ query: 'ok' }, { query: 'x', k: 500 }] }), 400, 'bad_request', 'queries.1.k');
    await expectError(await post('/v1/search/batch', { queries: [] }), 400, 'bad_request', 'queries');
  });

  it('415 for a body that is not declared JSON', async () => {
    await expectError(await post('/v1/search', JSON.stringify({ query: 'x' }), searcher.key, { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
  });

  it('401 without a key, with a malformed header or an unknown key', async () => {
    expect(await expectError(await post('/v1/search', { query: 'x' }, null), 401, 'unauthorized')).toMatch(/missing API key/);
    await expectError(await post('/v1/search', { query: 'x' }, null, { authorization: `Basic ${btoa('a:b')}` }), 401, 'unauthorized');
    expect(await expectError(await post('/v1/search', { query: 'x' }, 'es_not_a_key'), 401, 'unauthorized')).toBe('unknown API key');
  });

  it('403 for a key without the scope, and admin routes need the admin scope', async () => {
    expect(await expectError(await post('/v1/search', { query: 'x' }, admin.key), 403, 'forbidden')).toMatch(/lacks the "search" scope/);
    const stats = await fetch(`${edge.url}/v1/admin/stats`, { headers: { authorization: `Bearer ${searcher.key}` } });
    await expectError(stats, 403, 'forbidden');
    const ok = await fetch(`${edge.url}/v1/admin/stats`, { headers: { authorization: `Bearer ${admin.key}` } });
    expect(ok.status).toBe(200);
    expect((await ok.json()).batches.frames).toBeGreaterThan(0);
  });

  it('413 for a body over the limit, declared or streamed', async () => {
    // (The search body limit fits a query with the longest context: 215,040 bytes.)
    await expectError(await post('/v1/search', { query: 'x'.repeat(250_000) }), 413, 'payload_too_large');
    // Without a content-length (chunked), the edge counts the bytes as they arrive.
    const chunk = new TextEncoder().encode(`{"query": "${'x'.repeat(250_000)}"}`);
    const streamed = await fetch(`${edge.url}/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${searcher.key}` },
      body: new ReadableStream({ start: (c) => (c.enqueue(chunk), c.close()) }),
      duplex: 'half',
    } as RequestInit);
    await expectError(streamed, 413, 'payload_too_large');
  });

  it('429 with Retry-After once a key has spent its burst', async () => {
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await post('/v1/search', { query: `rate ${i}`, mode: 'bm25', k: 1 }, limited.key);
      statuses.push(res.status);
      if (res.status === 429) refused ??= res;
      else await res.arrayBuffer();
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused!.headers.get('retry-after'))).toBeLessThanOrEqual(5);
    await expectError(refused!, 429, 'rate_limited');
    // Other keys have their own buckets.
    expect((await post('/v1/search', { query: 'rate 0', mode: 'bm25', k: 1 })).status).toBe(200);
  });
});

describe('CORS', () => {
  it('answers preflights for allowed origins only', async () => {
    const preflight = (origin: string) =>
      fetch(`${edge.url}/v1/search`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    const allowed = await preflight('https://app.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const res = await post('/v1/search', { query: 'x', mode: 'bm25', k: 1 }, searcher.key, { origin: 'https://app.example' });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/retry-after/);
  });
});

describe('typed client', () => {
  it('searches, batches and reads health with the types of the routes', async () => {
    const es = createClient({ endpoint: edge.url, apiKey: searcher.key, retry: false });
    const res = await es.search({ query: queries[2].text, mode: 'bm25', k: 3 });
    expect(res.hits.map((h) => h.rank)).toEqual([1, 2, 3]);
    expect(res.mode).toBe('bm25');
    const batch = await es.searchBatch({ queries: [{ query: queries[3].text, k: 2 }] });
    expect(batch.results).toHaveLength(1);
    const health = await es.health();
    expect(health).toEqual({ edge: 'ok', pool: 'ok', indexVersion: res.indexVersion });
    const adminHealth = await createClient({ endpoint: edge.url, apiKey: admin.key, retry: false }).adminHealth();
    expect(adminHealth).toMatchObject({ edge: 'ok', pool: 'ok', indexVersion: res.indexVersion });
    expect(adminHealth.endpoints[0]).toMatchObject({ url: pool.node.url, ready: true, breaker: 'closed' });
    await expect(es.adminHealth()).rejects.toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('turns error bodies into EdgeSearchError with the code, field and Retry-After', async () => {
    const es = createClient({ endpoint: edge.url, apiKey: searcher.key, retry: false });
    const err = await es.search({ query: 'x', k: 1000 }).catch((e) => e);
    expect(err).toBeInstanceOf(EdgeSearchError);
    expect(err).toMatchObject({ status: 400, code: 'bad_request', field: 'k' });
    const anonymous = await createClient({ endpoint: edge.url, retry: false }).search({ query: 'x' }).catch((e) => e);
    expect(anonymous).toMatchObject({ status: 401, code: 'unauthorized' });
  });
});
