// Conversation context at the edge, in workerd (wrangler dev) in front of a real pool node:
// stateless `context` on /v1/search and the batch (its limits: a blank turn is a 400 naming it,
// an oversized context a 413 naming the limit; the largest valid one is not refused for size),
// and stored conversations, one Durable Object each: a 6-turn conversation answers turn by turn
// as the stateless call with the same context does, 8 concurrent turns are all stored in order
// with exactly the turns before each as its context, a failed search stores nothing, idle expiry,
// DELETE, ownership (another key's 404, public mode's keyless capability), every size limit
// (413 naming it) and rate limits; and the cache never answers one context's query from another's.
// One edge and one pool node serve every case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureIndex } from '../index-fixture.ts';
import { SIGNING_KEY, startSoloNode, type SoloNode } from '../pool/harness.ts';
import { createClient } from '@edgesearch/client';
import { startEdge, testKey, type EdgeServer } from './harness.ts';

let pool: SoloNode;
let edge: EdgeServer;
const alice = testKey('alice', ['search'], { perSecond: 1000, burst: 1000 });
const bob = testKey('bob', ['search'], { perSecond: 1000, burst: 1000 });
const tight = testKey('tight', ['search'], { perSecond: 0.1, burst: 3 }); // no token comes back during the test

const TTL_S = 3;
const MAX_TURNS = 8;
const MAX_TURN_BYTES = 1500;
const MAX_BYTES = 8000;

interface Hit {
  docId: string;
  score: number;
  text: string;
}
interface Turn {
  turn: number;
  query: string;
  response?: string;
}

type Key = string | null;

