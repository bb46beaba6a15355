// `edgesearch pool config`: the cluster config a pod writes from the topology.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { poolConfig } from '../../gpu-pool/cli/pool-config-command.ts';
import { main } from '../../gpu-pool/cli/index.ts';
import { planShards } from '../../gpu-pool/service/cluster/index.ts';

const base = { nodes: 3, shards: 4, replicas: 2, urlTemplate: 'http://pool-{i}.pool-headless:7700', idTemplate: 'pool-{i}', index: '/data/index/v1' };

describe('pool config', () => {
  it('assigns shards as the local cluster does, deterministically', () => {
    const c = poolConfig({ ...base, base: { threads: 2, hedgeMs: 20 } }) as any;
    expect(c.nodes).toEqual(planShards(3, 4, 2).map((shards, i) => ({ id: `pool-${i}`, url: `http://pool-${i}.pool-headless:7700`, shards, router: true })));
    expect(c).toMatchObject({ index: '/data/index/v1', threads: 2, hedgeMs: 20 });
    expect(JSON.stringify(poolConfig(base))).toBe(JSON.stringify(poolConfig(base)));
  });

  it('refuses what cannot be a cluster', () => {
    expect(() => poolConfig({ ...base, replicas: 4 })).toThrow(/4 replicas need at least 4 nodes/);
    expect(() => poolConfig({ ...base, urlTemplate: 'http://pool:7700' })).toThrow(/must contain \{i\}/);
    expect(() => poolConfig({ ...base, base: { nodes: [] } })).toThrow(/must not set "nodes"/);
    expect(() => poolConfig({ ...base, base: { batching: { maxBatchSize: 0 } } })).toThrow(/batching\.maxBatchSize/);
  });

  it('writes the file from the command line', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'es-poolcfg-')), 'cluster.json');
    const code = await main(['node', 'edgesearch', 'pool', 'config', '--nodes', '3', '--shards', '4', '--replicas', '2', '--url-template', base.urlTemplate, '--id-template', 'pool-{i}', '--index', '/data/index/v1', '--out', out]);
    expect(code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(poolConfig(base));
  });
});
