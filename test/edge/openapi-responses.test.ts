// Real responses against the edge's own /openapi.json: the edge in workerd (wrangler dev) in
// front of a real pool node, reached through a router stand-in that can also fail the ways a
// pool does (answers that are not signed: 502, silence: 504, dropped connections: 503, not
// ready: health 503), plus a misconfigured edge for the 500s. Every route and every status the
// document lists is provoked, and each response must match the document (status listed, body
// schema, required headers) — checked with ajv, independently of the zod schemas that generated it.
//
// Also what the load-testing consumer ran into: `cache: false` requests all reach the pool,
// a batch of 32 long CJK queries (99.5 KB) is accepted, zero fusion weights and unknown fields
// are 400s naming the field, and the timings count every pool attempt.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchBodyLimit, searchBodyLimit } from '../../shared/api/index.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { SIGNING_KEY, startSoloNode, type SoloNode } from '../pool/harness.ts';
import { startBodyServer, startEdge, testKey, type EdgeServer } from './harness.ts';
import { OpenApiChecker, type CheckedResponse } from './openapi-check.ts';

type RouterMode = 'proxy' | 'drop-once' | 'unsigned' | 'hang' | 'drop';

/** A pool router stand-in on loopback: forwards to a real node, or fails on purpose. */
class Router {
  mode: RouterMode = 'proxy';
  ready = true;
  url = '';
  private stopServer?: () => Promise<void>;

  constructor(private readonly target: string) {}

  async listen(): Promise<this> {
    const server = await startBodyServer((req, res, body) => this.handle(req, res, body));
    this.url = server.url;
    this.stopServer = server.close;
    return this;
  }

  close(): Promise<void> {
    return this.stopServer?.() ?? Promise.resolve();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    if (req.url === '/readyz' && !this.ready) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"ready":false,"reason":"test: not ready"}');
    if (req.url !== '/readyz') {
      switch (this.mode) {
        case 'hang':
          return; // never answers: the edge's deadline ends the wait
        case 'drop':
          return void req.socket.destroy();
        case 'drop-once':
          this.mode = 'proxy';
          return void req.socket.destroy();
      }
    }
    // Forwarded as sent (the signature headers and any others), answered as the node answered.
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([h]) => h === 'content-type' || h.startsWith('x-edgesearch-')).map(([h, v]) => [h, String(v)]));
    const up = await fetch(new URL(req.url!, this.target), { method: req.method, headers, ...(body.length ? { body: new Uint8Array(body) } : {}) });
    const out: Record<string, string> = {};
    up.headers.forEach((v, h) => {
      if (h === 'content-type' || h.startsWith('x-edgesearch-')) out[h] = v;
    });
    if (this.mode === 'unsigned') delete out['x-edgesearch-answer-signature'];
    res.writeHead(up.status, out).end(new Uint8Array(await up.arrayBuffer()));
  }
}

const searcher = testKey('searcher', ['search'], { perSecond: 1e6, burst: 1e6 });
const admin = testKey('ops', ['admin']);
const limited = testKey('limited', ['search'], { perSecond: 0.2, burst: 2 }); // a token per 5 s: none comes back during the test
const talker = testKey('talker', ['search'], { perSecond: 0.05, burst: 1 }); // one conversation call, then 429s
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let pool: SoloNode;
let router: Router;
let edge: EdgeServer;
let broken: EdgeServer;
let checker: OpenApiChecker;
let queries: { id: string; text: string }[];

