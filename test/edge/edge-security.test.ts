// Security of the edge in workerd (wrangler dev), against real loopback servers: a fake pool
// router (node:http, in this process) that answers forged, replayed and misdirected result
// frames, errors that name files, and a correctly signed answer with a day-long version
// promise; then, with the same edge configuration, a real pool node behind it. Also: what
// anonymous callers see of pool failures and health, security headers, and an edge whose
// configuration is broken.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWER_SIGNATURE_HEADER, FRAME_CLASS_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, decodeFrame, encodeFrame, importSigningKey, signAnswer, type Frame, type LeaseFrame, type SearchFrame } from '../../shared/protocol/index.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { SIGNING_KEY, startSoloNode, type SoloNode } from '../pool/harness.ts';
import { startBodyServer, startEdge, testKey, waitForOutput, type EdgeServer } from './harness.ts';

type Behaviour = 'signed' | 'unsigned' | 'wrong-key' | 'replay' | 'other-batch' | 'not-ready' | 'proxy';

/** Where the fake router's /readyz says a file is missing, and its not-ready answers too. */
const SECRET_PATH = '/srv/edgesearch/index/shard-001/index.faiss';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/**
 * A pool router impostor on loopback. `behaviour` says how it answers /v1/batch; `proxyTo`
 * is where 'proxy' forwards (request and answer bytes and headers untouched); `ready` is
 * what /readyz says.
 */
class FakePool {
  behaviour: Behaviour = 'signed';
  ready = true;
  versionLeaseMs = 1000;
  proxyTo?: string;
  /** Search frames received. */
  calls = 0;
  /** Lease frames received (the edge renews a version promise with them). */
  leases = 0;
  url = '';
  private last?: { body: Uint8Array; signature: string };
  private stopServer?: () => Promise<void>;

  constructor(
    private readonly key: CryptoKey,
    private readonly otherKey: CryptoKey,
  ) {}

  async listen(): Promise<this> {
    const server = await startBodyServer((req, res, body) => this.answer(req, res, body));
    this.url = server.url;
    this.stopServer = server.close;
    return this;
  }

  close(): Promise<void> {
    return this.stopServer?.() ?? Promise.resolve();
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    if (req.url === '/readyz') {
      if (this.ready) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ready":true}');
      return void res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready: false, reason: `cannot open ${SECRET_PATH}: ENOENT` }));
    }
    const frame = decodeFrame(body) as SearchFrame | LeaseFrame;
    if (frame.type === 'lease') this.leases++;
    else this.calls++;
    const request = { timestamp: String(req.headers[TIMESTAMP_HEADER]), signature: String(req.headers[SIGNATURE_HEADER]) };
    const send = async (status: number, f: Frame, key: CryptoKey | null) => {
      const bytes = encodeFrame(f);
      const signature = key ? await signAnswer(key, request, bytes) : undefined;
      if (signature && key === this.key) this.last = { body: bytes, signature };
      res.writeHead(status, { 'content-type': 'application/msgpack', ...(signature ? { [ANSWER_SIGNATURE_HEADER]: signature } : {}) }).end(bytes);
    };
    // A lease frame gets a lease answer, under the same behaviours.
    const result = (batchId: string): Frame =>
      frame.type === 'lease'
        ? { v: 1, type: 'lease-result', batchId, indexVersion: 'fake-v1', versionLeaseMs: this.versionLeaseMs }
        : {
            v: 1,
            type: 'result',
            batchId,
            indexVersion: 'fake-v1',
            versionLeaseMs: this.versionLeaseMs,
            timings: { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, totalMs: 0 },
            results: frame.queries.map((q) => ({ id: q.id, hits: [{ docId: 'forged-doc', score: 99, shard: 0, title: 'Forged', text: 'an answer the pool never gave' }] })),
          };
    switch (this.behaviour) {
      case 'signed':
        return send(200, result(frame.batchId), this.key);
      case 'unsigned':
        return send(200, result(frame.batchId), null);
      case 'wrong-key':
        return send(200, result(frame.batchId), this.otherKey);
      case 'replay':
        // A genuine answer, signed with the right key, to an earlier request.
        return void res.writeHead(200, { 'content-type': 'application/msgpack', [ANSWER_SIGNATURE_HEADER]: this.last!.signature }).end(this.last!.body);
      case 'other-batch':
        return send(200, result(`not-${frame.batchId}`), this.key);
      case 'not-ready':
        return send(503, { v: 1, type: 'error', code: 'not-ready', message: `shard 1: cannot open ${SECRET_PATH}: ENOENT` }, this.key);
      case 'proxy': {
        const target = new URL(req.url!, this.proxyTo);
        const forwarded = Object.fromEntries(['content-type', TIMESTAMP_HEADER, SIGNATURE_HEADER, FRAME_CLASS_HEADER].filter((h) => req.headers[h] !== undefined).map((h) => [h, String(req.headers[h])]));
        const up = await fetch(target, { method: 'POST', headers: forwarded, body: new Uint8Array(body) });
        const headers: Record<string, string> = { 'content-type': up.headers.get('content-type') ?? 'application/msgpack' };
        const sig = up.headers.get(ANSWER_SIGNATURE_HEADER);
        if (sig) headers[ANSWER_SIGNATURE_HEADER] = sig;
        return void res.writeHead(up.status, headers).end(new Uint8Array(await up.arrayBuffer()));
      }
    }
  }
}

