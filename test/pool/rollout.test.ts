// `pool rollout` against a real local cluster (3 node processes, 4 shards, 2 replicas) under 16
// closed-loop clients: a new version with a corrupt shard is refused at that shard and every
// replica already swapped is put back; then a good new version is rolled out. No query gets an error
// or misses a shard in either, every answer is wholly the old version's or wholly the new one's
// (the same ids as one process serving it), and after the rollout every answer carries the new version.
import { cp, mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeIndex, openIndex, readIndexManifest, readShardManifest, type IndexManifest } from '../../gpu-pool/engine/shard/index.ts';
import { readClusterConfig, type ClusterConfig } from '../../gpu-pool/service/cluster/index.ts';
import { PoolClient } from '../../gpu-pool/service/pool-client/index.ts';
import { RolloutError, answerVersions, mixedAnswerVersion, rollout } from '../../gpu-pool/service/rollout/index.ts';
import type { WireQuery } from '../../shared/protocol/index.ts';
import { SCIFACT_DIR, scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex, newerFixture } from '../index-fixture.ts';
import { ADMIN_KEY, SIGNING_KEY, metricValue, referenceAnswers, startTestCluster, type Reference, type TestCluster } from './harness.ts';

const MODES = ['bm25', 'dense'] as const;
const CLIENTS = 16;

interface Answer {
  mode: string;
  qid: string;
  ok: boolean;
  code?: string;
  version?: string;
  hits?: { docId: string; shard: number }[];
  partial?: number[];
  at: number;
}

let root: string;
let tc: TestCluster;
let config: ClusterConfig;
let m1: IndexManifest;
let m2: IndexManifest;
let mBad: IndexManifest;
let queries: { id: string; text: string }[];
/** index dir → reference answers (`${mode}:${qid}`) and doc ids per shard. */
const refs = new Map<string, { refs: Map<string, Reference>; docs: Set<string>[] }>();
let clients: PoolClient[];

async function shardDocs(dir: string): Promise<Set<string>[]> {
  // Without verification: `bad`'s shard 2 is corrupt on purpose (its other shards are what nodes served).
  const loaded = await openIndex(dir, { verify: false });
  const docs: Set<string>[] = [];
  try {
    for (const [s, shard] of loaded.shards.entries()) docs[s] = new Set((await shard.passages.readAll()).map((p) => p.id));
  } finally {
    await closeIndex(loaded);
  }
  return docs;
}

async function describeVersion(dir: string, withReference = true) {
  refs.set(dir, { refs: withReference ? await referenceAnswers(dir, queries, [...MODES]) : new Map(), docs: await shardDocs(dir) });
}

async function corpusIds(limit: number): Promise<string[]> {
  const lines = (await readFile(join(SCIFACT_DIR, 'corpus.jsonl'), 'utf8')).split('\n', limit);
  return lines.map((l) => (JSON.parse(l) as { _id: string })._id);
}

beforeAll(async () => {
  queries = await scifactTestQueries(30);
  root = await mkdtemp(join(tmpdir(), 'es-rollout-'));
  const v1 = join(root, 'v1');
  await cp(await fixtureIndex({ limit: 400, shards: 4 }), v1, { recursive: true });
  const ids = await corpusIds(400);
  // v2: v1 without every 8th document (every shard changes); bad: v1 without others, then shard 2 corrupted.
  const v2 = await newerFixture(v1, 'v2', { remove: ids.filter((_, i) => i % 8 === 3) });
  const bad = await newerFixture(v1, 'bad', { remove: ids.filter((_, i) => i % 9 === 5) });
  [m1, m2, mBad] = await Promise.all([readIndexManifest(v1), readIndexManifest(v2), readIndexManifest(bad)]);
  const shard2 = join(bad, mBad.shards[2].dir);
  const files = Object.keys((await readShardManifest(shard2)).files);
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(shard2, f))).size));
  const victim = join(shard2, files[sizes.indexOf(Math.max(...sizes))]);
  const fh = await open(victim, 'r+');
  try {
    const at = Math.floor(sizes[sizes.indexOf(Math.max(...sizes))] / 2);
    const buf = Buffer.alloc(4);
    await fh.read(buf, 0, 4, at);
    for (let i = 0; i < 4; i++) buf[i] ^= 0xff;
    await fh.write(buf, 0, 4, at);
  } finally {
    await fh.close();
  }
  await describeVersion(v1);
  await describeVersion(v2);
  await describeVersion(bad, false);
  // No shedding by expected delay: a test machine busy with other suites would shed queries
  // (`overloaded`, a retryable refusal the overload tests cover), and this test asks whether the
  // rollout itself fails any.
  tc = await startTestCluster(v1, { nodes: 3, replicas: 2, shards: 4, overrides: { batching: { maxQueueDelayMs: 600_000, maxQueue: 4096 } } });
  config = await readClusterConfig(tc.cluster.configPath);
  clients = await Promise.all(tc.cluster.nodes.map((n) => PoolClient.create(n.url, SIGNING_KEY)));
}, 600_000);