/** Calls the edge, checks the response against the document, and returns it. */
async function call(method: string, path: string, opts: { body?: unknown; raw?: BodyInit; key?: string | null; headers?: Record<string, string>; on?: EdgeServer } = {}): Promise<CheckedResponse> {
  const headers: Record<string, string> = { ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers };
  const key = opts.key === undefined ? searcher.key : opts.key;
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${(opts.on ?? edge).url}${path}`, { method, headers, body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined) });
  const text = await res.text();
  const body = (res.headers.get('content-type') ?? '').startsWith('application/json') ? JSON.parse(text) : text;
  const got = { status: res.status, headers: res.headers, body };
  expect(res.headers.get('x-request-id'), `${method} ${path}`).toMatch(UUID);
  checker.check(method, path, got);
  return got;
}

const search = (body: unknown, key?: string | null) => call('POST', '/v1/search', { body, key });
const error = (r: CheckedResponse) => (r.body as { error: { code: string; message: string; field?: string } }).error;
const stats = async () => (await call('GET', '/v1/admin/stats', { key: admin.key })).body as { batches: { queries: number }; coalesced: number };

beforeAll(async () => {
  const index = await fixtureIndex({ limit: 200, shards: 2 });
  queries = await scifactTestQueries(5);
  pool = await startSoloNode(index, 2);
  router = await new Router(pool.node.url).listen();
  const vars = {
    POOL_ENDPOINTS: router.url,
    POOL_SIGNING_KEY: SIGNING_KEY,
    API_KEYS: JSON.stringify([searcher.entry, admin.entry, limited.entry, talker.entry]),
    PUBLIC_MODE: 'true',
    PUBLIC_RATE: JSON.stringify({ perSecond: 1000, burst: 1000 }),
    CORS_ORIGINS: 'https://app.example',
    // Room for 32 long queries encoded on a busy CPU; the 503 and 504 below take this long.
    REQUEST_DEADLINE_MS: '3000',
    // The one router fails on purpose, test after test: its circuit must stay closed.
    BREAKER_FAILURES: '1000',
  };
  // A setting that is no longer honoured is a configuration error: every route answers 500.
  [edge, broken] = await Promise.all([startEdge(vars), startEdge({ ...vars, MAX_BODY_BYTES: '65536' }, { readyStatus: 500 })]);
  const doc = await (await fetch(`${edge.url}/openapi.json`)).json();
  checker = new OpenApiChecker(doc);
}, 300_000);
afterAll(async () => {
  await Promise.all([edge?.stop(), broken?.stop()]);
  await router?.close();
  await pool?.close();
});

describe('responses match the OpenAPI document', () => {
  it('serves the document itself to any origin, and the demo page', async () => {
    const doc = await call('GET', '/openapi.json', { headers: { origin: 'https://docs.example' } });
    expect(doc.status).toBe(200);
    expect(doc.headers.get('access-control-allow-origin')).toBe('*');
    expect((doc.body as { paths: Record<string, unknown> }).paths['/v1/search']).toBeDefined();
    const preflight = await fetch(`${edge.url}/openapi.json`, { method: 'OPTIONS', headers: { origin: 'https://docs.example', 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect((await call('GET', '/', { key: null })).status).toBe(200);
  });

  it('200: searches with and without a key (public mode), a batch, health, the admin views', async () => {
    const keyed = await search({ query: queries[0].text, mode: 'bm25', k: 5 });
    expect(keyed.status).toBe(200);
    expect((keyed.body as { hits: unknown[] }).hits).toHaveLength(5);
    expect((await search({ query: queries[1].text, mode: 'dense', k: 3, params: { weights: { dense: 0 } } }, null)).status).toBe(200);
    const batch = await call('POST', '/v1/search/batch', { body: { queries: [{ query: queries[2].text, k: 2 }, { query: queries[3].text, mode: 'bm25', cache: false }] } });
    expect(batch.status).toBe(200);
    expect((await call('GET', '/v1/health', { key: null })).status).toBe(200);
    expect((await call('GET', '/v1/admin/health', { key: admin.key })).status).toBe(200);
    expect((await call('GET', '/v1/admin/stats', { key: admin.key })).status).toBe(200);
  });

  it('400: invalid JSON, and bad fields named by their path, unknown ones included, in the API’s words', async () => {
    const invalid = await call('POST', '/v1/search', { raw: '{"query": "x",' });
    expect([invalid.status, error(invalid).code]).toEqual([400, 'invalid_json']);
    const cases: [unknown, string, string][] = [
      [{ query: 'x', nprobe: 3 }, 'nprobe', 'nprobe: is not a known field'],
      [{ query: 'x', params: { weights: { dense: 0, bm25: 0 } } }, 'params.weights', 'params.weights: the fusion weights must not add up to 0 (an omitted weight counts as 1)'],
      [{ query: 'x', params: { nprobe: 0 } }, 'params.nprobe', 'params.nprobe: must be at least 1'],
      [{ query: 'x', k: 101 }, 'k', 'k: must be at most 100'],
      [{ query: '😀'.repeat(1025) }, 'query', 'query: must be at most 1024 characters'],
    ];
    for (const [body, field, message] of cases) {
      const r = await search(body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(error(r)).toEqual({ code: 'bad_request', field, message });
    }
    expect((await search({ query: '😀'.repeat(1024), mode: 'bm25', k: 1 })).status).toBe(200); // 2,048 UTF-16 units, 1,024 characters
    const batch = await call('POST', '/v1/search/batch', { body: { queries: [{ query: 'ok' }, { query: 'x', typo: true }] } });
    expect(error(batch)).toMatchObject({ code: 'bad_request', field: 'queries.1.typo' });
  });

  it('401 for an unknown key or a malformed header; 403 for a key without the route’s scope', async () => {
    for (const [method, path, body] of [['POST', '/v1/search', { query: 'x' }], ['POST', '/v1/search/batch', { queries: [{ query: 'x' }] }], ['GET', '/v1/admin/health'], ['GET', '/v1/admin/stats']] as const) {
      expect((await call(method, path, { body, key: 'es_not_a_key' })).status, path).toBe(401);
      expect((await call(method, path, { body, key: null, headers: { authorization: 'Basic eDp5' } })).status, path).toBe(401);
      const wrongScope = await call(method, path, { body, key: path.includes('admin') ? searcher.key : admin.key });
      expect([wrongScope.status, error(wrongScope).code], path).toEqual([403, 'forbidden']);
    }
    expect((await call('GET', '/v1/admin/stats', { key: null })).status).toBe(401); // admin routes always need a key
  });

  it('413 only for bodies larger than any valid request; the consumer’s 99.5 KB CJK batch is accepted', async () => {
    const tooBig = await search({ query: 'x'.repeat(searchBodyLimit()) });
    expect([tooBig.status, error(tooBig).code]).toEqual([413, 'payload_too_large']);
    const batchTooBig = await call('POST', '/v1/search/batch', { body: { queries: [{ query: 'x'.repeat(batchBodyLimit(32)) }] } });
    expect(batchTooBig.status).toBe(413);
    // 32 queries of 1,024 CJK characters each: refused with 413 under the old 64 KiB limit.
    const cjk = { queries: Array.from({ length: 32 }, (_, i) => ({ query: `${String.fromCodePoint(0x4e00 + i)}${'検索'.repeat(511)}語`, mode: 'hybrid', k: 10 })) };
    expect(Buffer.byteLength(JSON.stringify(cjk))).toBe(99_469);
    const accepted = await call('POST', '/v1/search/batch', { body: cjk });
    expect(accepted.status, JSON.stringify(accepted.body).slice(0, 300)).toBe(200);
    const results = (accepted.body as { results: { query?: string; error?: unknown }[] }).results;
    expect(results).toHaveLength(32);
    for (const [i, r] of results.entries()) expect(r.query, JSON.stringify(r.error)).toBe(cjk.queries[i].query);
  });

  it('415 for a body not sent as JSON', async () => {
    for (const path of ['/v1/search', '/v1/search/batch']) {
      const r = await call('POST', path, { raw: '{"query":"x"}', headers: { 'content-type': 'text/plain' } });
      expect([r.status, error(r).code], path).toEqual([415, 'unsupported_media_type']);
    }
  });

  it('429 with Retry-After once a key has spent its burst, on both search routes', async () => {
    expect((await call('POST', '/v1/search/batch', { body: { queries: [{ query: 'rate a', mode: 'bm25', k: 1 }, { query: 'rate b', mode: 'bm25', k: 1 }] }, key: limited.key })).status).toBe(200);
    const single = await search({ query: 'rate c', mode: 'bm25', k: 1 }, limited.key);
    const batch = await call('POST', '/v1/search/batch', { body: { queries: [{ query: 'rate d' }] }, key: limited.key });
    for (const r of [single, batch]) {
      expect([r.status, error(r).code]).toEqual([429, 'rate_limited']);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });

  it('502 for an answer that is not signed, 503 when the router drops every connection, 504 when it never answers', async () => {
    try {
      router.mode = 'unsigned';
      const bad = await search({ query: 'unsigned answer', mode: 'bm25', k: 1 });
      expect([bad.status, error(bad).code]).toEqual([502, 'bad_gateway']);
      const inBatch = await call('POST', '/v1/search/batch', { body: { queries: [{ query: 'unsigned in a batch', mode: 'bm25', k: 1 }] } });
      expect((inBatch.body as { results: { error: { code: string } }[] }).results[0].error.code).toBe('bad_gateway');

      router.mode = 'drop';
      const down = await search({ query: 'dropped', mode: 'bm25', k: 1 });
      expect([down.status, error(down).code]).toEqual([503, 'pool_unavailable']);
      expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

      router.mode = 'hang';
      const slow = await search({ query: 'silence', mode: 'bm25', k: 1 });
      expect([slow.status, error(slow).code]).toEqual([504, 'deadline_exceeded']);
    } finally {
      router.mode = 'proxy';
    }
  });

  it('503 from health and the admin health when no router is ready', async () => {
    router.ready = false;
    try {
      await new Promise((r) => setTimeout(r, 1100)); // the edge asks /readyz at most once a second
      const health = await call('GET', '/v1/health', { key: null });
      expect([health.status, (health.body as { pool: string }).pool]).toEqual([503, 'down']);
      const adminHealth = await call('GET', '/v1/admin/health', { key: admin.key });
      expect(adminHealth.status).toBe(503);
      expect((adminHealth.body as { endpoints: { detail?: string }[] }).endpoints[0].detail).toBe('test: not ready');
    } finally {
      router.ready = true;
    }
  });

  it('404 for a path or method the document does not list', async () => {
    for (const [method, path] of [['GET', '/v1/nope'], ['GET', '/v1/search'], ['DELETE', '/v1/health']]) {
      const r = await call(method, path, { key: null });
      expect([r.status, error(r).code], `${method} ${path}`).toEqual([404, 'not_found']);
    }
  });

  it('500 with a generic message on every route of a misconfigured edge', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/'],
      ['GET', '/openapi.json'],
      ['GET', '/v1/health'],
      ['POST', '/v1/search', { query: 'x' }],
      ['POST', '/v1/search/batch', { queries: [{ query: 'x' }] }],
      ['GET', '/v1/admin/health'],
      ['GET', '/v1/admin/stats'],
    ];
    for (const [method, path, body] of routes) {
      const r = await call(method, path, { body, key: path.includes('admin') ? admin.key : searcher.key, on: broken });
      expect([r.status, error(r).code], path).toEqual([500, 'internal']);
      expect(error(r).message).toBe(`the edge could not handle this request (request id ${r.headers.get('x-request-id')})`);
    }
  });

  it('conversations: every status of every route, and failed searches store no turn', async () => {
    const created = await call('POST', '/v1/conversations');
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const base = `/v1/conversations/${id}`;
    const unknown = `/v1/conversations/c_${'A'.repeat(32)}`;
    const turn = await call('POST', `${base}/search`, { body: { query: queries[0].text, mode: 'bm25', k: 3, record: 'top' } });
    expect(turn.body).toMatchObject({ conversation: id, turn: 1, cached: false });
    expect((await call('PUT', `${base}/turns/1/response`, { body: { response: 'an answer' } })).body).toEqual({ turn: 1, query: queries[0].text, response: 'an answer' });
    expect((await call('GET', base)).body).toMatchObject({ id, turns: [{ turn: 1, query: queries[0].text, response: 'an answer' }] });
    const statusOf = async (method: string, path: string, opts: Parameters<typeof call>[2] = {}) => (await call(method, path, opts)).status;
    // 400, 404, 413, 415
    expect(await statusOf('POST', `${base}/search`, { body: { query: 'x', context: [] } })).toBe(400);
    expect(await statusOf('PUT', `${base}/turns/1/response`, { raw: '{"response":' })).toBe(400);
    for (const [method, path] of [['GET', unknown], ['DELETE', unknown], ['POST', `${unknown}/search`], ['PUT', `${base}/turns/2/response`]] as const) {
      expect(await statusOf(method, path, method === 'POST' ? { body: { query: 'x' } } : method === 'PUT' ? { body: { response: 'x' } } : {}), `${method} ${path}`).toBe(404);
    }
    expect(await statusOf('POST', '/v1/conversations', { body: { pad: 'x'.repeat(searchBodyLimit()) } })).toBe(413);
    expect(await statusOf('POST', `${base}/search`, { body: { query: 'x'.repeat(searchBodyLimit()) } })).toBe(413);
    expect(await statusOf('PUT', `${base}/turns/1/response`, { body: { response: 'r'.repeat(4097) } })).toBe(413);
    expect(await statusOf('POST', `${base}/search`, { raw: '{"query":"x"}', headers: { 'content-type': 'text/plain' } })).toBe(415);
    expect(await statusOf('PUT', `${base}/turns/1/response`, { raw: '{"response":"x"}', headers: { 'content-type': 'text/plain' } })).toBe(415);
    // 502, 503, 504: the pool fails; no turn is stored.
    try {
      for (const [mode, status] of [['unsigned', 502], ['drop', 503], ['hang', 504]] as const) {
        router.mode = mode;
        expect(await statusOf('POST', `${base}/search`, { body: { query: `failing ${mode}`, mode: 'bm25', k: 1 } }), mode).toBe(status);
      }
    } finally {
      router.mode = 'proxy';
    }
    expect(((await call('GET', base)).body as { turns: unknown[] }).turns).toHaveLength(1);
    // 401 and 403 on every route
    const routes: [string, string, unknown?][] = [['POST', '/v1/conversations'], ['GET', base], ['DELETE', base], ['POST', `${base}/search`, { query: 'x' }], ['PUT', `${base}/turns/1/response`, { response: 'x' }]];
    for (const [method, path, body] of routes) {
      expect(await statusOf(method, path, { body, key: 'es_not_a_key' }), `${method} ${path}`).toBe(401);
      expect(await statusOf(method, path, { body, key: admin.key }), `${method} ${path}`).toBe(403);
    }
    // 429: every conversation call costs a token (talker has one)
    expect(await statusOf('POST', '/v1/conversations', { key: talker.key })).toBe(201);
    for (const [method, path, body] of routes) expect(await statusOf(method, path, { body, key: talker.key }), `${method} ${path}`).toBe(429);
    // 500 from the misconfigured edge
    for (const [method, path, body] of routes) expect(await statusOf(method, path, { body, on: broken }), `${method} ${path}`).toBe(500);
    // 204, then 404
    expect(await statusOf('DELETE', base)).toBe(204);
    expect(await statusOf('GET', base)).toBe(404);
  });

  it('provoked every status of every route the document lists', () => {
    const documented = Object.entries<Record<string, { responses: Record<string, unknown> }>>(checker.doc.paths).flatMap(([path, item]) =>
      Object.entries(item).flatMap(([method, op]) => Object.keys(op.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`)),
    );
    expect(documented.filter((r) => !checker.seen.has(r))).toEqual([]);
  });
});

