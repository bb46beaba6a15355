// The router's version guarantees on a real shard host: each answer passes on the shards'
// version promise, and evidence is never taken from another version than the search ran on.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceFrame, ShardSearchFrame } from '../../../shared/protocol/index.ts';
import { STATIC128_MODEL, fixtureIndex, newerFixture } from '../../../test/index-fixture.ts';
import { loadEncoder, type Encoder } from '../../engine/encoders/index.ts';
import { readIndexManifest } from '../../engine/shard/index.ts';
import { ShardHost } from '../shard-host/index.ts';
import { EvidenceVersionError } from './errors.ts';
import { ReplicaSet } from './replica-set.ts';
import { Router, type RouterOptions } from './router.ts';
import { LocalShardClient } from './shard-client.ts';

let encoder: Encoder;
let v1: string;
let v2: string;
const hosts: ShardHost[] = [];

beforeAll(async () => {
  v1 = await fixtureIndex({ limit: 200, shards: 2 });
  // A newer version of v1 (60 documents added): what a node may swap to.
  v2 = await newerFixture(v1, 'v2', { add: { from: 200, count: 60 } });
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

async function routerOver(versionLeaseMs: number, awaitSwap: boolean, hooks?: RouterOptions['hooks']) {
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
    hooks,
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
    const shardErrors: [number, unknown, string][] = [];
    const stages: Record<string, number[]> = { search: [], evidence: [] };
    const { router, host } = await routerOver(0, true, {
      onShardError: (s, err, stage) => shardErrors.push([s, err, stage]),
      onStage: (stage, ms) => stages[stage]?.push(ms),
    });
    const reply = await router.handle(frame('b'));
    // The mismatch is reported, naming the shard and both versions, and the batch went twice.
    expect(shardErrors).toHaveLength(1);
    const [shard, err, stage] = shardErrors[0];
    expect([shard, stage]).toEqual([0, 'evidence']);
    expect(err).toBeInstanceOf(EvidenceVersionError);
    expect(err).toMatchObject({ shard: 0, again: true, answered: host.versions()[0] });
    expect((err as EvidenceVersionError).searched).not.toBe((err as EvidenceVersionError).answered);
    // Both goes count in the wire's stage times.
    expect(stages.evidence).toHaveLength(2);
    expect(reply.timings.evidenceMs).toBe(stages.evidence[1] + stages.evidence[0]);
    expect(reply.timings.searchMs).toBe(stages.search[1] + stages.search[0]);
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

/** A local replica whose evidence answers come `delayMs` late, as from a slow passage store. */
class SlowEvidence extends LocalShardClient {
  constructor(
    host: ShardHost,
    private readonly delayMs: number,
  ) {
    super('slow-evidence', host);
  }
  override async evidence(frame: EvidenceFrame) {
    await new Promise((r) => setTimeout(r, this.delayMs));
    return super.evidence(frame);
  }
}

describe('Router timings', () => {
  it('reports evidence as its own stage: mergeMs no longer includes the evidence fetch', async () => {
    const m1 = await readIndexManifest(v1);
    const host = await ShardHost.open(v1, [0, 1], { versionLeaseMs: 0 });
    hosts.push(host);
    const client = new SlowEvidence(host, 40);
    const stages: Record<string, number> = {};
    const router = new Router({
      encoder,
      shards: [0, 1].map((s) => new ReplicaSet(s, [client], { hedgeMs: 10_000, cooldownMs: 0 })),
      index: { version: m1.version, shardVersions: m1.shards.map((s) => s.version) },
      batching: { maxBatchSize: 8, maxWaitMs: 0, maxQueue: 64, concurrency: 1 },
      hooks: { onStage: (stage, ms) => (stages[stage] = ms) },
    });
    const reply = await router.handle(frame('t'));
    expect(reply.results[0].hits.length).toBe(10);
    const { mergeMs, evidenceMs, searchMs, encodeMs, totalMs } = reply.timings;
    expect(evidenceMs).toBeGreaterThanOrEqual(40);
    expect(mergeMs).toBeLessThan(40); // merging 2 x 10 hits; before, the 40 ms fetch was in it
    // The wire says what the metrics' stages say, and the stages fit in the frame's time.
    expect(evidenceMs).toBe(stages.evidence);
    expect(mergeMs).toBe(stages.merge);
    expect(encodeMs + searchMs + mergeMs + evidenceMs!).toBeLessThanOrEqual(totalMs);
  });
});

describe('ReplicaSet deadlines', () => {
  it('waits for an answer when the deadline is further ahead than a timer can hold (2^31 ms)', async () => {
    const host = await ShardHost.open(v1, [0], { versionLeaseMs: 0 });
    hosts.push(host);
    const set = new ReplicaSet(0, [new LocalShardClient('local', host)], { hedgeMs: 0, cooldownMs: 0 });
    const deadline = Date.now() + 30 * 24 * 3600_000; // 30 days
    const reply = await set.call(async (c, signal) => {
      await new Promise((r) => setTimeout(r, 20));
      return c.search({ v: 1, type: 'shard-search', batchId: 'far', deadline, shard: 0, queries: [{ id: 'q', mode: 'bm25', k: 3, text: 'cells' }] }, signal);
    }, deadline);
    expect(reply.results[0].hits).toHaveLength(3);
  });
});
