// Rotating the signing key without refused frames: mid-rotation one node signs with the old key
// and accepts the new one, the other signs with the new key and accepts the old one. Each holds
// one shard, so every answer needs both, over node-to-node frames signed with different keys.
// Edges signing with either key get whole answers from either router (answers signed with the
// key of the request, which the edge verifies); a third key is refused.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../gpu-pool/service/cluster/index.ts';
import { PoolClient } from '../../gpu-pool/service/pool-client/index.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { spawnPoolNodes, writeClusterConfig, type PoolProcess } from './harness.ts';

const OLD = 'rotation-old-signing-key-0123456789';
const NEW = 'rotation-new-signing-key-9876543210';

let work: string;
let pool: { nodes: PoolProcess[]; stop(graceMs?: number): Promise<void> };
let queries: { id: string; text: string }[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-rotation-'));
  const index = await fixtureIndex({ limit: 200, shards: 2 });
  queries = await scifactTestQueries(5);
  const ports = [await freePort(), await freePort()];
  const config = await writeClusterConfig(join(work, 'cluster.json'), {
    index,
    threads: 1,
    batching: { maxQueueDelayMs: 600_000 },
    nodes: [
      { id: 'a', url: `http://127.0.0.1:${ports[0]}`, shards: [0] },
      { id: 'b', url: `http://127.0.0.1:${ports[1]}`, shards: [1] },
    ],
  });
  pool = await spawnPoolNodes([
    { nodeId: 'a', configPath: config, port: ports[0], env: { EDGESEARCH_POOL_KEY: OLD, EDGESEARCH_POOL_KEY_ACCEPTED: NEW } },
    { nodeId: 'b', configPath: config, port: ports[1], env: { EDGESEARCH_POOL_KEY: NEW, EDGESEARCH_POOL_KEY_ACCEPTED: OLD } },
  ]);
}, 300_000);

afterAll(async () => {
  await pool?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('signing key rotation (a second accepted key)', () => {
  it('answers edges signing with either key through either router, every shard present', async () => {
    for (const key of [OLD, NEW]) {
      for (const node of pool.nodes) {
        const client = await PoolClient.create(node.url, key);
        try {
          const r = await client.search(queries.map((q) => ({ id: q.id, mode: 'bm25' as const, k: 10, text: q.text })));
          for (const res of r.results) {
            expect(res.error, `${node.id} with the ${key === OLD ? 'old' : 'new'} key`).toBeUndefined();
            expect(res.partial).toBeUndefined();
            expect(new Set(res.hits.map((h) => h.shard))).toEqual(new Set([0, 1]));
          }
        } finally {
          client.close();
        }
      }
    }
  });

  it('refuses a key neither node holds', async () => {
    for (const node of pool.nodes) {
      const client = await PoolClient.create(node.url, 'a-third-key-nobody-holds-000000');
      try {
        await expect(client.search([{ id: 'q', mode: 'bm25', k: 3, text: queries[0].text }])).rejects.toMatchObject({ status: 401 });
      } finally {
        client.close();
      }
    }
  });
});