const admin = testKey('ops', ['admin']);
const searcher = testKey('searcher', ['search'], { perSecond: 1000, burst: 1000 });

async function search(edge: EdgeServer, body: Record<string, unknown>, key?: string) {
  const res = await fetch(`${edge.url}/v1/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) };
}

describe('an edge in front of a fake pool router, then a real one', () => {
  let fake: FakePool;
  let pool: SoloNode;
  let edge: EdgeServer;
  let queries: { id: string; text: string }[];

  beforeAll(async () => {
    fake = await new FakePool(await importSigningKey(SIGNING_KEY), await importSigningKey('a key the pool does not hold')).listen();
    const index = await fixtureIndex({ limit: 200, shards: 2 });
    queries = await scifactTestQueries(5);
    pool = await startSoloNode(index, 2);
    fake.proxyTo = pool.node.url;
    edge = await startEdge({
      POOL_ENDPOINTS: fake.url,
      POOL_SIGNING_KEY: SIGNING_KEY,
      API_KEYS: JSON.stringify([admin.entry, searcher.entry]),
      PUBLIC_MODE: 'true',
      PUBLIC_RATE: JSON.stringify({ perSecond: 1000, burst: 1000 }),
      REQUEST_DEADLINE_MS: '1500',
      MAX_VERSION_LEASE_MS: '1000',
      // The one router fails on purpose here, test after test; an open circuit would answer the
      // next test's requests 503 at once (the edge does not try a router whose circuit is open).
      BREAKER_FAILURES: '1000',
    });
  }, 300_000);
  afterAll(async () => {
    await edge?.stop();
    await fake?.close();
    await pool?.close();
  });

  it('believes a correctly signed answer, but not its day-long version promise (MAX_VERSION_LEASE_MS)', async () => {
    fake.behaviour = 'signed';
    fake.versionLeaseMs = 24 * 3600 * 1000;
    const q = { query: 'signed answer', mode: 'bm25', k: 1 };
    const before = fake.calls;
    const leasesBefore = fake.leases;
    const first = await search(edge, q);
    expect(first.status, first.text).toBe(200);
    expect(first.json).toMatchObject({ indexVersion: 'fake-v1', cached: false, hits: [{ docId: 'forged-doc' }] });
    // While the (capped) promise holds, the repeat is answered from the cache ...
    expect((await search(edge, q)).json.cached).toBe(true);
    expect([fake.calls - before, fake.leases - leasesBefore]).toEqual([1, 0]);
    // ... and after MAX_VERSION_LEASE_MS, not the 24 h promised, the pool is asked again (for
    // its promise alone: a lease frame, which confirms the version, so the hit is served).
    await new Promise((r) => setTimeout(r, 1200));
    expect((await search(edge, q)).json.cached).toBe(true);
    expect([fake.calls - before, fake.leases - leasesBefore]).toEqual([1, 1]);
    fake.versionLeaseMs = 1000;
  });

  it.each<[Behaviour, string, RegExp]>([
    ['unsigned', '(a) an answer without a signature', /not authenticated: the answer has no x-edgesearch-answer-signature header/],
    ['wrong-key', '(b) an answer signed with another key', /not authenticated: the answer signature does not match/],
    ['replay', '(c) a correctly signed answer to another request, replayed', /not authenticated: the answer signature does not match/],
    ['other-batch', '(d) a correctly signed answer naming another batch', /answered batch "not-[^"]+" to batch "[^"]+"/],
  ])('refuses %s answers — %s: 502 with a generic message, nothing cached, the endpoint in the log', async (behaviour, _what, logged) => {
    fake.behaviour = 'signed';
    await search(edge, { query: `a fresh answer for ${behaviour} to replay`, mode: 'bm25', k: 1 });
    fake.behaviour = behaviour;
    const q = { query: `forged ${behaviour}`, mode: 'bm25', k: 1 };
    const before = fake.calls;
    for (let i = 0; i < 2; i++) {
      const res = await search(edge, q);
      expect(res.status, res.text).toBe(502);
      const id = res.headers.get('x-request-id')!;
      expect(res.json).toEqual({ error: { code: 'bad_gateway', message: `the search pool gave an answer the edge could not use; retry later (request id ${id})` } });
      expect(res.text).not.toContain('127.0.0.1');
      expect(res.text).not.toContain('forged-doc');
      // The log names the endpoint and what was wrong (under this request's id, or the id of
      // the request whose line has the same detail).
      await waitForOutput(edge, new RegExp(`\\[request ${id}\\] 502 bad_gateway: `));
      expect(edge.output()).toMatch(new RegExp(`the pool's answer was refused: ${fake.url.replace(/\./g, '\\.')} answered`));
    }
    expect(edge.output()).toMatch(logged);
    // Nothing was cached: the second request went to the pool (the impostor) again, once.
    expect(fake.calls - before).toBe(2);
    // A batch request gets the same generic error per query.
    const batch = await fetch(`${edge.url}/v1/search/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queries: [q] }) });
    const batchId = batch.headers.get('x-request-id');
    expect(await batch.json()).toEqual({ results: [{ error: { code: 'bad_gateway', message: `the search pool gave an answer the edge could not use; retry later (request id ${batchId})` } }] });
  });

  it('answers from a real pool node with the same configuration (the node signs its answers)', async () => {
    fake.behaviour = 'proxy';
    const direct = await pool.client.search([{ id: 'd', mode: 'bm25', k: 5, text: queries[0].text }]);
    const res = await search(edge, { query: queries[0].text, mode: 'bm25', k: 5 }, searcher.key);
    // A 502 here with "not authenticated" in the edge log means the pool does not sign its answers.
    expect(res.status, `${res.text}\n${edge.output().slice(-2000)}`).toBe(200);
    expect(res.json.cached).toBe(false);
    expect(res.json.indexVersion).toBe(direct.indexVersion);
    expect(res.json.hits.map((h: { docId: string }) => h.docId)).toEqual(direct.results[0].hits.map((h) => h.docId));
    expect((await search(edge, { query: queries[0].text, mode: 'bm25', k: 5 }, searcher.key)).json.cached).toBe(true);
  });

  it('tells anonymous callers nothing of pool URLs or files, in a 503 or in health; the admin view does', async () => {
    fake.behaviour = 'not-ready';
    fake.ready = false;
    const res = await search(edge, { query: 'pool not ready', mode: 'bm25', k: 1 });
    expect(res.status, res.text).toBe(503);
    const id = res.headers.get('x-request-id')!;
    expect(res.json).toEqual({ error: { code: 'pool_unavailable', message: `the search pool is unavailable; retry later (request id ${id})` } });
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.text).not.toMatch(/\/srv|127\.0\.0\.1|http|shard/);
    await waitForOutput(edge, new RegExp(`\\[request ${id}\\] 503 pool_unavailable: `));
    expect(edge.output()).toContain(SECRET_PATH);

    // Let the edge's readiness cache (1 s) expire, so health asks the fake /readyz.
    await new Promise((r) => setTimeout(r, 1100));
    const health = await fetch(`${edge.url}/v1/health`);
    const healthText = await health.text();
    expect(health.status).toBe(503);
    expect(Object.keys(JSON.parse(healthText)).sort()).toEqual(['edge', 'indexVersion', 'pool']);
    expect(JSON.parse(healthText)).toMatchObject({ edge: 'ok', pool: 'down' });
    expect(healthText).not.toMatch(/\/srv|127\.0\.0\.1|http/);
    expect((await fetch(`${edge.url}/v1/admin/health`, { headers: { authorization: `Bearer ${searcher.key}` } })).status).toBe(403);
    const adminView = await fetch(`${edge.url}/v1/admin/health`, { headers: { authorization: `Bearer ${admin.key}` } });
    expect(adminView.status).toBe(503);
    expect(await adminView.json()).toMatchObject({ pool: 'down', endpoints: [{ url: fake.url, ready: false, detail: `cannot open ${SECRET_PATH}: ENOENT` }] });
    fake.ready = true;
    fake.behaviour = 'signed';
  });

  it('sends security headers with the demo page (CSP by hashes) and with API responses', async () => {
    const page = await fetch(`${edge.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const csp = page.headers.get('content-security-policy')!;
    const directives = Object.fromEntries(csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(directives).toEqual({
      'default-src': "'none'",
      'script-src': hash(html.match(/<script>([\s\S]*?)<\/script>/)![1]),
      'style-src': hash(html.match(/<style>([\s\S]*?)<\/style>/)![1]),
      'img-src': 'data:',
      'connect-src': "'self'",
      'base-uri': "'none'",
      'form-action': "'none'",
      'frame-ancestors': "'none'",
    });
    expect(csp).not.toContain('unsafe-inline');
    expect(html).toContain('sessionStorage');
    expect(html).not.toMatch(/localStorage\./);
    const api = await fetch(`${edge.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'headers', mode: 'bm25', k: 1 }) });
    expect(api.status).toBe(200);
    for (const res of [page, api]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-request-id')).toMatch(new RegExp(`^${UUID}$`));
    }
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});

describe('a misconfigured edge', () => {
  it('answers every caller a generic 500 with a request id; the configuration error is only in the log', async () => {
    const edge = await startEdge({ POOL_ENDPOINTS: 'http://127.0.0.1:9', POOL_SIGNING_KEY: 'k', API_KEYS: '[{"id": "broken"' }, { readyStatus: 500 });
    try {
      for (const path of ['/v1/health', '/v1/search', '/']) {
        const res = await fetch(`${edge.url}${path}`, path === '/v1/search' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"x"}' } : {});
        const text = await res.text();
        const id = res.headers.get('x-request-id')!;
        expect(res.status, path).toBe(500);
        expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: `the edge could not handle this request (request id ${id})` } });
        expect(text).not.toMatch(/API_KEYS|JSON/);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        await waitForOutput(edge, new RegExp(`\\[request ${id}\\] 500 internal: `));
      }
      expect(edge.output()).toMatch(/500 internal: the edge is misconfigured: API_KEYS: not valid JSON/);
    } finally {
      await edge.stop();
    }
  }, 120_000);

  it('refuses plain http to a pool host that is not loopback, naming POOL_ENDPOINTS and ALLOW_INSECURE_POOL_HTTP in the log', async () => {
    const edge = await startEdge({ POOL_ENDPOINTS: 'http://pool.example:7700', POOL_SIGNING_KEY: 'k' }, { readyStatus: 500 });
    try {
      const res = await fetch(`${edge.url}/v1/health`);
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain('pool.example');
      await waitForOutput(edge, /the edge is misconfigured: POOL_ENDPOINTS: at 0\.url: pool\.example:7700 is not loopback, .*ALLOW_INSECURE_POOL_HTTP="true"/);
    } finally {
      await edge.stop();
    }
  }, 120_000);
});
