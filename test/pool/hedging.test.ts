// Hedging: one replica of every shard is reached through a proxy that holds its traffic back far
// longer than `hedgeMs`. A router that hedges still answers quickly (the second request wins) with
// the same answers as a healthy pool, and counts the hedges; the control, a router of the same
// cluster whose hedgeMs is out of reach, waits out the delay whenever it asks the slow replica first.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../gpu-pool/service/cluster/index.ts';
import type { MethodName } from '../../gpu-pool/engine/methods/index.ts';
import { PoolClient } from '../../gpu-pool/service/pool-client/index.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { startDelayProxy, type DelayProxy } from './delay-proxy.ts';
import { metricValue, referenceAnswers, SIGNING_KEY, spawnPoolNodes, writeClusterConfig, type PoolProcess, type Reference } from './harness.ts';

/** How long the proxy holds shard traffic to the slow replica: 60 times hedgeMs. */
const DELAY_MS = 3000;
const HEDGE_MS = 50;
/** "Well before the delay": a hedged query must answer in less than half of it. */
const FAST_ENOUGH_MS = DELAY_MS / 2;
const MODES: MethodName[] = ['dense', 'bm25', 'hybrid'];

let work: string;
let proxy: DelayProxy;
let pool: { nodes: PoolProcess[]; stop(graceMs?: number): Promise<void> };
let hedged: PoolClient;
let unhedged: PoolClient;
let queries: { id: string; text: string }[];
let reference: Map<string, Reference>;

beforeAll(async () => {
  const index = await fixtureIndex({ limit: 300, shards: 2 });
  queries = await scifactTestQueries(12);
  reference = await referenceAnswers(index, queries, MODES);
  work = await mkdtemp(join(tmpdir(), 'es-hedge-'));
  const [routerPort, controlPort, slowPort, fastPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  proxy = await startDelayProxy(slowPort, DELAY_MS);
  // Routers hold no shard, so every shard call crosses the network; both shards live on the slow
  // and the fast node. The slow node listens on slowPort but is known by the proxy's address. It
  // comes first in the config, though replica order among equally idle replicas is random anyway
  // (ReplicaSet.order): over 12 queries (two shard calls and the evidence each) it is asked first
  // many times, which the hedge counter proves below.
  const nodes = [
    { id: 'router', url: `http://127.0.0.1:${routerPort}`, shards: [], router: true },
    { id: 'control', url: `http://127.0.0.1:${controlPort}`, shards: [], router: true },
    { id: 'slow', url: proxy.url, shards: [0, 1], router: false },
    { id: 'fast', url: `http://127.0.0.1:${fastPort}`, shards: [0, 1], router: false },
  ];
  // Admission control is not under test: its delay estimate would shed behind a 3 s replica.
  const base = { index, nodes, threads: 1, batching: { maxQueueDelayMs: 600_000 } };
  const hedging = await writeClusterConfig(join(work, 'hedging.json'), { ...base, hedgeMs: HEDGE_MS });
  // The control: the schema's largest hedgeMs, far beyond any query here.
  const control = await writeClusterConfig(join(work, 'control.json'), { ...base, hedgeMs: 60_000 });
  pool = await spawnPoolNodes([
    { nodeId: 'router', configPath: hedging, port: routerPort },
    { nodeId: 'control', configPath: control, port: controlPort },
    { nodeId: 'slow', configPath: hedging, port: slowPort },
    { nodeId: 'fast', configPath: hedging, port: fastPort },
  ]);
  hedged = await PoolClient.create(`http://127.0.0.1:${routerPort}`, SIGNING_KEY);
  unhedged = await PoolClient.create(`http://127.0.0.1:${controlPort}`, SIGNING_KEY);
  // The first query of a router pays for warming its encoder: not what is measured here.
  await hedged.search([{ id: 'warm', mode: 'dense', k: 10, text: queries[0].text }], { deadlineMs: 30_000 });
});
afterAll(async () => {
  hedged?.close();
  unhedged?.close();
  await pool?.stop();
  await proxy?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Sends query i alone, checks its answer against the reference, returns how long it took. */
async function timedQuery(client: PoolClient, i: number): Promise<number> {
  const q = queries[i % queries.length];
  const mode = MODES[i % MODES.length];
  const t0 = performance.now();
  const frame = await client.search([{ id: `${mode}:${q.id}`, mode, k: 10, text: q.text }], { deadlineMs: 30_000 });
  const ms = performance.now() - t0;
  const r = frame.results[0];
  const want = reference.get(`${mode}:${q.id}`)!;
  expect(r.error, r.id).toBeUndefined();
  expect(r.partial, r.id).toBeUndefined();
  expect(r.hits.map((h) => h.docId), r.id).toEqual(want.ids);
  r.hits.forEach((h, k) => expect(h.score, `${r.id} #${k}`).toBeCloseTo(want.scores[k], 4));
  return ms;
}

const metrics = async (node: string) => (await fetch(`${pool.nodes.find((n) => n.id === node)!.url}/metrics`)).text();

describe('hedged shard requests', () => {
  it('answers well before a slow replica would, with the healthy answers, and counts the hedges', async () => {
    const before = metricValue(await metrics('router'), 'edgesearch_hedged_requests_total', { node: 'fast' });
    const times: number[] = [];
    for (let i = 0; i < queries.length; i++) times.push(await timedQuery(hedged, i));
    const text = await metrics('router');
    const toFast = metricValue(text, 'edgesearch_hedged_requests_total', { node: 'fast' }) - before;
    console.info(`hedging: ${queries.length} queries, slowest ${Math.round(Math.max(...times))} ms (delay ${DELAY_MS} ms); hedges to fast ${toFast}, to slow ${metricValue(text, 'edgesearch_hedged_requests_total', { node: 'slow' })}`);
    // A hedge sent to the fast node means the slow one was asked first; the fast one then won.
    expect(toFast).toBeGreaterThanOrEqual(1);
    for (const ms of times) expect(ms).toBeLessThan(FAST_ENOUGH_MS);
  });

  it('control: without hedging a query that asks the slow replica first waits out the delay', async () => {
    // The same queries on the router whose hedgeMs is out of reach, until one is slow: at even odds
    // per shard call the slow replica is asked first within a query or two.
    let slowest = 0;
    for (let i = 0; i < queries.length && slowest < DELAY_MS; i++) slowest = Math.max(slowest, await timedQuery(unhedged, i));
    console.info(`hedging control: slowest ${Math.round(slowest)} ms`);
    expect(slowest).toBeGreaterThanOrEqual(DELAY_MS);
    expect(metricValue(await metrics('control'), 'edgesearch_hedged_requests_total')).toBe(0);
  });
});
