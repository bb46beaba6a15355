// `edgesearch pool rollout` refuses bad input before it swaps anything (the cluster under load is
// in test/pool/rollout.test.ts); the revert version it prepares is one a node swaps back to.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.ts';
import { fixtureIndex, newerFixture } from '../../../test/index-fixture.ts';
import { readIndexManifest } from '../../engine/shard/index.ts';
import { parseClusterConfig } from '../cluster/index.ts';
import { ShardHost } from '../shard-host/index.ts';
import { answerVersions, mixedAnswerVersion, planRollout, publishRevert, waves } from './index.ts';

let root: string;
let configPath: string;
const env = { EDGESEARCH_POOL_KEY: 'k-sign-0123456789', EDGESEARCH_POOL_ADMIN_KEY: 'k-admin-0123456789' };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'es-rollout-cli-'));
  await cp(await fixtureIndex({ limit: 120, shards: 2 }), join(root, 'v1'), { recursive: true });
  await cp(await fixtureIndex({ limit: 120, shards: 3 }), join(root, 'three'), { recursive: true });
  // Nodes that do not exist: every refusal here comes before the rollout contacts one.
  configPath = join(root, 'cluster.json');
  await writeFile(
    configPath,
    JSON.stringify({ index: 'v1', nodes: [{ id: 'a', url: 'http://127.0.0.1:9', shards: [0, 1] }, { id: 'b', url: 'http://127.0.0.1:9', shards: [0, 1] }] }),
  );
}, 180_000);
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('pool rollout: bad input', () => {
  it('refuses a new version with another shard count, naming both counts', async () => {
    const r = await runCli(['pool', 'rollout', '--config', configPath, '--index', join(root, 'three')], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has 3 shards, the cluster serves 2/);
  });

  it('refuses an unknown config, a directory that is no index, one outside the index root, and a missing admin key', async () => {
    const missing = await runCli(['pool', 'rollout', '--config', join(root, 'nope.json'), '--index', 'v1'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.json: cannot read \(ENOENT\)/);
    const notIndex = await runCli(['pool', 'rollout', '--config', configPath, '--index', 'no-such-version'], env);
    expect(notIndex.code).toBe(1);
    expect(notIndex.stderr).toMatch(/no-such-version is not a published index/);
    const outside = await runCli(['pool', 'rollout', '--config', configPath, '--index', await fixtureIndex({ limit: 120, shards: 2 })], env);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/is not under the nodes' index root/);
    const noKey = await runCli(['pool', 'rollout', '--config', configPath, '--index', 'v1'], { EDGESEARCH_POOL_KEY: env.EDGESEARCH_POOL_KEY, EDGESEARCH_POOL_ADMIN_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/no admin key: set EDGESEARCH_POOL_ADMIN_KEY/);
    const usage = await runCli(['pool', 'rollout', '--config', configPath], env);
    expect(usage.code).toBe(2);
  }, 60_000);

  it('plans per shard in config order, and refuses a config that leaves a shard without a node', () => {
    const config = parseClusterConfig({ index: 'v1', nodes: [{ id: 'a', url: 'http://x:1', shards: [0, 2] }, { id: 'b', url: 'http://x:2', shards: [1, 2] }, { id: 'c', url: 'http://x:3', shards: [0, 1] }] }, 'test', '/');
    expect(planRollout(config, 3).map((p) => [p.shard, p.nodes.map((n) => n.id)])).toEqual([
      [0, ['a', 'c']],
      [1, ['b', 'c']],
      [2, ['a', 'b']],
    ]);
    expect(() => planRollout(config, 4)).toThrow(/no node of the config holds shard 3/);
    expect(() => planRollout(config, 2)).toThrow(/node a holds shard\(s\) 2, but the index has 2 shards/);
    // Waves: the first replica of every shard, then the second of every shard.
    expect(waves(planRollout(config, 3)).map((w) => w.map((r) => `${r.node.id}/${r.shard}`))).toEqual([
      ['a/0', 'b/1', 'a/2'],
      ['c/0', 'c/1', 'b/2'],
    ]);
  });
});

describe('pool rollout: the revert version', () => {
  it('lets a node that moved to the new version swap back to exactly the old shard versions', async () => {
    const v1 = join(root, 'v1');
    const v2 = await newerFixture(v1, 'v2', { add: { from: 120, count: 40 } });
    const [m1, m2] = [await readIndexManifest(v1), await readIndexManifest(v2)];
    const host = await ShardHost.open(v1, [0, 1], { swapRoot: root });
    try {
      for (const [s, e] of m2.shards.entries()) await host.swap(s, join(v2, e.dir));
      // The old directory itself is refused: nodes go only forward.
      await expect(host.swap(0, join(v1, m1.shards[0].dir))).rejects.toThrow(/older or unrelated/);
      const revert = await publishRevert(v1, m1, m2, root);
      expect(revert.created).toBe(true);
      expect((await publishRevert(v1, m1, m2, root)).created).toBe(false);
      for (const [s, e] of m1.shards.entries()) await host.swap(s, join(revert.dir, e.dir));
      expect(host.versions()).toEqual(Object.fromEntries(m1.shards.map((e, s) => [s, e.version])));
      expect(host.indexVersions()).toEqual({ 0: m1.version, 1: m1.version });
      // And forward again to the new version.
      for (const [s, e] of m2.shards.entries()) await host.swap(s, join(v2, e.dir));
      expect(host.versions()).toEqual(Object.fromEntries(m2.shards.map((e, s) => [s, e.version])));
    } finally {
      await host.close();
    }
    expect(answerVersions(m2)).toEqual([m2.version, mixedAnswerVersion(m2.shards.map((e) => e.version))]);
  }, 120_000);
});
