// Lease frames on a router over a real shard host: the index version named exactly as a search
// answer names it (before and after a swap), a promise a swap waits for, and nothing asked of
// the encoder or the batcher; a shard that cannot confirm its version fails the lease.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolError, type ShardLeaseFrame } from '../../../shared/protocol/index.ts';
import { STATIC128_MODEL, fixtureIndex, newerFixture } from '../../../test/index-fixture.ts';
import { loadEncoder, type Encoder } from '../../engine/encoders/index.ts';
import { readIndexManifest } from '../../engine/shard/index.ts';
import { ShardHost } from '../shard-host/index.ts';
import { ReplicaSet } from './replica-set.ts';
import { Router } from './router.ts';
import { LocalShardClient, RemoteError } from './shard-client.ts';

let encoder: Encoder;
let v1: string;
let v2: string;
const hosts: ShardHost[] = [];

beforeAll(async () => {
  v1 = await fixtureIndex({ limit: 200, shards: 2 });
  v2 = await newerFixture(v1, 'v2', { add: { from: 200, count: 60 } });
  encoder = await loadEncoder(STATIC128_MODEL, { threads: 1 });
}, 120_000);
afterAll(async () => {
  for (const h of hosts) await h.close();
  await encoder?.dispose();
});

const search = (id: string) => ({ v: 1 as const, type: 'search' as const, batchId: id, deadline: Date.now() + 10_000, queries: [{ id: 'q', mode: 'bm25' as const, k: 10, text: 'cells proteins expression' }] });
const lease = (id: string) => ({ v: 1 as const, type: 'lease' as const, batchId: id, deadline: Date.now() + 10_000 });

/** An encoder that must not be used: a lease needs none. */
const noEncoder = new Proxy({} as Encoder, {
  get: (_, prop) => {
    throw new Error(`the encoder was used (${String(prop)})`);
  },
});

async function routerOver(versionLeaseMs: number, clientFor: (host: ShardHost) => LocalShardClient = (h) => new LocalShardClient('local', h), enc: Encoder = encoder) {
  const m1 = await readIndexManifest(v1);
  const host = await ShardHost.open(v1, [0, 1], { versionLeaseMs });
  hosts.push(host);
  const client = clientFor(host);
  const router = new Router({
    encoder: enc,
    shards: [0, 1].map((s) => new ReplicaSet(s, [client], { hedgeMs: 10_000, cooldownMs: 0 })),
    index: { version: m1.version, shardVersions: m1.shards.map((s) => s.version) },
    batching: { maxBatchSize: 8, maxWaitMs: 0, maxQueue: 64, concurrency: 1, maxQueueDelayMs: 100 },
  });
  return { router, host, m1 };
}

describe('Router.lease', () => {
  it('names the index version as a search answer does, with the shards’ promise, without the encoder or the batcher', async () => {
    const { router, m1 } = await routerOver(1000, undefined, noEncoder);
    const reply = await router.lease(lease('l1'));
    expect(reply).toMatchObject({ v: 1, type: 'lease-result', batchId: 'l1', indexVersion: m1.version });
    expect(reply.versionLeaseMs).toBeGreaterThan(900);
    expect(reply.versionLeaseMs).toBeLessThanOrEqual(1000);
    expect(router.queueDepth).toBe(0);
  });

  it('after a swap, names the same digest of shard versions as the search answers, and the swap waited for its promise', async () => {
    const { router, host, m1 } = await routerOver(300);
    const m2 = await readIndexManifest(v2);
    const given = await router.lease(lease('before'));
    const t0 = performance.now();
    await host.swap(0, join(v2, m2.shards[0].dir));
    // The lease's promise held the swap back, as a search answer's would.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(given.versionLeaseMs - 20);
    const [after, searched] = [await router.lease(lease('after')), await router.handle(search('s'))];
    expect(after.indexVersion).not.toBe(m1.version);
    expect(after.indexVersion).toBe(searched.indexVersion);
  });

  it('promises nothing when the shards promise nothing', async () => {
    const { router } = await routerOver(0);
    expect((await router.lease(lease('none'))).versionLeaseMs).toBe(0);
  });

  it('fails as not-ready when a shard cannot confirm its version, as deadline when time runs out', async () => {
    class Down extends LocalShardClient {
      override async lease(frame: ShardLeaseFrame): Promise<never> {
        throw new RemoteError('down', 'unreachable', `shard ${frame.shard}: connection refused`);
      }
    }
    const { router } = await routerOver(1000, (h) => new Down('down', h));
    const err = await router.lease(lease('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ code: 'not-ready', batchId: 'x' });

    class Silent extends LocalShardClient {
      override lease(): Promise<never> {
        return new Promise(() => {});
      }
    }
    const { router: silent } = await routerOver(1000, (h) => new Silent('silent', h));
    const late = await silent.lease({ ...lease('y'), deadline: Date.now() + 50 }).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 'deadline', batchId: 'y' });
  });
});
