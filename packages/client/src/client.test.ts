// The client's own behaviour against scripted HTTP servers on loopback (real sockets): what it
// sends, how it turns answers into results and errors, and when it retries. Its behaviour against
// the real edge, in Node, workerd and Chromium, is runtimes/runtimes.test.ts.
import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startBodyServer } from '../../../test/edge/harness.ts';
import { EdgeSearchConnectionError, EdgeSearchError, createClient } from './index.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}
type Reply = { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number };

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server that answers the i-th request with replies[i] (the last one after that) and records what it was sent. */
async function scripted(replies: Reply[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = await startBodyServer(async (req, res, body) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: body.toString('utf8'), at: Date.now() });
    const reply = replies[Math.min(seen.length - 1, replies.length - 1)]!;
    await new Promise((r) => setTimeout(r, reply.delayMs ?? 0));
    // The client may have given up (timeout, abort) and the test closed the server meanwhile.
    if (res.destroyed) return;
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  });
  servers.push(server);
  return { url: server.url, seen };
}

const hitsBody = { query: 'q', mode: 'bm25', k: 1, indexVersion: 'v1', cached: false, hits: [], timings: { edgeMs: 1 } };
const apiError = (code: string, message: string, field?: string) => ({ error: { code, message, ...(field ? { field } : {}) } });

describe('requests', () => {
  it('sends each operation to its method and path, with the key, JSON body and path parameters encoded', async () => {
    const srv = await scripted([{ status: 200, body: hitsBody }]);
    const client = createClient({ endpoint: `${srv.url}/prefix/`, apiKey: 'k1', headers: { 'x-extra': 'yes' } });
    await client.search({ query: 'statins', mode: 'bm25', k: 3 });
    await client.searchBatch([{ query: 'a' }, { query: 'b' }]);
    await client.answer({ query: 'who', k: 2, unit: 'sentence' });
    await client.conversations.search('c_a/b', { query: 'next' });
    await client.conversations.recordResponse('c_x', 2, 'said');
    expect(srv.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /prefix/v1/search',
      'POST /prefix/v1/search/batch',
      'POST /prefix/v1/search',
      'POST /prefix/v1/conversations/c_a%2Fb/search',
      'PUT /prefix/v1/conversations/c_x/turns/2/response',
    ]);
    expect(srv.seen[0]!.headers).toMatchObject({ authorization: 'Bearer k1', 'content-type': 'application/json', 'x-extra': 'yes' });
    expect(JSON.parse(srv.seen[0]!.body)).toEqual({ query: 'statins', mode: 'bm25', k: 3 });
    expect(JSON.parse(srv.seen[1]!.body)).toEqual({ queries: [{ query: 'a' }, { query: 'b' }] });
    expect(JSON.parse(srv.seen[2]!.body)).toEqual({ query: 'who', k: 2, mode: 'phrase', params: { unit: 'sentence' } });
    expect(JSON.parse(srv.seen[4]!.body)).toEqual({ response: 'said' });
  });

  it('sends no key and no body where there is none', async () => {
    const srv = await scripted([{ status: 201, body: { id: 'c_1' } }, { status: 204 }]);
    const client = createClient({ endpoint: srv.url });
    await client.conversations.create();
    await expect(client.conversations.delete('c_1')).resolves.toBeUndefined();
    expect(srv.seen[0]!.headers.authorization).toBeUndefined();
    expect(srv.seen[0]!.headers['content-type']).toBeUndefined();
    expect(srv.seen.map((s) => [s.method, s.body])).toEqual([
      ['POST', ''],
      ['DELETE', ''],
    ]);
  });

  it('refuses an endpoint that is not an absolute http(s) URL, and a missing path parameter', async () => {
    expect(() => createClient({ endpoint: 'localhost:8787' })).toThrow(/absolute http\(s\) URL/);
    expect(() => createClient({ endpoint: 'ftp://x' })).toThrow(/http\(s\) URL/);
    expect(() => createClient({ endpoint: 'http://x', retry: { retries: -1 } })).toThrow(/retry.retries/);
    await expect(createClient({ endpoint: 'http://127.0.0.1:9' }).conversations.get('')).rejects.toThrow(/path parameter id is missing/);
  });

  it('returns health with a pool that is down (503) as an answer, not an error', async () => {
    const srv = await scripted([{ status: 503, body: { edge: 'ok', pool: 'down' }, headers: { 'retry-after': '1' } }]);
    await expect(createClient({ endpoint: srv.url }).health()).resolves.toEqual({ edge: 'ok', pool: 'down' });
    expect(srv.seen).toHaveLength(1);
  });
});

