// Admission control: a burst far beyond capacity is partly shed with 429 + an overload error
// frame (Retry-After set) while the admitted queries are answered; the node stays healthy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PoolClient } from '../../gpu-pool/service/pool-client/index.ts';
import type { PoolNode } from '../../gpu-pool/service/server/index.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { startSoloNode } from './harness.ts';

let node: PoolNode;
let client: PoolClient;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ node, client, close } = await startSoloNode(await fixtureIndex({ limit: 200, shards: 2 }), 2, {
    batching: { maxBatchSize: 4, concurrency: 1, maxQueueDelayMs: 5, maxQueue: 64 },
  }));
});
afterAll(async () => {
  await close?.();
});

describe('pool node overload', () => {
  it('sheds part of a burst with 429 overload frames and answers the rest', async () => {
    const queries = await scifactTestQueries(50);
    const warm = await client.search([{ id: 'w', mode: 'hybrid', k: 10, text: queries[0].text }]);
    expect(warm.results[0].hits.length).toBe(10);
    const replies = await Promise.all(Array.from({ length: 400 }, (_, i) => client.post([{ id: `q${i}`, mode: 'hybrid', k: 10, text: queries[i % queries.length].text }])));
    const shed = replies.filter((r) => r.status === 429);
    const answered = replies.filter((r) => r.status === 200);
    expect(shed.length).toBeGreaterThan(0);
    expect(answered.length).toBeGreaterThan(0);
    expect(shed.length + answered.length).toBe(400);
    for (const r of shed) {
      expect(r.frame).toMatchObject({ type: 'error', code: 'overloaded' });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    for (const r of answered) expect(r.frame.type === 'result' && r.frame.results[0].hits.length).toBe(10);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(Number(/^edgesearch_shed_queries_total (\d+)/m.exec(metrics)?.[1])).toBe(shed.length);
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
  });
});