afterAll(async () => {
  for (const c of clients ?? []) c.close();
  await tc?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** 16 closed-loop clients over the three routers until `stop` resolves. */
async function underLoad<T>(during: () => Promise<T>): Promise<{ result: T | Error; answers: Answer[] }> {
  const answers: Answer[] = [];
  let running = true;
  const t0 = performance.now();
  let next = 0;
  const loop = async () => {
    while (running) {
      const i = next++;
      const q = queries[i % queries.length];
      const mode = MODES[i % MODES.length];
      const query: WireQuery = { id: q.id, mode, k: 10, text: q.text };
      const at = performance.now() - t0;
      try {
        const { frame } = await clients[i % clients.length].post([query], { deadlineMs: 10_000 });
        if (frame.type !== 'result') answers.push({ mode, qid: q.id, ok: false, code: frame.type === 'error' ? frame.code : frame.type, at });
        else {
          const r = frame.results[0];
          answers.push({ mode, qid: q.id, ok: !r.error, code: r.error?.code, version: frame.indexVersion, hits: r.hits.map((h) => ({ docId: h.docId, shard: h.shard })), partial: r.partial?.missingShards, at });
        }
      } catch (err) {
        answers.push({ mode, qid: q.id, ok: false, code: (err as { code?: string }).code ?? 'transport', at });
      }
    }
  };
  const loops = Array.from({ length: CLIENTS }, loop);
  await new Promise((r) => setTimeout(r, 500));
  const result = await during().catch((err: Error) => err);
  await new Promise((r) => setTimeout(r, 500));
  running = false;
  await Promise.all(loops);
  return { result, answers };
}

/**
 * Each answer is consistent with the shard versions its index version names: the old version's or
 * the new one's exactly (the same ids as one process serving that version), or a mix (a digest over
 * the shards' versions), where every hit comes from a shard whose version holds that document.
 */
function checkAnswers(answers: Answer[], from: IndexManifest, to: IndexManifest, toDir: string): { pure1: number; pure2: number; mixed: number; partial: number } {
  const [r1, r2] = [refs.get(join(root, 'v1'))!, refs.get(toDir)!];
  const combos = new Map<string, number[]>();
  for (let mask = 1; mask < 16; mask++) {
    const which = [0, 1, 2, 3].map((s) => (mask >> s) & 1);
    combos.set(mixedAnswerVersion(which.map((w, s) => (w ? to : from).shards[s].version)), which);
  }
  const newer = answerVersions(to);
  const counts = { pure1: 0, pure2: 0, mixed: 0, partial: 0 };
  for (const a of answers) {
    expect(a, `query ${a.mode}:${a.qid} failed (${a.code})`).toMatchObject({ ok: true });
    // A partial answer is an answer (no error), but degraded: counted and reported by the caller.
    if (a.partial) {
      counts.partial++;
      continue;
    }
    const ids = a.hits!.map((h) => h.docId);
    expect(ids.length).toBe(10);
    if (a.version === from.version) {
      expect(ids).toEqual(r1.refs.get(`${a.mode}:${a.qid}`)!.ids);
      counts.pure1++;
    } else if (newer.includes(a.version!)) {
      expect(ids).toEqual(r2.refs.get(`${a.mode}:${a.qid}`)!.ids);
      counts.pure2++;
    } else {
      const which = combos.get(a.version!);
      expect(which, `answer version ${a.version} is neither the old, the new nor a mix of their shards`).toBeDefined();
      for (const h of a.hits!) expect((which![h.shard] ? r2 : r1).docs[h.shard].has(h.docId), `${h.docId} from shard ${h.shard}`).toBe(true);
      counts.mixed++;
    }
  }
  return counts;
}

/** Evidence version mismatches and results missing a shard, summed over the routers' /metrics. */
async function routerCounters(): Promise<{ mismatches: number; missing: number }> {
  let [mismatches, missing] = [0, 0];
  for (const n of tc.cluster.nodes) {
    const text = await (await fetch(`${n.url}/metrics`)).text();
    mismatches += metricValue(text, 'edgesearch_evidence_version_mismatches_total');
    missing += metricValue(text, 'edgesearch_missing_shard_results_total');
  }
  return { mismatches, missing };
}

async function servedVersions(): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const n of tc.cluster.nodes) out[n.id] = ((await (await fetch(`${n.url}/readyz`)).json()) as { shards: Record<string, string> }).shards;
  return out;
}

