import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.ts';
import { parseClusterConfig, planShards, readClusterConfig, shardReplicas } from './config.ts';

const node = (id: string, shards: number[], router = true) => ({ id, url: `http://127.0.0.1:${7000 + shards.length}`, shards, router });

describe('cluster config', () => {
  it('fills defaults, resolves the index against the file, and lists replicas per shard', () => {
    const c = parseClusterConfig({ index: 'idx', nodes: [node('a', [0, 1]), node('b', [1])] }, '/etc/pool/cluster.json');
    expect(c.index).toBe('/etc/pool/idx');
    expect(c.batching).toMatchObject({ maxBatchSize: 32, maxWaitMs: 0, maxQueueDelayMs: 1000 });
    expect(shardReplicas(c)).toEqual(new Map([[0, ['a']], [1, ['a', 'b']]]));
  });

  it('names the file and field of a bad value', () => {
    expect(() => parseClusterConfig({ index: 'i', nodes: [node('a', [0]), node('a', [1])] }, 'c.json')).toThrow(/c\.json: field nodes\.1\.id: duplicate node id "a"/);
    expect(() => parseClusterConfig({ index: 'i', nodes: [node('a', [0], false)] }, 'c.json')).toThrow(/no node has the router role/);
    expect(() => parseClusterConfig({ index: 'i', nodes: [node('a', [0])], batching: { maxBatchSize: 0 } }, 'c.json')).toThrow(/field batching\.maxBatchSize/);
    expect(() => parseClusterConfig({ index: 'i', nodes: [node('a', [0])], extra: 1 }, 'c.json')).toThrow(/c\.json/);
  });

  it('refuses defaultDeadlineMs, which was never read, saying where deadlines come from', async () => {
    const config = { index: 'i', nodes: [node('a', [0])], defaultDeadlineMs: 5000 };
    expect(() => parseClusterConfig(config, 'c.json')).toThrow(/^c\.json: field defaultDeadlineMs: removed: it was never read\. Every search frame carries its own deadline .*REQUEST_DEADLINE_MS.*; delete the field$/);
    const dir = await mkdtemp(join(tmpdir(), 'es-config-'));
    await writeFile(join(dir, 'old.json'), JSON.stringify(config));
    await expect(readClusterConfig(join(dir, 'old.json'))).rejects.toThrow(/old\.json: field defaultDeadlineMs: removed/);
    const { defaultDeadlineMs: _gone, ...current } = config;
    expect(parseClusterConfig(current, 'c.json')).not.toHaveProperty('defaultDeadlineMs');
  });

  it('reports unreadable and non-JSON files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-config-'));
    await writeFile(join(dir, 'bad.json'), '{ nope');
    await expect(readClusterConfig(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json: not valid JSON/);
    await expect(readClusterConfig(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: cannot read \(ENOENT\)/);
  });

  it('spreads replicas over distinct nodes', () => {
    const plan = planShards(3, 4, 2);
    expect(plan).toEqual([[0, 2, 3], [0, 1, 3], [1, 2]]);
    for (let s = 0; s < 4; s++) expect(plan.filter((shards) => shards.includes(s))).toHaveLength(2);
    expect(() => planShards(2, 4, 3)).toThrow(/3 replicas need at least 3 nodes/);
  });

  it('pool serve exits 1 with the reason for a node missing from the config or no signing key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-config-'));
    const file = join(dir, 'cluster.json');
    await writeFile(file, JSON.stringify({ index: 'idx', nodes: [node('a', [0])] }));
    const missing = await runCli(['pool', 'serve', '--config', file, '--node', 'zz'], { EDGESEARCH_POOL_KEY: 'k' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('node "zz" is not in the cluster config');
    const noKey = await runCli(['pool', 'serve', '--config', file, '--node', 'a'], { EDGESEARCH_POOL_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('set EDGESEARCH_POOL_KEY');
  });
});
