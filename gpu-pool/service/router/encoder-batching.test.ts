// A dynamic batch meets the encoder once; with 'padded' batching that is one onnxruntime call for
// the whole batch, with 'rows' one call per query. Real encoder, real shard host, real node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchFrame } from '../../../shared/protocol/index.ts';
import { STATIC128_MODEL, fixtureIndex } from '../../../test/index-fixture.ts';
import { parseClusterConfig } from '../cluster/index.ts';
import { type EncoderBatching, loadEncoder } from '../../engine/encoders/index.ts';
import { createLogger } from '../logging/index.ts';
import { PoolNode } from '../server/index.ts';
import { readIndexManifest } from '../../engine/shard/index.ts';
import { ShardHost } from '../shard-host/index.ts';
import { ReplicaSet } from './replica-set.ts';
import { Router } from './router.ts';
import { LocalShardClient } from './shard-client.ts';

const TEXTS = ['sleep and memory', 'statin therapy and dementia risk', 'p53', 'vitamin D supplementation in older adults', 'cells', 'antibiotic resistance genes', 'obesity', 'T cell activation by antigen'];

let index: string;
let host: ShardHost;
beforeAll(async () => {
  index = await fixtureIndex({ limit: 200, shards: 2 });
  host = await ShardHost.open(index, [0, 1]);
}, 120_000);
afterAll(() => host?.close());

const frame = (batchId: string): SearchFrame => ({
  v: 1,
  type: 'search',
  batchId,
  deadline: Date.now() + 30_000,
  queries: TEXTS.map((text, i) => ({ id: `q${i}`, mode: 'dense', k: 10, text })),
});

async function searchOnce(batching: EncoderBatching) {
  const encoder = await loadEncoder(STATIC128_MODEL, { threads: 1, batching, batchSize: 32 });
  const manifest = await readIndexManifest(index);
  const router = new Router({
    encoder,
    shards: [0, 1].map((s) => new ReplicaSet(s, [new LocalShardClient('local', host)], { hedgeMs: 10_000, cooldownMs: 0 })),
    index: { version: manifest.version, shardVersions: manifest.shards.map((s) => s.version) },
    // One batch holds every query of the frame; maxWaitMs lets them all join it.
    batching: { maxBatchSize: 32, maxWaitMs: 20, maxQueue: 64, concurrency: 1 },
  });
  try {
    const before = encoder.onnxCalls;
    const reply = await router.handle(frame(batching));
    return { calls: encoder.onnxCalls - before, results: reply.results };
  } finally {
    await router.drain();
    await encoder.dispose();
  }
}

describe('encoder batching in the router', () => {
  it(`'padded': a batch of ${TEXTS.length} queries is one onnxruntime call; 'rows': one per query; same hits`, async () => {
    const padded = await searchOnce('padded');
    const rows = await searchOnce('rows');
    expect(padded.calls).toBe(1);
    expect(rows.calls).toBe(TEXTS.length);
    padded.results.forEach((r, i) => {
      const exact = rows.results[i];
      expect(r.error).toBeUndefined();
      expect(r.hits).toHaveLength(10);
      // Padded batches change query vectors in the last bits (onnxruntime's CPU kernels are not
      // batch-composition invariant), so scores agree to 1e-5 and ids wherever scores are apart.
      r.hits.forEach((h, j) => {
        expect(Math.abs(h.score - exact.hits[j].score)).toBeLessThan(1e-5);
        const neighbours = [exact.hits[j - 1], exact.hits[j + 1]].filter(Boolean);
        if (neighbours.every((n) => Math.abs(n.score - exact.hits[j].score) > 1e-5)) expect(h.docId).toBe(exact.hits[j].docId);
      });
    });
  });
});

describe('encoder batching in a pool node', () => {
  async function loadedBatching(encoder: Record<string, unknown> | undefined): Promise<string | undefined> {
    const lines: string[] = [];
    const config = parseClusterConfig({ index, nodes: [{ id: 'n0', url: 'http://127.0.0.1:1', shards: [0, 1] }], threads: 1, verify: false, ...(encoder ? { encoder } : {}) }, 'test-config.json');
    const node = await PoolNode.start({ config, nodeId: 'n0', port: 0, signingKey: 'k', logger: createLogger({ name: 'pool', level: 'info', write: (l) => lines.push(l) }) });
    try {
      await node.whenReady();
      return lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'encoder loaded')?.batching;
    } finally {
      await node.close();
    }
  }

  it("uses the config's setting, and 'auto' (the default) is 'rows' on CPU", async () => {
    expect(await loadedBatching({ batching: 'padded' })).toBe('padded');
    expect(await loadedBatching(undefined)).toBe('rows');
    expect(() => parseClusterConfig({ index, nodes: [{ id: 'n0', url: 'http://127.0.0.1:1' }], encoder: { batching: 'dynamic' } }, 'c.json')).toThrow(/field encoder\.batching/);
  });
});