function call(method: string, path: string, body?: unknown, key: Key = alice.key, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${edge.url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

async function json<T = any>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text.slice(0, 500)).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

async function create(key: Key = alice.key, headers: Record<string, string> = {}): Promise<string> {
  const body = await json(await call('POST', '/v1/conversations', undefined, key, headers), 201);
  expect(body.id).toMatch(/^c_[A-Za-z0-9_-]{32}$/);
  expect(body).toMatchObject({ turns: [], bytes: 0, limits: { maxTurns: MAX_TURNS, maxTurnBytes: MAX_TURN_BYTES, maxBytes: MAX_BYTES, ttlS: TTL_S } });
  return body.id;
}

const turnsOf = async (id: string, key: Key = alice.key): Promise<Turn[]> => (await json(await call('GET', `/v1/conversations/${id}`, undefined, key))).turns;
const search = (body: unknown, key: Key = alice.key) => call('POST', '/v1/search', body, key);
const turn = (id: string, body: unknown, key: Key = alice.key) => call('POST', `/v1/conversations/${id}/search`, body, key);
const ids = (hits: Hit[]) => hits.map((h) => h.docId);
const context = (turns: Turn[]) => turns.map((t) => (t.response === undefined ? { query: t.query } : { query: t.query, response: t.response }));
const bytes = (s: string) => new TextEncoder().encode(s).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function expectError(res: Response, status: number, code: string, field?: string): Promise<string> {
  const body = await json(res, status);
  expect(body.error.code).toBe(code);
  if (field !== undefined) expect(body.error.field).toBe(field);
  return body.error.message as string;
}

beforeAll(async () => {
  const index = await fixtureIndex({ limit: 200, shards: 2 });
  pool = await startSoloNode(index, 2);
  edge = await startEdge({
    POOL_ENDPOINTS: pool.node.url,
    POOL_SIGNING_KEY: SIGNING_KEY,
    API_KEYS: JSON.stringify([alice.entry, bob.entry, tight.entry]),
    PUBLIC_MODE: 'true',
    PUBLIC_RATE: JSON.stringify({ perSecond: 100, burst: 100 }),
    CONVERSATION_TTL_S: String(TTL_S),
    CONVERSATION_MAX_TURNS: String(MAX_TURNS),
    CONVERSATION_MAX_TURN_BYTES: String(MAX_TURN_BYTES),
    CONVERSATION_MAX_BYTES: String(MAX_BYTES),
  });
}, 300_000);
afterAll(async () => {
  await edge?.stop();
  await pool?.close();
});

describe('stored conversations', () => {
  it('a 6-turn conversation gives, turn by turn, the hits of the stateless search with the same context', async () => {
    const id = await create();
    const script: { query: string; policy: string; mode: string }[] = [
      { query: 'vitamin D deficiency in older adults', policy: 'concat', mode: 'hybrid' },
      { query: 'Does it  affect bone density?', policy: 'concat+responses', mode: 'hybrid' },
      { query: 'What about fracture risk?', policy: 'first', mode: 'dense' },
      { query: 'And in children?', policy: 'window:2', mode: 'bm25' },
      { query: 'Is supplementation effective?', policy: 'concat+responses', mode: 'bm25' },
      { query: 'What are the side effects?', policy: 'concat', mode: 'hybrid' },
    ];
    let contextMattered = 0;
    for (const [i, step] of script.entries()) {
      const before = await turnsOf(id);
      expect(before).toHaveLength(i);
      const req = { query: step.query, mode: step.mode, k: 5, params: { policy: step.policy } };
      const res = await json(await turn(id, { ...req, record: 'top' }));
      expect(res).toMatchObject({ conversation: id, turn: i + 1, query: step.query.replace(/\s+/g, ' '), mode: step.mode, k: 5 });
      expect(res.hits).toHaveLength(5);
      // The stateless call with the stored history as its context: the same cache entry ...
      const stateless = await json(await search({ ...req, context: context(before) }));
      expect(stateless.cached).toBe(true);
      expect(stateless.hits).toEqual(res.hits);
      // ... and the same hits from the pool itself.
      const fresh = await json(await search({ ...req, context: context(before), cache: false }));
      expect(fresh.cached).toBe(false);
      expect(ids(fresh.hits)).toEqual(ids(res.hits));
      fresh.hits.forEach((h: Hit, j: number) => expect(h.score).toBeCloseTo(res.hits[j].score, 5));
      if (i > 0) {
        const alone = await json(await search({ query: step.query, mode: step.mode, k: 5, cache: false }));
        if (ids(alone.hits).join() !== ids(res.hits).join()) contextMattered++;
      }
      // The turn is stored with the top passage as its response, cut to fit the limits.
      const after = await turnsOf(id);
      expect(after.slice(0, i)).toEqual(before);
      const stored = after[i];
      expect(stored).toMatchObject({ turn: i + 1, query: res.query });
      expect(stored.response).toBeDefined();
      expect(res.hits[0].text.startsWith(stored.response!)).toBe(true);
      expect(bytes(stored.query) + bytes(stored.response!)).toBeLessThanOrEqual(MAX_TURN_BYTES);
    }
    expect(contextMattered).toBeGreaterThan(0);
    const all = await json(await call('GET', `/v1/conversations/${id}`));
    expect(all.bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(all.bytes).toBe(all.turns.reduce((s: number, t: Turn) => s + bytes(t.query) + bytes(t.response ?? ''), 0));
  });

  it('stores 8 concurrent turns in the order accepted, none lost, each searched with exactly the turns before it', async () => {
    const id = await create();
    const queries = ['statin therapy', 'dementia risk', 'blood pressure', 'insulin resistance', 'gut microbiome', 'breast cancer screening', 'smoking cessation', 'sleep apnea'];
    const answers = await Promise.all(queries.map((q) => turn(id, { query: q, mode: 'bm25', k: 5, params: { policy: 'concat' } }).then((r) => json(r))));
    expect(answers.map((a) => a.turn).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const stored = await turnsOf(id);
    expect(stored.map((t) => t.turn)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...stored.map((t) => t.query)].sort()).toEqual([...queries].sort());
    for (const a of answers) {
      expect(stored[a.turn - 1].query).toBe(a.query);
      // Its hits are those of the turns stored before it as context (and of no other prefix).
      const fresh = await json(await search({ query: a.query, mode: 'bm25', k: 5, params: { policy: 'concat' }, context: context(stored.slice(0, a.turn - 1)), cache: false }));
      expect(ids(fresh.hits), `turn ${a.turn}`).toEqual(ids(a.hits));
    }
    // The conversation is full: a ninth turn is refused, naming the limit, and stores nothing.
    const msg = await expectError(await turn(id, { query: 'one more', mode: 'bm25' }), 413, 'payload_too_large');
    expect(msg).toMatch(/CONVERSATION_MAX_TURNS 8/);
    expect(await turnsOf(id)).toHaveLength(8);
  });

  it('stores nothing for a failed search, and numbers the next turn on', async () => {
    const id = await create();
    expect((await json(await turn(id, { query: 'aspirin and heart attacks', mode: 'bm25' }))).turn).toBe(1);
    // The index has no token store: the pool refuses colbert, the edge answers 400 naming the mode.
    await expectError(await turn(id, { query: 'and strokes?', mode: 'colbert' }), 400, 'bad_request', 'mode');
    // A bad request never reaches the conversation either.
    await expectError(await turn(id, { query: 'and strokes?', k: 0 }), 400, 'bad_request', 'k');
    await expectError(await turn(id, { query: 'and strokes?', context: [{ query: 'x' }] }), 400, 'bad_request', 'context');
    await expectError(await turn(id, { query: 'and strokes?', record: 'all' }), 400, 'bad_request', 'record');
    expect(await turnsOf(id)).toEqual([{ turn: 1, query: 'aspirin and heart attacks' }]);
    expect((await json(await turn(id, { query: 'and strokes?', mode: 'bm25' }))).turn).toBe(2);
  });

  it('records responses with PUT, within the limits of a turn and of the conversation (413 naming each)', async () => {
    const id = await create();
    for (let i = 1; i <= 5; i++) expect((await json(await turn(id, { query: `turn ${i} cholesterol`, mode: 'bm25', k: 1 }))).turn).toBe(i);
    for (let i = 1; i <= 5; i++) {
      const put = await json(await call('PUT', `/v1/conversations/${id}/turns/${i}/response`, { response: 'r'.repeat(1400) }));
      expect(put).toEqual({ turn: i, query: `turn ${i} cholesterol`, response: 'r'.repeat(1400) });
    }
    // Replacing a response: the turn's own limit counts the new one.
    expect(await expectError(await call('PUT', `/v1/conversations/${id}/turns/2/response`, { response: 'r'.repeat(1490) }), 413, 'payload_too_large', 'response')).toMatch(
      /CONVERSATION_MAX_TURN_BYTES 1500/,
    );
    expect((await json(await call('PUT', `/v1/conversations/${id}/turns/2/response`, { response: 'short answer' }))).response).toBe('short answer');
    expect((await json(await call('PUT', `/v1/conversations/${id}/turns/2/response`, { response: 'r'.repeat(1400) }))).response).toHaveLength(1400);
    // ~7,100 bytes stored: a query of 1,000 bytes would pass the conversation's 8,000.
    expect(await expectError(await turn(id, { query: 'q'.repeat(1000), mode: 'bm25' }), 413, 'payload_too_large', 'query')).toMatch(/CONVERSATION_MAX_BYTES 8000/);
    // A query longer than a turn may be (2,048 bytes of 1,024 characters): refused before searching.
    expect(await expectError(await turn(id, { query: 'é'.repeat(1024), mode: 'bm25' }), 413, 'payload_too_large', 'query')).toMatch(/CONVERSATION_MAX_TURN_BYTES 1500/);
    expect(await expectError(await call('PUT', `/v1/conversations/${id}/turns/1/response`, { response: 'x'.repeat(4097) }), 413, 'payload_too_large', 'response')).toMatch(/MAX_RESPONSE_CHARS/);
    await expectError(await call('PUT', `/v1/conversations/${id}/turns/1/response`, { answer: 'x' }), 400, 'bad_request');
    await expectError(await call('PUT', `/v1/conversations/${id}/turns/9/response`, { response: 'x' }), 404, 'not_found');
    await expectError(await call('PUT', `/v1/conversations/${id}/turns/0/response`, { response: 'x' }), 404, 'not_found');
    const stored = await turnsOf(id);
    expect(stored).toHaveLength(5);
    expect(stored.every((t) => t.response === 'r'.repeat(1400))).toBe(true);
    // The recorded responses are the next turn's context under concat+responses.
    const res = await json(await turn(id, { query: 'diet', mode: 'bm25', k: 3, params: { policy: 'concat+responses' } }));
    const stateless = await json(await search({ query: 'diet', mode: 'bm25', k: 3, params: { policy: 'concat+responses' }, context: context(stored) }));
    expect(stateless.cached).toBe(true);
    expect(ids(stateless.hits)).toEqual(ids(res.hits));
  });

  it('belongs to the key that created it: any other key, or none, gets 404', async () => {
    const id = await create(alice.key);
    await json(await turn(id, { query: 'influenza vaccine', mode: 'bm25' }));
    await expectError(await call('GET', `/v1/conversations/${id}`, undefined, bob.key), 404, 'not_found');
    await expectError(await turn(id, { query: 'in the elderly?', mode: 'bm25' }, bob.key), 404, 'not_found');
    await expectError(await call('PUT', `/v1/conversations/${id}/turns/1/response`, { response: 'x' }, bob.key), 404, 'not_found');
    await expectError(await call('DELETE', `/v1/conversations/${id}`, undefined, bob.key), 404, 'not_found');
    await expectError(await call('GET', `/v1/conversations/${id}`, undefined, null), 404, 'not_found');
    // Unknown and malformed ids are the same 404.
    await expectError(await call('GET', `/v1/conversations/c_${'A'.repeat(32)}`), 404, 'not_found');
    await expectError(await call('GET', '/v1/conversations/nope'), 404, 'not_found');
    // Untouched by all that.
    expect(await turnsOf(id)).toEqual([{ turn: 1, query: 'influenza vaccine' }]);
  });

  it('in public mode, the id is the capability of keyless callers (whatever their address); keys cannot reach them', async () => {
    const id = await create(null, { 'cf-connecting-ip': '203.0.113.7' });
    expect((await json(await turn(id, { query: 'obesity', mode: 'bm25' }, null))).turn).toBe(1);
    expect(await turnsOf(id, null)).toHaveLength(1);
    const other = await call('GET', `/v1/conversations/${id}`, undefined, null, { 'cf-connecting-ip': '198.51.100.9' });
    expect((await json(other)).turns).toHaveLength(1);
    await expectError(await call('GET', `/v1/conversations/${id}`, undefined, alice.key), 404, 'not_found');
  });

  it('is created with no body or {}, on a kept-alive connection too; any field is a 400', async () => {
    // node:http with keep-alive: an unread body once broke the connection for the next request.
    const { Agent, request } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(new URL('/v1/conversations', edge.url), { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), authorization: `Bearer ${alice.key}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect(await send('{}')).toBe(201);
      expect(await send('{ }')).toBe(201);
      expect(await send('')).toBe(201);
    } finally {
      agent.destroy();
    }
    expect(await expectError(await call('POST', '/v1/conversations', { ttl: 5 }), 400, 'bad_request')).toMatch(/takes no fields: send no body, or \{\}/);
  });

  it('DELETE erases it: 404 afterwards, for every route', async () => {
    const id = await create();
    await json(await turn(id, { query: 'melatonin and sleep', mode: 'bm25' }));
    const del = await call('DELETE', `/v1/conversations/${id}`);
    expect(del.status).toBe(204);
    await expectError(await call('GET', `/v1/conversations/${id}`), 404, 'not_found');
    await expectError(await turn(id, { query: 'dose?', mode: 'bm25' }), 404, 'not_found');
    await expectError(await call('PUT', `/v1/conversations/${id}/turns/1/response`, { response: 'x' }), 404, 'not_found');
    await expectError(await call('DELETE', `/v1/conversations/${id}`), 404, 'not_found');
  });

  it('expires after the idle TTL; each call starts it again', async () => {
    const id = await create();
    await json(await turn(id, { query: 'zinc and colds', mode: 'bm25' }));
    await sleep(TTL_S * 600);
    expect(await turnsOf(id)).toHaveLength(1); // a call: the TTL starts again
    await sleep(TTL_S * 600);
    expect(await turnsOf(id)).toHaveLength(1);
    await sleep(TTL_S * 1000 + 500);
    await expectError(await call('GET', `/v1/conversations/${id}`), 404, 'not_found');
    await expectError(await turn(id, { query: 'dose?', mode: 'bm25' }), 404, 'not_found');
  });

  it('counts every conversation call against the rate limit', async () => {
    const id = await create(tight.key);
    expect((await json(await turn(id, { query: 'omega-3', mode: 'bm25' }, tight.key))).turn).toBe(1);
    expect(await turnsOf(id, tight.key)).toHaveLength(1);
    const refused = await call('GET', `/v1/conversations/${id}`, undefined, tight.key);
    await expectError(refused, 429, 'rate_limited');
  });
});

describe('stateless context', () => {
  it('400 naming a blank turn; 413 naming the limit of an oversized context', async () => {
    await expectError(await search({ query: 'x', context: [{ query: 'a' }, { query: 'b' }, { query: '  ' }] }), 400, 'bad_request', 'context.2.query');
    await expectError(await search({ query: 'x', context: [{ query: '' }] }), 400, 'bad_request', 'context.0.query');
    await expectError(await search({ query: 'x', context: [{ response: 'r' }] }), 400, 'bad_request', 'context.0.query');
    await expectError(await search({ query: 'x', context: [{ query: 'a', extra: 1 }] }), 400, 'bad_request', 'context.0.extra');
    expect(await expectError(await search({ query: 'x', context: Array(33).fill({ query: 'a' }) }), 413, 'payload_too_large', 'context')).toMatch(/MAX_CONTEXT_TURNS/);
    expect(await expectError(await search({ query: 'x', context: Array(5).fill({ query: 'a', response: 'r'.repeat(4000) }) }), 413, 'payload_too_large', 'context')).toMatch(/16384 \(MAX_CONTEXT_CHARS\)/);
    expect(await expectError(await search({ query: 'x', context: [{ query: 'a', response: 'r'.repeat(4097) }] }), 413, 'payload_too_large', 'context.0.response')).toMatch(/MAX_RESPONSE_CHARS/);
    await expectError(await call('POST', '/v1/search/batch', { queries: [{ query: 'ok' }, { query: 'x', context: [{ query: 'a' }, { query: ' ' }] }] }), 400, 'bad_request', 'queries.1.context.1.query');
    await expectError(await search({ query: 'x', params: { policy: 'last' } }), 400, 'bad_request', 'params.policy');
  });

  it('does not refuse the largest valid context for its size', async () => {
    // 16 turns of 1,024 astral characters, each written as an escaped surrogate pair: 196 KB of JSON.
    const body = JSON.stringify({ query: 'x', mode: 'bm25', k: 1, context: Array(16).fill({ query: '😀'.repeat(1024) }) }).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    expect(body.length).toBeGreaterThan(196_000);
    const res = await search(body);
    expect(res.status, (await res.clone().text()).slice(0, 300)).not.toBe(413);
    expect(res.status).toBe(200);
  });

  it('never answers a query from the cache of another context', async () => {
    const q = { query: 'Is it treatable?', mode: 'bm25', k: 5 };
    const a = [{ query: 'tuberculosis drug resistance' }];
    const b = [{ query: 'type 2 diabetes in adolescents' }];
    const first = await json(await search({ ...q, context: a }));
    expect(first.cached).toBe(false);
    expect((await json(await search({ ...q, context: a }))).cached).toBe(true);
    // The same query text with another context: not cached, and the hits of its own context.
    const other = await json(await search({ ...q, context: b }));
    expect(other.cached).toBe(false);
    expect(ids(other.hits)).toEqual(ids((await json(await search({ ...q, context: b, cache: false }))).hits));
    expect(ids(other.hits)).not.toEqual(ids(first.hits));
    // A response in a turn, another policy, no context at all: each its own entry.
    expect((await json(await search({ ...q, context: [{ ...a[0], response: 'isoniazid and rifampicin' }] }))).cached).toBe(false);
    expect((await json(await search({ ...q, context: a, params: { policy: 'raw' } }))).cached).toBe(false);
    const none = await json(await search(q));
    expect(none.cached).toBe(false);
    // An empty context is no context.
    expect((await json(await search({ ...q, context: [] }))).cached).toBe(true);
    // A stored conversation's turn with the same text but its own history is no cache hit either.
    const id = await create();
    await json(await turn(id, { query: 'vitamin C and the common cold', mode: 'bm25', k: 5 }));
    const t2 = await json(await turn(id, q));
    expect(t2.cached).toBe(false);
    expect(ids(t2.hits)).toEqual(ids((await json(await search({ ...q, context: [{ query: 'vitamin C and the common cold' }], cache: false }))).hits));
    // And a batch keys each query by its own context.
    const batch = await json(await call('POST', '/v1/search/batch', { queries: [{ ...q, context: a }, { ...q, context: b }, { ...q, context: [{ query: 'malaria prophylaxis' }] }] }));
    expect(batch.results.map((r: { cached: boolean }) => r.cached)).toEqual([true, true, false]);
    expect(ids(batch.results[0].hits)).toEqual(ids(first.hits));
    expect(ids(batch.results[1].hits)).toEqual(ids(other.hits));
  });
});

describe('typed client, and the log', () => {
  it('creates, searches, records, reads and deletes a conversation with the types of the routes', async () => {
    const es = createClient({ endpoint: edge.url, apiKey: alice.key, retry: false });
    const conv = await es.conversations.create();
    const t1 = await es.conversations.search(conv.id, { query: 'coffee and liver disease', mode: 'bm25', k: 3, record: 'top' });
    expect([t1.conversation, t1.turn, t1.hits.length]).toEqual([conv.id, 1, 3]);
    expect(await es.conversations.recordResponse(conv.id, 1, 'a short answer')).toEqual({ turn: 1, query: 'coffee and liver disease', response: 'a short answer' });
    expect((await es.conversations.get(conv.id)).turns).toEqual([{ turn: 1, query: 'coffee and liver disease', response: 'a short answer' }]);
    await es.conversations.delete(conv.id);
    await expect(es.conversations.get(conv.id)).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('logged no server error and no lost turn: every refusal above was the caller’s', () => {
    expect(edge.output()).not.toMatch(/\[request [0-9a-f-]+\] 5\d\d/);
    expect(edge.output()).not.toContain('[conversation]');
  });
});
