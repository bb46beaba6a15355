// The edge in workerd (wrangler dev) in front of a local pool cluster of real processes (3 nodes,
// 4 shards, 2 replicas, every node a router): the 300 SciFact test queries get the same top-10
// through the edge as from one process holding every shard; a router killed under load is routed
// around; with a whole shard gone, answers come back marked partial and are not cached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeQuery } from '../../shared/api/index.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { closedLoopWith } from '../load/closed-loop.ts';
import { EdgeLoadClient } from '../load/edge-client.ts';
import { SIGNING_KEY, referenceAnswers, startTestCluster, type Reference, type TestCluster } from '../pool/harness.ts';
import { startEdge, testKey, type EdgeServer } from './harness.ts';

let pool: TestCluster;
let edge: EdgeServer;
let client: EdgeLoadClient;
let queries: { id: string; text: string }[];
let reference: Map<string, Reference>;
const key = testKey('cluster', ['search'], { perSecond: 1e6, burst: 1e6 });

beforeAll(async () => {
  const index = await fixtureIndex({ limit: 400, shards: 4 });
  // The edge searches the normalized text (whitespace runs collapsed), so the reference does too.
  queries = (await scifactTestQueries()).map((q) => ({ id: q.id, text: normalizeQuery(q.text) }));
  reference = await referenceAnswers(index, queries, ['dense', 'bm25']);
  pool = await startTestCluster(index, { nodes: 3, replicas: 2, shards: 4, overrides: { hedgeMs: 100, cooldownMs: 2000, batching: { maxQueueDelayMs: 600_000 } } });
  edge = await startEdge({
    POOL_ENDPOINTS: JSON.stringify(pool.cluster.nodes.map((n) => ({ url: n.url }))),
    POOL_SIGNING_KEY: SIGNING_KEY,
    API_KEYS: JSON.stringify([key.entry]),
    REQUEST_DEADLINE_MS: '10000',
  });
  client = new EdgeLoadClient(edge.url, key.key);
}, 300_000);
afterAll(async () => {
  client?.close();
  await edge?.stop();
  await pool?.stop();
});

describe('edge + local pool cluster', () => {
  it('returns the same top-10 as one process holding every shard, for the 300 test queries', async () => {
    expect(queries).toHaveLength(300);
    for (const mode of ['dense', 'bm25'] as const) {
      // 16 requests in flight at a time: concurrent enough to form micro-batches.
      const answers: Awaited<ReturnType<EdgeLoadClient['sample']>>[] = [];
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < queries.length; i = next++) answers[i] = await client.sample({ query: queries[i].text, mode, k: 10, cache: false }, 0);
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      answers.forEach((a, i) => {
        expect(a.ok, a.code).toBe(true);
        expect(a.ids, `${mode}:${queries[i].id}`).toEqual(reference.get(`${mode}:${queries[i].id}`)!.ids);
      });
    }
  });

  it('routes around a router SIGKILLed under load, and answers partial (uncached) without a shard', async () => {
    const victim = pool.cluster.nodes[1];
    const killAt = 1500;
    const killed = new Promise<void>((resolve) => setTimeout(() => void pool.cluster.kill(victim.id).then(resolve), killAt));
    const { samples } = await closedLoopWith((i, t0) => client.sample({ query: queries[i % queries.length].text, mode: 'bm25', k: 10, cache: false }, t0), { clients: 16, durationMs: 5000 });
    await killed;
    const failed = samples.filter((s) => !s.ok);
    expect(samples.filter((s) => s.at > killAt + 500).length).toBeGreaterThan(50);
    expect(failed, JSON.stringify(failed.slice(0, 3))).toEqual([]);
    for (const s of samples) expect(s.partial).toBeUndefined();

    // Shard 1 lives on nodes 1 and 2 only: with both gone, node 0 answers without it.
    await pool.cluster.kill(pool.cluster.nodes[2].id);
    const q = { query: `${queries[0].text} outcomes`, mode: 'bm25' as const, k: 10 }; // not yet cached
    const first = await client.search(q);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ partial: { missingShards: [1] }, cached: false });
    const again = await client.search(q);
    expect(again.json).toMatchObject({ partial: { missingShards: [1] }, cached: false });
  });
});
