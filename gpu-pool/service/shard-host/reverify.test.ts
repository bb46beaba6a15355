// Served shards are checksummed again in the background: a file edited in place (same size,
// other bytes) takes its shard out of service until a swap to a verified version.
import { cp, link, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ShardHost, SWAP_REASONS, type HostOptions } from './index.ts';
import { bm25Search, evidence, indexVersions, type Versions } from './test-helpers.ts';

let vs: Versions;
const hosts: ShardHost[] = [];
let copies = 0;

beforeAll(async () => {
  vs = await indexVersions();
}, 300_000);
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.close();
});
afterAll(async () => {
  await rm(vs.root, { recursive: true, force: true });
});

/** A host over a fresh copy of v2 (under the root, so it may swap to v2 itself). */
async function serveCopy(opts: HostOptions = {}): Promise<{ host: ShardHost; dir: string; name: string }> {
  const name = `v2-copy-${copies++}`;
  const dir = join(vs.root, name);
  await cp(vs.v2, dir, { recursive: true });
  const host = await ShardHost.open(dir, [0, 1], { swapRoot: vs.root, ...opts });
  hosts.push(host);
  return { host, dir, name };
}

/** Overwrites one byte in the middle of the file, in place: same inode, same size. */
async function editInPlace(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    const at = Math.floor(size / 2);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0] = byte[0] === 0x61 ? 0x62 : 0x61;
    await handle.write(byte, 0, 1, at);
  } finally {
    await handle.close();
  }
}

describe('ShardHost re-verification', () => {
  it('finds nothing while the files are as loaded', async () => {
    const { host } = await serveCopy();
    expect(await host.reverifyNow()).toEqual({});
    expect((await host.search(bm25Search(0))).results[0].hits.length).toBeGreaterThan(0);
  });

  it('takes a shard whose passages.bin was edited in place out of service, until a swap to a verified version', async () => {
    const failures: [number, string][] = [];
    const { host, dir, name } = await serveCopy({ onShardFailed: (s, detail) => failures.push([s, detail]) });
    await host.evidence(evidence(0, [0, 1, 2])); // some passages are cached: out of service means none is answered
    await editInPlace(join(dir, vs.dirs[0], 'passages.bin'));

    const failed = await host.reverifyNow();
    expect(failed).toEqual({ 0: 'passages.bin changed since load' });
    expect(host.failed()).toEqual(failed);
    expect(failures).toHaveLength(1);
    expect(failures[0][0]).toBe(0);
    expect(failures[0][1]).toMatch(/passages\.bin: checksum mismatch/);
    await expect(host.search(bm25Search(0))).rejects.toMatchObject({ name: 'ProtocolError', code: 'not-ready', message: 'shard 0 is out of service' });
    await expect(host.evidence(evidence(0, [0]))).rejects.toMatchObject({ code: 'not-ready' });
    // The other shard serves on; the next pass does not report the failed shard again.
    expect((await host.search(bm25Search(1))).results[0].hits.length).toBeGreaterThan(0);
    await host.reverifyNow();
    expect(failures).toHaveLength(1);

    // Re-loading the edited directory does not verify (a failed shard is always verified).
    const again = await host.swap(0, join(name, vs.dirs[0]), { verify: false }).catch((e: unknown) => e);
    expect(again).toMatchObject({ name: 'SwapRefused', publicReason: SWAP_REASONS.filesBad });
    expect(host.failed()).toEqual({ 0: 'passages.bin changed since load' });

    // The same version from intact files: back in service.
    expect(await host.swap(0, join(vs.v2, vs.dirs[0]))).toEqual({ from: vs.m2.shards[0].version, to: vs.m2.shards[0].version });
    expect(host.failed()).toEqual({});
    expect((await host.search(bm25Search(0))).results[0].hits.length).toBeGreaterThan(0);
    expect((await host.evidence(evidence(0, [0]))).passages).toHaveLength(1);
    expect(await host.reverifyNow()).toEqual({});
  });

  it('checks the passage file it serves when its path names another file now', async () => {
    const { host, dir } = await serveCopy();
    const path = join(dir, vs.dirs[1], 'passages.bin');
    // Replaced by an identical copy: the store reads the old file, which still verifies.
    await link(path, `${path}.served`);
    await rm(path);
    await cp(`${path}.served`, path);
    expect(await host.reverifyNow()).toEqual({});
    // Edited through another hard link to the file the store reads: the path verifies, the served file does not.
    await editInPlace(`${path}.served`);
    expect(await host.reverifyNow()).toEqual({ 1: 'passages.bin changed since load' });
    await expect(host.evidence(evidence(1, [0]))).rejects.toMatchObject({ code: 'not-ready' });
  });

  it('runs on its own every reverifyIntervalMs, and stops at close', async () => {
    let reported!: (s: number) => void;
    const seen = new Promise<number>((r) => (reported = r));
    const { host, dir } = await serveCopy({ reverifyIntervalMs: 20, onShardFailed: (s) => reported(s) });
    await editInPlace(join(dir, vs.dirs[1], 'bm25.docs'));
    expect(await seen).toBe(1);
    expect(host.failed()).toEqual({ 1: 'bm25.docs changed since load' });
    await host.close();
    hosts.splice(hosts.indexOf(host), 1);
  });

  it('refuses a negative interval', async () => {
    await expect(ShardHost.open(vs.v2, [0], { reverifyIntervalMs: -1 })).rejects.toThrow(/reverifyIntervalMs/);
  });
});