const expectServing = async (m: IndexManifest) => {
  const served = await servedVersions();
  for (const n of tc.cluster.nodes) for (const s of n.shards) expect(served[n.id][s], `${n.id} shard ${s}`).toBe(m.shards[s].version);
};

describe('pool rollout under load (3 nodes x 4 shards x 2 replicas, 16 clients)', () => {
  it('stops at a corrupt new shard, rolls back every swapped replica, and no query is answered with an error', async () => {
    expect(mBad.shards[2].version).not.toBe(m1.shards[2].version);
    const lines: string[] = [];
    const { result, answers } = await underLoad(() => rollout({ config, index: 'bad', adminKey: ADMIN_KEY, signingKey: SIGNING_KEY, log: (l) => lines.push(l) }));
    expect(result, lines.join('')).toBeInstanceOf(RolloutError);
    const err = result as RolloutError;
    const holders = tc.cluster.nodes.filter((n) => n.shards.includes(2)).map((n) => n.id);
    expect(err.shard).toBe(2);
    expect(err.node).toBe(holders[0]);
    expect(err.message).toMatch(/shard 2/);
    expect(err.message).toMatch(/do not verify/);
    // The first wave swapped the first replica of shards 0 and 1, then stopped at shard 2's: both put back.
    const first = (shard: number) => tc.cluster.nodes.find((n) => n.shards.includes(shard))!.id;
    expect(err.rolledBack.map((r) => `${r.node}/${r.shard}`)).toEqual([`${first(0)}/0`, `${first(1)}/1`]);
    expect(err.rollbackFailures).toEqual([]);
    await expectServing(m1);
    const after = await clients[0].search([{ id: 'a', mode: 'bm25', k: 10, text: queries[0].text }]);
    expect(after.indexVersion).toBe(m1.version);
    expect(answers.length).toBeGreaterThan(CLIENTS * 2);
    const counts = checkAnswers(answers, m1, mBad, join(root, 'bad'));
    expect(counts.pure2).toBe(0); // shard 2 never served `bad`
    expect(counts.partial, 'answers missing a shard').toBe(0);
    expect(counts.mixed, 'answers mixing shard versions').toBe(0); // every shard kept a replica on v1
    process.stderr.write(`rollback run: ${answers.length} answers ${JSON.stringify(counts)}, router counters ${JSON.stringify(await routerCounters())}\n${lines.join('')}`);
  }, 300_000);

  it('rolls out a new version with no query answered with an error, and every answer then carries it', async () => {
    const lines: string[] = [];
    let doneAt = 0;
    const t0 = performance.now();
    const { result, answers } = await underLoad(async () => {
      const r = await rollout({ config, index: join(root, 'v2'), adminKey: ADMIN_KEY, signingKey: SIGNING_KEY, parallel: 2, log: (l) => lines.push(l) });
      doneAt = performance.now() - t0;
      return r;
    });
    if (result instanceof Error) throw new Error(`${result.message}\n${lines.join('')}`);
    expect(result.from).toBe(m1.version);
    expect(result.to).toBe(m2.version);
    expect(result.swapped).toHaveLength(8);
    expect(answerVersions(m2)).toContain(result.answerVersion);
    await expectServing(m2);
    const before = await routerCounters();
    const counts = checkAnswers(answers, m1, m2, join(root, 'v2'));
    expect(counts.pure1).toBeGreaterThan(0);
    expect(counts.pure2).toBeGreaterThan(0);
    expect(counts.partial, 'answers missing a shard').toBe(0);
    expect(counts.mixed, 'answers mixing shard versions').toBe(0);
    // Answers sent after the rollout returned all carry the new version (a little slack for the clock of `at`).
    const late = answers.filter((a) => a.at > doneAt + 50);
    expect(late.length).toBeGreaterThan(0);
    for (const a of late) expect(answerVersions(m2)).toContain(a.version);
    process.stderr.write(`rollout run: ${answers.length} answers (${JSON.stringify(counts)}), ${result.seconds.toFixed(1)} s, router counters (cumulative) ${JSON.stringify(before)}\n${lines.join('')}`);
  }, 300_000);
});
