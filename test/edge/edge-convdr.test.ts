// Mode conversational (ConvDR) through the edge in workerd (wrangler dev) in front of a real pool
// node that serves a conversational model: a stored conversation's turns answer as the stateless
// call with the same context, and mode conversational asked of a pool without that model is a 400
// naming the mode, never cached.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untrainedConversationalModel } from '../convdr-model-fixture.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex, USE_LITE_MODEL } from '../index-fixture.ts';
import { SIGNING_KEY, startSoloNode, type SoloNode } from '../pool/harness.ts';
import { startEdge, testKey, type EdgeServer } from './harness.ts';

const work = mkdtempSync(join(tmpdir(), 'es-edge-convdr-'));
const key = testKey('convdr', ['search'], { perSecond: 1000, burst: 1000 });
let withModel: SoloNode;
let without: SoloNode;
let edge: EdgeServer;
let plainEdge: EdgeServer;

const post = (server: EdgeServer, path: string, body: unknown) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` }, body: JSON.stringify(body) });

beforeAll(async () => {
  const index = await fixtureIndex({ limit: 200, shards: 2, model: USE_LITE_MODEL });
  withModel = await startSoloNode(index, 2, { conversationalModel: await untrainedConversationalModel(work) });
  without = await startSoloNode(index, 2);
  const vars = { POOL_SIGNING_KEY: SIGNING_KEY, API_KEYS: JSON.stringify([key.entry]) };
  [edge, plainEdge] = await Promise.all([startEdge({ ...vars, POOL_ENDPOINTS: withModel.node.url }), startEdge({ ...vars, POOL_ENDPOINTS: without.node.url })]);
}, 300_000);
afterAll(async () => {
  await Promise.all([edge?.stop(), plainEdge?.stop()]);
  await Promise.all([withModel?.close(), without?.close()]);
  rmSync(work, { recursive: true, force: true });
});

describe('mode conversational through the edge', () => {
  it('answers each turn of a stored conversation as the stateless call with the same context, and the context changes the answer', async () => {
    const questions = (await scifactTestQueries(5)).map((q) => q.text.replace(/\s+/gu, ' ').trim());
    const created = await post(edge, '/v1/conversations', {});
    expect(created.status).toBe(201);
    const { id } = await created.json();
    const before: { query: string }[] = [];
    let changed = 0;
    for (const [n, query] of questions.entries()) {
      const stateful = await post(edge, `/v1/conversations/${id}/search`, { query, mode: 'conversational', k: 10 });
      const got = await stateful.json();
      expect(stateful.status, JSON.stringify(got)).toBe(200);
      expect(got).toMatchObject({ mode: 'conversational', turn: n + 1, conversation: id });
      const stateless = await (await post(edge, '/v1/search', { query, mode: 'conversational', k: 10, cache: false, ...(before.length ? { context: before } : {}) })).json();
      expect(got.hits.map((h: { docId: string }) => h.docId)).toEqual(stateless.hits.map((h: { docId: string }) => h.docId));
      const alone = await (await post(edge, '/v1/search', { query, mode: 'conversational', k: 10, cache: false })).json();
      if (JSON.stringify(alone.hits.map((h: { docId: string }) => h.docId)) !== JSON.stringify(got.hits.map((h: { docId: string }) => h.docId))) changed++;
      before.push({ query });
    }
    expect(changed).toBeGreaterThanOrEqual(3); // turns 2-5 read the turns before them
  });

  it('is a 400 naming the mode on a pool without a conversational model, and not cached', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await post(plainEdge, '/v1/search', { query: 'Is it inherited?', mode: 'conversational', k: 5, context: [{ query: 'vitamin D deficiency' }] });
      const body = await res.json();
      expect(res.status).toBe(400);
      expect(body.error).toMatchObject({ code: 'bad_request', field: 'mode' });
      expect(body.error.message).toMatch(/no conversational encoder for mode "conversational" \(train one with `edgesearch convdr train`/);
    }
  });
});
