// Mode conversational (ConvDR) through a real local cluster (3 processes, 4 shards, 2 replicas)
// whose routers load a conversational model beside the sentence encoder: the top-10 of follow-up
// questions equals a single Searcher's with the same model; a cluster without one refuses the mode.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireQuery } from '../../../shared/protocol/index.ts';
import { untrainedConversationalModel } from '../../../test/convdr-model-fixture.ts';
import { scifactTestQueries } from '../../../test/fixtures.ts';
import { fixtureIndex, USE_LITE_MODEL } from '../../../test/index-fixture.ts';
import { referenceAnswers, startTestCluster, type Reference, type TestCluster } from '../../../test/pool/harness.ts';
import { expectReferenceHits } from '../../../test/pool/expect-reference.ts';

const work = mkdtempSync(join(tmpdir(), 'es-cluster-convdr-'));
let pool: TestCluster;
let queries: { id: string; text: string }[];
let reference: Map<string, Reference>;
const before = (i: number) => (i % 3 === 0 ? [] : [{ query: queries[(i + 29) % 30].text }, { query: queries[(i + 28) % 30].text, response: queries[(i + 27) % 30].text }]);

beforeAll(async () => {
  const index = await fixtureIndex({ limit: 400, shards: 4, model: USE_LITE_MODEL });
  const model = await untrainedConversationalModel(work);
  queries = await scifactTestQueries(30);
  reference = await referenceAnswers(index, queries, [{ name: 'conversational', mode: 'conversational', context: before }], 10, { conversationalModel: model });
  pool = await startTestCluster(index, { nodes: 3, replicas: 2, shards: 4, overrides: { conversationalModel: model, batching: { maxQueueDelayMs: 600_000, maxQueue: 4096 } } });
}, 300_000);
afterAll(async () => {
  await pool?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('mode conversational through a local pool cluster', () => {
  it('answers follow-up questions as a single node with the same conversational model does', async () => {
    const all: WireQuery[] = queries.map((q, i) => ({ id: `conversational:${q.id}`, mode: 'conversational', k: 10, text: q.text, ...(before(i).length ? { context: before(i) } : {}) }));
    const results = (await Promise.all([0, 1, 2].map((j) => pool.client.search(all.filter((_, i) => i % 3 === j))))).flatMap((r) => r.results);
    expect(results).toHaveLength(all.length);
    for (const r of results) {
      const want = reference.get(r.id)!;
      expect(r.error, r.id).toBeUndefined();
      expectReferenceHits(r, want);
    }
  });

  it('is refused by a cluster serving no conversational model, saying how to serve one', async () => {
    const plain = await startTestCluster(await fixtureIndex({ limit: 400, shards: 4, model: USE_LITE_MODEL }), { nodes: 1, replicas: 1, shards: 4 });
    try {
      const r = await plain.client.search([{ id: 'c', mode: 'conversational', k: 5, text: queries[0].text, context: [{ query: queries[1].text }] }]);
      expect(r.results[0].error?.message).toMatch(/has no conversational encoder for mode "conversational" \(train one with `edgesearch convdr train`; serve it with the cluster config.s conversationalModel, or pool cluster --conversational-model\)/);
    } finally {
      await plain.stop();
    }
  });
});
