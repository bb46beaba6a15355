// Fault injection: under load at 32 concurrent clients, one pool process is killed with SIGKILL.
// Its shards' other replicas take over: (almost) no query fails and none is answered wrongly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { closedLoop } from '../load/closed-loop.ts';
import { referenceAnswers, startTestCluster, type Reference, type TestCluster } from '../pool/harness.ts';

const DURATION_MS = Number(process.env.FAULT_DURATION_MS ?? 8000);
const KILL_AT_MS = DURATION_MS * 0.35;
let pool: TestCluster;
let queries: { id: string; text: string }[];
let reference: Map<string, Reference>;

beforeAll(async () => {
  const index = await fixtureIndex({ limit: 400, shards: 4 });
  queries = await scifactTestQueries(60);
  reference = await referenceAnswers(index, queries, ['dense', 'bm25', 'hybrid']);
  // Admission control is not what this test is about: with other test files sharing the CPU, a
  // delay-based shed would count as a failure. The queue bound still applies.
  pool = await startTestCluster(index, { nodes: 3, replicas: 2, shards: 4, overrides: { hedgeMs: 100, cooldownMs: 2000, batching: { maxQueueDelayMs: 600_000 } } });
});
afterAll(async () => {
  await pool?.stop();
});

describe('replica killed under load', () => {
  it('keeps answering every shard, correctly, with under 0.5% failed queries', async () => {
    const modes = ['dense', 'bm25', 'hybrid'] as const;
    const victim = pool.cluster.nodes[1];
    const killed = new Promise<void>((resolve) => setTimeout(() => void pool.cluster.kill(victim.id).then(resolve), KILL_AT_MS));
    const { samples } = await closedLoop(pool.client, {
      clients: 32,
      durationMs: DURATION_MS,
      query: (i) => {
        const q = queries[i % queries.length];
        const mode = modes[i % modes.length];
        return { id: `${mode}:${q.id}`, mode, k: 10, text: q.text };
      },
    });
    await killed;
    expect(victim.process.signalCode).toBe('SIGKILL');
    const failed = samples.filter((s) => !s.ok);
    const afterKill = samples.filter((s) => s.at > KILL_AT_MS + 500);
    const codes: Record<string, number> = {};
    for (const f of failed) codes[f.code ?? '?'] = (codes[f.code ?? '?'] ?? 0) + 1;
    console.info(`replica-kill: ${samples.length} queries in ${DURATION_MS} ms, ${failed.length} failed ${JSON.stringify(codes)}, ${afterKill.length} after the kill`);
    expect(samples.length).toBeGreaterThan(200);
    expect(afterKill.length).toBeGreaterThan(50);
    expect(failed.length / samples.length, JSON.stringify(failed.slice(0, 5))).toBeLessThan(0.005);
    for (const s of samples.filter((x) => x.ok)) {
      expect(s.partial, s.query.id).toBeUndefined();
      expect(s.ids, s.query.id).toEqual(reference.get(s.query.id)!.ids);
    }
  });
});
