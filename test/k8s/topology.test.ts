// The cluster the Kubernetes manifests describe, run with real processes on loopback: from the
// rendered cpu overlay, the StatefulSet's replicas, each container's command, args and
// environment (ConfigMaps, downward API, Secrets), run pod by pod as the kubelet would (init
// containers in order, then the pool container). Only what must differ on one machine is
// substituted: pod pool-i's address → 127.1.i.1 (every pod keeps its own address and the
// manifest's one port, as in a cluster: the whole 127/8 is loopback), port 7700 → a free port,
// the mount paths → per-pod directories (the index volume holds a copy of a small test index
// under the configured version), /app → this repository, `node` → this Node. The 300 SciFact
// test queries, through one router, must get the answers of one Searcher holding every shard.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, planShards } from '../../gpu-pool/service/cluster/index.ts';
import { PoolClient } from '../../gpu-pool/service/pool-client/index.ts';
import type { MethodName } from '../../gpu-pool/engine/methods/index.ts';
import type { WireQuery } from '../../shared/protocol/index.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex, USE_LITE_MODEL } from '../index-fixture.ts';
import { referenceAnswers, type Reference } from '../pool/harness.ts';
import { expectReferenceHits } from '../pool/expect-reference.ts';
import { localContainer, run, type LocalContext, type Pod } from './local-pod.ts';
import { configMap, find, kubectlMissing, renderOverlay, type K8sObject } from './render.ts';

const missing = kubectlMissing();
const MODES: MethodName[] = ['dense', 'bm25', 'hybrid'];
const KEYS: Record<string, string> = {
  'edgesearch-pool-keys/pool-key': 'k8s-topology-signing-key-0123456789',
  'edgesearch-pool-keys/admin-key': 'k8s-topology-admin-key-9876543210',
  'edgesearch-pool-keys/metrics-token': 'k8s-topology-metrics-token',
};

let objects: K8sObject[];
let work: string;
let port: number;
let pods: Pod[] = [];
let reference: Map<string, Reference>;
let queries: { id: string; text: string }[];
let topo: { nodes: number; shards: number; replicas: number; version: string };

/** An address:port nobody holds on any of the pods' addresses. */
async function portFreeOn(addresses: string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const p = await freePort();
    const ok = await Promise.all(addresses.map((host) => new Promise<boolean>((res) => {
      const srv = createServer().once('error', () => res(false));
      srv.listen(p, host, () => srv.close(() => res(true)));
    })));
    if (ok.every(Boolean)) return p;
  }
  throw new Error('no port free on every pod address');
}

