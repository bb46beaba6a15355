// The pool image's entrypoint (infra/docker/entrypoint.sh), run by sh as the container would run
// it, on this machine's Node and app (EDGESEARCH_APP): settings from the environment and mounted
// files only (the key from a file, the node id from the host name's ordinal), it serves /readyz on
// a small index, and SIGTERM reaches the node (exec), which drains and exits 0. Without a key it
// refuses to start, saying what to set.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../gpu-pool/service/cluster/index.ts';
import { REPO_ROOT } from '../fixtures.ts';
import { fixtureIndex } from '../index-fixture.ts';

const ENTRYPOINT = join(REPO_ROOT, 'infra', 'docker', 'entrypoint.sh');
let work: string;
let index: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-entrypoint-'));
  index = await fixtureIndex({ limit: 100, shards: 2 });
  // A `hostname` that answers as a StatefulSet pod would.
  await writeFile(join(work, 'hostname'), '#!/bin/sh\necho pool-0\n');
  await chmod(join(work, 'hostname'), 0o755);
  await writeFile(join(work, 'pool-key'), 'entrypoint-test-key\n');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function run(env: Record<string, string>) {
  const child = spawn('sh', [ENTRYPOINT], { env: { PATH: `${work}:${process.env.PATH}`, HOME: work, EDGESEARCH_APP: REPO_ROOT, ...(process.env.EDGESEARCH_SHARED ? { EDGESEARCH_SHARED: process.env.EDGESEARCH_SHARED } : {}), ...env } });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, output: () => output };
}

describe('pool image entrypoint', () => {
  it('serves /readyz from environment settings and mounted files, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const config = join(work, 'cluster.json');
    await writeFile(config, JSON.stringify({ index, nodes: [{ id: 'pool-0', url: `http://127.0.0.1:${port}`, shards: [0, 1] }], threads: 1 }));
    const node = run({ EDGESEARCH_CONFIG: config, EDGESEARCH_POOL_KEY_FILE: join(work, 'pool-key') });
    try {
      let ready = 0;
      for (let i = 0; i < 600 && ready !== 200; i++) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
        if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready, node.output()).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toMatchObject({ status: 'ok', ready: true });
      node.child.kill('SIGTERM');
      expect(await node.exited, node.output()).toBe(0);
    } finally {
      node.child.kill('SIGKILL');
    }
  }, 120_000);

  it('refuses to start without a signing key or a node id, saying what to set', async () => {
    const noKey = run({ EDGESEARCH_CONFIG: join(work, 'cluster.json') });
    expect(await noKey.exited).toBe(64);
    expect(noKey.output()).toMatch(/no signing key: set EDGESEARCH_POOL_KEY_FILE/);
    await writeFile(join(work, 'hostname'), '#!/bin/sh\necho laptop\n');
    const noId = run({ EDGESEARCH_CONFIG: join(work, 'cluster.json'), EDGESEARCH_POOL_KEY: 'k' });
    expect(await noId.exited).toBe(64);
    expect(noId.output()).toMatch(/set EDGESEARCH_NODE_ID \(the host name laptop has no ordinal suffix\)/);
    const noConfig = run({ EDGESEARCH_POOL_KEY: 'k', EDGESEARCH_NODE_ID: 'pool-0' });
    expect(await noConfig.exited).not.toBe(0);
    expect(noConfig.output()).toMatch(/set EDGESEARCH_CONFIG to the mounted cluster config/);
  });
});
