// The router's version guarantees on a real shard host: each answer passes on the shards'
// version promise, and evidence is never taken from another version than the search ran on.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardSearchFrame } from '../../shared/protocol/index.ts';
import { STATIC128_MODEL, fixtureIndex } from '../../test/index-fixture.ts';
import { loadEncoder, type Encoder } from '../encoders/index.ts';
import { readIndexManifest } from '../shard/index.ts';
import { ShardHost } from '../shard-host/index.ts';
import { ReplicaSet } from './replica-set.ts';
import { Router } from './router.ts';
import { LocalShardClient } from './shard-client.ts';

let encoder: Encoder;
let v1: string;
let v2: string;
const hosts: ShardHost[] = [];

beforeAll(async () => {
  [v1, v2] = await Promise.all([fixtureIndex({ limit: 200, shards: 2 }), fixtureIndex({ limit: 260, shards: 2 })]);
  encoder = await loadEncoder(STATIC128_MODEL, { threads: 1 });
}, 120_000);
afterAll(async () => {
  for (const h of hosts) await h.close();
  await encoder?.dispose();
});

/**
 * A local replica that, once, asks for a swap of its shard right after a search answered
 * (and, with `awaitSwap`, answers only once the swap is done: before the router asks for evidence).
 */
class SwapAfterSearch extends LocalShardClient {
  swapped?: Promise<unknown>;
  constructor(
    private readonly shardHost: ShardHost,
    private readonly swapTo: { shard: number; dir: string; awaitSwap: boolean },
  ) {
    super('local', shardHost);
  }
  override async search(frame: ShardSearchFrame) {
    const reply = await super.search(frame);
    if (frame.shard === this.swapTo.shard && !this.swapped) {
      this.swapped = this.shardHost.swap(this.swapTo.shard, this.swapTo.dir);
      if (this.swapTo.awaitSwap) await this.swapped;
    }
    return reply;
  }
}

async function routerOver(versionLeaseMs: number, awaitSwap: boolean) {
  const m1 = await readIndexManifest(v1);
  const m2 = await readIndexManifest(v2);
  const host = await ShardHost.open(v1, [0, 1], { versionLeaseMs });
  hosts.push(host);
  const client = new SwapAfterSearch(host, { shard: 0, dir: join(v2, m2.shards[0].dir), awaitSwap });
  const router = new Router({
    encoder,
    shards: [0, 1].map((s) => new ReplicaSet(s, [client], { hedgeMs: 10_000, cooldownMs: 0 })),
    index: { version: m1.version, shardVersions: m1.shards.map((s) => s.version) },
    batching: { maxBatchSize: 8, maxWaitMs: 0, maxQueue: 64, concurrency: 1 },
  });
  return { router, client, host };
}

// A query whose top-10 has hits on both shards of the 200-document fixture.
const frame = (id: string) => ({ v: 1 as const, type: 'search' as const, batchId: id, deadline: Date.now() + 10_000, queries: [{ id: 'q', mode: 'bm25' as const, k: 10, text: 'cells proteins expression' }] });

describe('Router version promises', () => {
  it('passes on the shards’ promise, and a swap asked for after the search serves the new version only once that promise has ended', async () => {
    const { router, client, host } = await routerOver(1000, false);
    const t0 = performance.now();
    const reply = await router.handle(frame('a'));
    expect(reply.versionLeaseMs).toBeGreaterThan(0);
    expect(reply.versionLeaseMs).toBeLessThanOrEqual(1000);
    const result = reply.results[0];
    expect(result.partial).toBeUndefined();
    expect(new Set(result.hits.map((h) => h.shard))).toEqual(new Set([0, 1]));
    const m1 = await readIndexManifest(v1);
    expect(host.versions()[0]).toBe(m1.shards[0].version); // the swap is still waiting
    await client.swapped;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(reply.versionLeaseMs!);
    expect(host.versions()[0]).not.toBe(m1.shards[0].version);
  });

  it('without promises a swap can land between search and evidence: the batch is searched again on the new version, never answered with another version’s text', async () => {
    const { router, host } = await routerOver(0, true);
    const reply = await router.handle(frame('b'));
    expect(reply.versionLeaseMs).toBe(0);
    const result = reply.results[0];
    expect(result.partial).toBeUndefined();
    const m1 = await readIndexManifest(v1);
    expect(reply.indexVersion).not.toBe(m1.version); // searched again: shard 0 is v2's
    // The same hits, evidence text included, as a query that runs wholly on the new version.
    expect(host.versions()[0]).toBe((await readIndexManifest(v2)).shards[0].version);
    const fresh = await router.handle(frame('c'));
    expect(fresh.indexVersion).toBe(reply.indexVersion);
    expect(result.hits).toEqual(fresh.results[0].hits);
  });
});