beforeAll(async () => {
  if (missing) return;
  objects = renderOverlay('cpu');
  const sts = find(objects, 'StatefulSet', 'pool');
  const cm = configMap(objects, 'pool-topology').data!;
  topo = { nodes: sts.spec.replicas, shards: Number(cm.EDGESEARCH_POOL_SHARDS), replicas: Number(cm.EDGESEARCH_POOL_REPLICAS), version: cm.EDGESEARCH_INDEX_VERSION };
  const index = await fixtureIndex({ limit: 400, shards: topo.shards, model: USE_LITE_MODEL });
  queries = await scifactTestQueries();
  reference = await referenceAnswers(index, queries, MODES);

  work = await mkdtemp(join(tmpdir(), 'es-k8s-'));
  const addresses = Array.from({ length: topo.nodes }, (_, i) => `127.1.${i}.1`);
  port = await portFreeOn(addresses);
  const spec = sts.spec.template.spec;
  const ctx: LocalContext = {
    objects,
    keys: KEYS,
    namespace: sts.metadata.namespace ?? 'default',
    // Pod addresses and the port: the one substitution in the environment.
    adjustEnv: (env) => {
      if (env.EDGESEARCH_POOL_URL_TEMPLATE === undefined) return;
      const m = /^http:\/\/pool-\{i\}\.pool-headless\.[a-z0-9.-]+:7700$/.exec(env.EDGESEARCH_POOL_URL_TEMPLATE);
      if (!m) throw new Error(`unexpected url template ${env.EDGESEARCH_POOL_URL_TEMPLATE}`);
      env.EDGESEARCH_POOL_URL_TEMPLATE = `http://127.1.{i}.1:${port}`;
    },
  };
  pods = addresses.map((address, i) => ({ ordinal: i, name: `${sts.metadata.name}-${i}`, address, url: `http://${address}:${port}`, dir: join(work, `${sts.metadata.name}-${i}`), logs: [] }));
  for (const pod of pods) {
    // Volumes: configMap volumes hold the ConfigMap's keys as files; the index claim a copy of the test index.
    for (const v of spec.volumes ?? []) {
      await mkdir(join(pod.dir, 'volumes', v.name), { recursive: true });
      if (v.configMap) for (const [k, val] of Object.entries(find(objects, 'ConfigMap', v.configMap.name).data ?? {})) await writeFile(join(pod.dir, 'volumes', v.name, k), val);
    }
    await cp(index, join(pod.dir, 'volumes', 'index', topo.version), { recursive: true });
  }
  // Each pod: init containers in order, each to a zero exit, then the pool container.
  await Promise.all(pods.map(async (pod) => {
    for (const c of spec.initContainers ?? []) {
      const code = await run(pod, c.name, localContainer(ctx, pod, spec, c)).exited;
      if (code !== 0) throw new Error(`${pod.name}: init container ${c.name} exited ${code}:\n${pod.logs.join('\n')}`);
    }
    const [main] = spec.containers;
    Object.assign(pod, run(pod, main.name, localContainer(ctx, pod, spec, main)));
  }));
  // Ready as the readiness probe sees it.
  const probe = spec.containers[0].readinessProbe.httpGet.path;
  await Promise.all(pods.map(async (pod) => {
    const until = Date.now() + 240_000;
    for (;;) {
      if ((await fetch(`${pod.url}${probe}`).catch(() => undefined))?.status === 200) return;
      if (Date.now() > until) throw new Error(`${pod.name} not ready:\n${pod.logs.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }));
}, 600_000);

afterAll(async () => {
  for (const pod of pods) pod.kill?.('SIGKILL');
  await Promise.all(pods.map((p) => p.exited));
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(missing !== undefined)('the cluster the cpu overlay describes', () => {
  it('generated the same cluster config in every pod, with the shard plan of the local cluster', async () => {
    // Equal but for where each pod's volume lies on this machine (/data/index in a pod).
    const configs = await Promise.all(pods.map(async (p) => (await readFile(join(p.dir, 'volumes', 'run', 'cluster.json'), 'utf8')).split(p.dir).join('<pod>')));
    expect(new Set(configs).size).toBe(1);
    const config = JSON.parse(configs[0]);
    expect(config.threads).toBe(JSON.parse(configMap(objects, 'pool-settings').data!['cluster-base.json']).threads);
    const plan = planShards(topo.nodes, topo.shards, topo.replicas);
    expect(config.nodes).toEqual(pods.map((p, i) => ({ id: p.name, url: p.url, shards: plan[i], router: true })));
    expect(config.index).toBe(join('<pod>', 'volumes', 'index', topo.version));
    expect(topo).toMatchObject({ nodes: 3, shards: 4, replicas: 2 });
  });

  it('answers the 300 SciFact test queries through one router as one Searcher holding every shard does', async () => {
    expect(queries).toHaveLength(300);
    const client = await PoolClient.create(pods[1].url, KEYS['edgesearch-pool-keys/pool-key']);
    try {
      const all: WireQuery[] = MODES.flatMap((mode) => queries.map((q) => ({ id: `${mode}:${q.id}`, mode, k: 10, text: q.text })));
      const results = [];
      // The manifests' batching sheds a query whose wait would pass maxQueueDelayMs (1 s): on a
      // busy test machine some are, answered `overloaded`, which a client (the edge) sends again.
      let shed = 0;
      for (let i = 0; i < all.length; i += 30) {
        let pending = all.slice(i, i + 30);
        for (let attempt = 0; pending.length > 0 && attempt < 20; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * attempt));
          const frames = [];
          for (let j = 0; j < pending.length; j += 10) frames.push(client.search(pending.slice(j, j + 10)));
          const got = (await Promise.all(frames)).flatMap((f) => f.results);
          const retry = new Set(got.filter((r) => r.error?.code === 'overloaded').map((r) => r.id));
          shed += retry.size;
          results.push(...got.filter((r) => !retry.has(r.id)));
          pending = pending.filter((q) => retry.has(q.id));
        }
      }
      if (shed > 0) console.log(`topology: ${shed} query answers were 'overloaded' and sent again`);
      expect(results).toHaveLength(all.length);
      for (const r of results) {
        const want = reference.get(r.id)!;
        expect(r.error, r.id).toBeUndefined();
        expect(r.partial, r.id).toBeUndefined();
        expectReferenceHits(r, want);
      }
    } finally {
      client.close();
    }
  });

  it('drains on SIGTERM within the grace period the manifests give (after preStop)', async () => {
    const spec = find(objects, 'StatefulSet', 'pool').spec.template.spec;
    const graceMs = (spec.terminationGracePeriodSeconds - Number(spec.containers[0].lifecycle.preStop.exec.command[1])) * 1000;
    const started = Date.now();
    for (const pod of pods) pod.kill!('SIGTERM');
    const codes = await Promise.all(pods.map((p) => Promise.race([p.exited!, new Promise((r) => setTimeout(() => r('timeout'), graceMs))])));
    expect(codes).toEqual(pods.map(() => 0));
    expect(Date.now() - started).toBeLessThan(graceMs);
  });
});
