// Hot swap: a node switches shard 0 to a new version while queries stream in; none is dropped,
// responses name the new index version once the swap is done, and no answer's version promise
// outlives the switch.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../shared/protocol/index.ts';
import type { PoolClient } from '../../gpu-pool/service/pool-client/index.ts';
import type { PoolNode } from '../../gpu-pool/service/server/index.ts';
import { readIndexManifest } from '../../gpu-pool/engine/shard/index.ts';
import { fixtureIndex, newerFixture } from '../index-fixture.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { SIGNING_KEY, adminSwap, startSoloNode } from './harness.ts';

let node: PoolNode;
let client: PoolClient;
let close: () => Promise<void>;
let v1: string;
let v2: string;

const swap = (body: unknown) => adminSwap(node.url, body);

beforeAll(async () => {
  v1 = await fixtureIndex({ limit: 200, shards: 2 });
  // A newer version of v1 (`index add` of 60 more documents): shard 0 has new content.
  v2 = await newerFixture(v1, 'v2', { add: { from: 200, count: 60 } });
  ({ node, client, close } = await startSoloNode(v1, 2));
});
afterAll(async () => {
  await close?.();
});

describe('shard hot swap', () => {
  it('switches shard 0 under load without failing a query, and the version changes', async () => {
    const [m1, m2] = [await readIndexManifest(v1), await readIndexManifest(v2)];
    expect(m2.shards[0].version).not.toBe(m1.shards[0].version);
    const queries = await scifactTestQueries(30);
    const before = await client.search([{ id: 'b', mode: 'bm25', k: 10, text: queries[0].text }]);
    expect(before.indexVersion).toBe(m1.version);

    let stop = false;
    const versions = new Set<string>();
    const answers: { version: string; sentAt: number; receivedAt: number; leaseMs: number }[] = [];
    let failures = 0;
    let answered = 0;
    const loop = async (w: number) => {
      for (let i = w; !stop; i += 4) {
        const sentAt = performance.now();
        const r = await client.search([{ id: `q${i}`, mode: i % 2 ? 'bm25' : 'dense', k: 10, text: queries[i % queries.length].text }]);
        answers.push({ version: r.indexVersion, sentAt, receivedAt: performance.now(), leaseMs: r.versionLeaseMs ?? -1 });
        const result = r.results[0];
        if (result.error || result.partial || result.hits.length !== 10) failures++;
        versions.add(r.indexVersion);
        answered++;
      }
    };
    const loops = [0, 1, 2, 3].map(loop);
    await new Promise((r) => setTimeout(r, 300));
    const swapAskedAt = performance.now();
    const res = await swap({ shard: 0, dir: join(v2, m2.shards[0].dir) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ shard: 0, from: m1.shards[0].version, to: m2.shards[0].version });
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(loops);

    expect(answered).toBeGreaterThan(20);
    expect(failures).toBe(0);
    const after = await client.search([{ id: 'a', mode: 'bm25', k: 10, text: queries[0].text }]);
    expect(after.indexVersion).not.toBe(m1.version);
    expect(versions).toContain(m1.version);
    expect(versions).toContain(after.indexVersion);
    const ready = await (await fetch(`${node.url}/readyz`)).json();
    expect(ready.shards['0']).toBe(m2.shards[0].version);

    // Version promises (versionLeaseMs, default 1000): every answer carries one; those given
    // before the swap was asked reach past that moment, so the swap had to wait for them ...
    expect(answers.every((a) => a.leaseMs >= 0 && a.leaseMs <= 1000)).toBe(true);
    const old = answers.filter((a) => a.version === m1.version);
    expect(Math.max(...old.map((a) => a.sentAt + a.leaseMs))).toBeGreaterThan(swapAskedAt);
    // ... and none of the old version's promises outlives the first answer of the new one.
    const firstNew = Math.min(...answers.filter((a) => a.version !== m1.version).map((a) => a.receivedAt));
    expect(old.filter((a) => a.sentAt + a.leaseMs > firstNew)).toEqual([]);
  });

  it('refuses a swap to a directory holding another shard, an unknown shard, an unsigned request or one signed with the edge key', async () => {
    const m2 = await readIndexManifest(v2);
    expect((await swap({ shard: 0, dir: join(v2, m2.shards[1].dir) })).status).toBe(403);
    expect((await swap({ shard: 7, dir: join(v2, m2.shards[1].dir) })).status).toBe(404);
    const unsigned = await fetch(`${node.url}/v1/admin/swap`, { method: 'POST', body: encodeFrame({ v: 1, type: 'error', code: 'internal', message: 'x' }) });
    expect(unsigned.status).toBe(401);
    // The key edges sign search frames with is not an admin key.
    expect((await adminSwap(node.url, { shard: 0, dir: join(v2, m2.shards[0].dir) }, { key: SIGNING_KEY })).status).toBe(401);
  });
});