describe('errors', () => {
  it("an API error carries its status, code, field, message and request id, and is final (no retry)", async () => {
    const srv = await scripted([{ status: 400, body: apiError('bad_request', 'must be at most 100', 'k'), headers: { 'x-request-id': 'rid-1' } }]);
    const err = await createClient({ endpoint: srv.url }).search({ query: 'q', k: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeSearchError);
    expect(err).toMatchObject({ operation: 'search', status: 400, code: 'bad_request', field: 'k', detail: 'must be at most 100', requestId: 'rid-1', retryable: false });
    expect((err as Error).message).toBe('search: 400 bad_request (k): must be at most 100');
    expect(srv.seen).toHaveLength(1);
  });

  it('an answer that is not the API error shape is an http_error with the start of the body', async () => {
    const srv = await scripted([{ status: 502, body: '<html>bad gateway</html>' }]);
    await expect(createClient({ endpoint: srv.url }).search({ query: 'q' })).rejects.toMatchObject({ status: 502, code: 'http_error', detail: '<html>bad gateway</html>' });
  });

  it('a connection that fails, a timeout and an abort are EdgeSearchConnectionErrors that say which', async () => {
    const refused = await createClient({ endpoint: 'http://127.0.0.1:9' }).search({ query: 'q' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EdgeSearchConnectionError);
    expect((refused as Error).message).toMatch(/^search: POST http:\/\/127\.0\.0\.1:9\/v1\/search failed/);

    const slow = await scripted([{ status: 200, body: hitsBody, delayMs: 2000 }]);
    await expect(createClient({ endpoint: slow.url, timeoutMs: 100 }).search({ query: 'q' })).rejects.toThrow('search: no answer within 100 ms');
    const ac = new AbortController();
    const pending = createClient({ endpoint: slow.url }).search({ query: 'q' }, { signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toThrow('search: aborted');
  });
});

describe('retries', () => {
  it('retries 429 and 503 after at least Retry-After, then returns the answer', async () => {
    const srv = await scripted([
      { status: 429, body: apiError('rate_limited', 'slow down'), headers: { 'retry-after': '1' } },
      { status: 503, body: apiError('pool_unavailable', 'no pool'), headers: { 'retry-after': '1' } },
      { status: 200, body: hitsBody },
    ]);
    const res = await createClient({ endpoint: srv.url, retry: { retries: 2, baseDelayMs: 10 } }).search({ query: 'q' });
    expect(res.indexVersion).toBe('v1');
    expect(srv.seen).toHaveLength(3);
    expect(srv.seen[1]!.at - srv.seen[0]!.at).toBeGreaterThanOrEqual(990);
    expect(srv.seen[2]!.at - srv.seen[1]!.at).toBeGreaterThanOrEqual(990);
    // The retried request is the same request.
    expect(new Set(srv.seen.map((s) => s.body)).size).toBe(1);
  });

  it('gives up after the configured retries with the last error, retryable and with its Retry-After', async () => {
    const srv = await scripted([{ status: 429, body: apiError('rate_limited', 'slow down'), headers: { 'retry-after': '1' } }]);
    const err = await createClient({ endpoint: srv.url, retry: { retries: 1, baseDelayMs: 0 } }).search({ query: 'q' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', retryAfterS: 1, retryable: true });
    expect(srv.seen).toHaveLength(2);
  });

  it('does not wait longer than maxDelayMs: a longer Retry-After is thrown at once', async () => {
    const srv = await scripted([{ status: 503, body: apiError('pool_unavailable', 'no pool'), headers: { 'retry-after': '30' } }]);
    const started = Date.now();
    await expect(createClient({ endpoint: srv.url, retry: { maxDelayMs: 5000 } }).search({ query: 'q' })).rejects.toMatchObject({ code: 'pool_unavailable', retryAfterS: 30 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(srv.seen).toHaveLength(1);
  });

  it('never retries a status the API does not send with Retry-After, nor with retry: false', async () => {
    for (const [status, code] of [
      [500, 'internal'],
      [502, 'bad_gateway'],
      [504, 'deadline_exceeded'],
    ] as const) {
      const srv = await scripted([{ status, body: apiError(code, 'x') }]);
      await expect(createClient({ endpoint: srv.url }).search({ query: 'q' })).rejects.toMatchObject({ status, code });
      expect(srv.seen, code).toHaveLength(1);
    }
    const srv = await scripted([{ status: 429, body: apiError('rate_limited', 'x'), headers: { 'retry-after': '1' } }]);
    await expect(createClient({ endpoint: srv.url, retry: false }).search({ query: 'q' })).rejects.toMatchObject({ status: 429 });
    expect(srv.seen).toHaveLength(1);
  });

  it('an abort while waiting to retry stops the retries', async () => {
    const srv = await scripted([{ status: 429, body: apiError('rate_limited', 'x'), headers: { 'retry-after': '5' } }]);
    const ac = new AbortController();
    const pending = createClient({ endpoint: srv.url }).search({ query: 'q' }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await expect(pending).rejects.toThrow('search: aborted while waiting to retry');
    expect(srv.seen).toHaveLength(1);
  });
});