describe('what a load test measures', () => {
  it('cache: false sends every request to the pool, identical ones included (no coalescing)', async () => {
    const body = { query: queries[4].text, mode: 'bm25', k: 5, cache: false };
    const before = await stats();
    const answers = await Promise.all(Array.from({ length: 16 }, () => search(body)));
    const after = await stats();
    for (const a of answers) expect(a.status).toBe(200);
    expect(after.batches.queries - before.batches.queries).toBe(16);
    expect(after.coalesced - before.coalesced).toBe(0);
  });

  it('counts every pool attempt in the timings: poolMs over all of them, poolAttempts', async () => {
    const first = await search({ query: `${queries[0].text} attempts`, mode: 'bm25', k: 3, cache: false });
    expect((first.body as { timings: object }).timings).toMatchObject({ poolAttempts: 1 });
    router.mode = 'drop-once';
    const retried = await search({ query: `${queries[0].text} attempts`, mode: 'bm25', k: 3, cache: false });
    expect(retried.status).toBe(200);
    const t = (retried.body as { timings: { edgeMs: number; poolMs: number; poolAttempts: number } }).timings;
    expect(t.poolAttempts).toBe(2);
    expect(t.poolMs).toBeLessThanOrEqual(t.edgeMs);
    // A cached answer had no pool time at all.
    const fresh = { query: `${queries[1].text} cached`, mode: 'bm25', k: 2 };
    expect((await search(fresh)).body).toMatchObject({ cached: false, timings: { poolAttempts: 1 } });
    const hit = (await search(fresh)).body as { cached: boolean; timings: object };
    expect([hit.cached, Object.keys(hit.timings)]).toEqual([true, ['edgeMs']]);
  });
});
