// The admin swap policy on real shards: only under the index root, no symlinks, only a shard
// of a version of the served index that descends from the one served, and refusals that say
// nothing about what exists on disk.
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readShardManifest } from '../../engine/shard/index.ts';
import { SWAP_REASONS, ShardHost, SwapRefused } from './index.ts';
import { bm25Search, evidence, indexVersions, type Versions } from './test-helpers.ts';

let vs: Versions;
let outside: string;
const hosts: ShardHost[] = [];

beforeAll(async () => {
  vs = await indexVersions();
  outside = await mkdtemp(join(tmpdir(), 'es-swap-outside-'));
  await cp(vs.v2, join(outside, 'v2'), { recursive: true });
}, 300_000);
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.close();
});
afterAll(async () => {
  await rm(vs.root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

async function serve(indexDir: string): Promise<ShardHost> {
  const host = await ShardHost.open(indexDir, [0, 1], { swapRoot: vs.root });
  hosts.push(host);
  return host;
}

/** The swap is refused for `reason`, and what the caller sees names neither the path nor an fs error. */
async function refused(host: ShardHost, shard: number, dir: string, reason: string): Promise<SwapRefused> {
  const before = host.versions();
  const err = await host.swap(shard, dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, dir).toBeInstanceOf(SwapRefused);
  const refusal = err as SwapRefused;
  expect(refusal.publicReason, `${dir}: ${refusal.detail}`).toBe(reason);
  expect(refusal.message).toBe(`swap refused: ${reason}`);
  expect(Object.values(SWAP_REASONS)).toContain(refusal.publicReason);
  expect(refusal.message).not.toMatch(/\/|ENOENT|EACCES|ENOTDIR|ELOOP/);
  expect(host.versions()).toEqual(before);
  return refusal;
}

describe('ShardHost.swap: where from', () => {
  it('refuses directories outside the index root before looking at them', async () => {
    const host = await serve(vs.v1);
    for (const dir of ['/etc', '/proc/self', '/', '../', '..', `${vs.v2}/../../etc`, 'v2/../../..', '../../etc/passwd', join(outside, 'v2', vs.dirs[0]), '', 'v2\0/x']) {
      await refused(host, 0, dir, SWAP_REASONS.outsideRoot);
    }
    // The root itself is not a shard directory under it.
    await refused(host, 0, vs.root, SWAP_REASONS.outsideRoot);
  });

  it('answers the same for a path under the root that does not exist as for one that is not a version', async () => {
    const host = await serve(vs.v1);
    const missing = await refused(host, 0, 'nothing/here', SWAP_REASONS.notAVersion);
    expect(missing.detail).toMatch(/ENOENT/); // the operator's log has it
    await mkdir(join(vs.root, 'empty', 'shard-000'), { recursive: true });
    await refused(host, 0, 'empty/shard-000', SWAP_REASONS.notAVersion);
  });

  it('takes relative paths from the index root, not from the working directory', async () => {
    const host = await serve(vs.v1);
    expect(relative(process.cwd(), vs.root)).not.toBe('');
    expect(await host.swap(0, join('v2', vs.dirs[0]))).toEqual({ from: vs.m1.shards[0].version, to: vs.m2.shards[0].version });
  });

  it('refuses a symlinked shard directory, a symlinked version directory, and a link out of the root', async () => {
    const host = await serve(vs.v1);
    // A real version directory whose shard directory is a link to a good shard.
    const linked = join(vs.root, 'linked-shard');
    await mkdir(linked);
    await copyFile(join(vs.v2, 'index.json'), join(linked, 'index.json'));
    await symlink(join(vs.v2, vs.dirs[0]), join(linked, vs.dirs[0]));
    await refused(host, 0, join('linked-shard', vs.dirs[0]), SWAP_REASONS.outsideRoot);
    // The version directory is a link to a good version.
    await symlink(vs.v2, join(vs.root, 'linked-version'));
    await refused(host, 0, join('linked-version', vs.dirs[0]), SWAP_REASONS.outsideRoot);
    // A link under the root to a version outside it.
    await symlink(outside, join(vs.root, 'escape'));
    await refused(host, 0, join('escape', 'v2', vs.dirs[0]), SWAP_REASONS.outsideRoot);
    expect(await host.swap(0, join(vs.v2, vs.dirs[0]))).toEqual({ from: vs.m1.shards[0].version, to: vs.m2.shards[0].version });
  });

  it('refuses a crafted shard: real faiss and id map, a manifest listing no files, passages.bin linked to /etc/passwd', async () => {
    const host = await serve(vs.v1);
    const evil = join(vs.root, 'evil');
    const shard = join(evil, vs.dirs[0]);
    await mkdir(shard, { recursive: true });
    await copyFile(join(vs.v1, 'index.json'), join(evil, 'index.json')); // claims to be the served version
    for (const f of ['index.faiss', 'vector-docs.u32']) await copyFile(join(vs.v1, vs.dirs[0], f), join(shard, f));
    await writeFile(join(shard, 'manifest.json'), JSON.stringify({ ...(await readShardManifest(join(vs.v1, vs.dirs[0]))), files: {} }));
    await symlink('/etc/passwd', join(shard, 'passages.bin'));
    const passwd = await readFile('/etc/passwd');
    // One-byte records over the whole file.
    await writeFile(join(shard, 'passages.idx'), new Uint8Array(Float64Array.from({ length: passwd.length + 1 }, (_, i) => i).buffer));
    const linked = await refused(host, 0, join('evil', vs.dirs[0]), SWAP_REASONS.filesBad);
    expect(linked.detail).toMatch(/symbolic links passages\.bin/);
    // Not a link but a copy: the manifest still vouches for none of the files the loader reads.
    await rm(join(shard, 'passages.bin'));
    await writeFile(join(shard, 'passages.bin'), passwd);
    const unlisted = await refused(host, 0, join('evil', vs.dirs[0]), SWAP_REASONS.filesBad);
    expect(unlisted.detail).toMatch(/manifest\.json: field files does not list index\.faiss/);
    // Still serving v1's own passages.
    const served = await host.evidence(evidence(0, [0]));
    expect(served.version).toBe(vs.m1.shards[0].version);
    expect(served.passages[0].text).not.toContain('root:');
  });
});

describe('ShardHost.swap: which versions', () => {
  it('writes the source version into the lineage of a version made by index delete', () => {
    expect(vs.m1.lineage).toBeUndefined();
    expect(vs.m2.lineage).toEqual([vs.m1.version]);
  });

  it('swaps forward along the lineage, and never back to the older version', async () => {
    const host = await serve(vs.v1);
    expect(host.indexVersions()).toEqual({ 0: vs.m1.version, 1: vs.m1.version });
    expect(await host.swap(0, join(vs.v2, vs.dirs[0]))).toEqual({ from: vs.m1.shards[0].version, to: vs.m2.shards[0].version });
    expect(host.indexVersions()).toEqual({ 0: vs.m2.version, 1: vs.m1.version });
    const back = await refused(host, 0, join(vs.v1, vs.dirs[0]), SWAP_REASONS.notForward);
    expect(back.detail).toContain(`does not descend from ${vs.m2.version}`);
    // Re-loading the version served is fine; so is the other shard's own way forward.
    expect((await host.swap(0, join(vs.v2, vs.dirs[0]))).to).toBe(vs.m2.shards[0].version);
    expect((await host.swap(1, join(vs.v1, vs.dirs[1]))).to).toBe(vs.m1.shards[1].version);
    expect((await host.swap(1, join(vs.v2, vs.dirs[1]))).to).toBe(vs.m2.shards[1].version);
  });

  it('answers evidence asked for another version with its own version and no passages, even for ordinals beyond its size', async () => {
    const host = await serve(vs.v1);
    const last = host.shard(0).passages.size - 1;
    await host.swap(0, join(vs.v2, vs.dirs[0]));
    expect(host.shard(0).passages.size).toBeLessThanOrEqual(last); // v1's last ordinal is out of v2's range
    const v1 = vs.m1.shards[0].version;
    const v2 = vs.m2.shards[0].version;
    // A search on v1 before the swap, its evidence asked after: another version, not a bad frame.
    expect(await host.evidence({ ...evidence(0, [last]), version: v1 })).toMatchObject({ version: v2, passages: [] });
    expect((await host.evidence({ ...evidence(0, [0]), version: v2 })).passages).toHaveLength(1);
    // Without a version the ordinals are checked against the served one.
    await expect(host.evidence(evidence(0, [last]))).rejects.toMatchObject({ code: 'bad-frame' });
  });

  it('serving the newer version, refuses the older one (documents index delete removed stay removed)', async () => {
    const host = await serve(vs.v2);
    await refused(host, 0, join(vs.v1, vs.dirs[0]), SWAP_REASONS.notForward);
    await refused(host, 1, join('v1', vs.dirs[1]), SWAP_REASONS.notForward);
    const ids = (await host.evidence(evidence(0, Array.from({ length: host.shard(0).passages.size }, (_, i) => i)))).passages.map((p) => p.docId);
    for (const id of vs.deleted) expect(ids).not.toContain(id);
  });

  it('refuses an unrelated index of the same model, and another shard number', async () => {
    const host = await serve(vs.v1);
    await refused(host, 0, join(vs.other, vs.dirs[0]), SWAP_REASONS.notForward);
    await refused(host, 0, join(vs.v2, vs.dirs[1]), SWAP_REASONS.notAVersion);
    await refused(host, 1, join(vs.v2, vs.dirs[0]), SWAP_REASONS.notAVersion);
  });

  it('refuses a version directory whose index.json is not of the served index', async () => {
    const host = await serve(vs.v1);
    const bent = join(vs.root, 'bent');
    await cp(vs.v2, bent, { recursive: true });
    const index = JSON.parse(await readFile(join(bent, 'index.json'), 'utf8'));
    await writeFile(join(bent, 'index.json'), JSON.stringify({ ...index, model: { ...index.model, manifestHash: 'another-model' } }));
    await refused(host, 0, join('bent', vs.dirs[0]), SWAP_REASONS.notAVersion);
    // Its shard's version no longer matches the index's entry.
    await writeFile(join(bent, 'index.json'), JSON.stringify({ ...index, shards: index.shards.map((s: { version: string }) => ({ ...s, version: '0000' })) }));
    await refused(host, 0, join('bent', vs.dirs[0]), SWAP_REASONS.notAVersion);
    await rm(join(bent, 'index.json'));
    await symlink(join(vs.v2, 'index.json'), join(bent, 'index.json'));
    await refused(host, 0, join('bent', vs.dirs[0]), SWAP_REASONS.notAVersion);
  });

  it('checks each swap against the version the swap before it left', async () => {
    const host = await serve(vs.v1);
    const [forward, back] = await Promise.allSettled([host.swap(0, join(vs.v2, vs.dirs[0])), host.swap(0, join(vs.v1, vs.dirs[0]))]);
    expect(forward.status).toBe('fulfilled');
    expect(back.status === 'rejected' && (back.reason as SwapRefused).publicReason).toBe(SWAP_REASONS.notForward);
    expect(host.versions()[0]).toBe(vs.m2.shards[0].version);
  });

  it('unknown shard numbers are the caller’s error, not a refusal', async () => {
    const host = await serve(vs.v1);
    await expect(host.swap(7, join(vs.v2, vs.dirs[0]))).rejects.toMatchObject({ name: 'ProtocolError', code: 'unknown-shard' });
  });

  it('searches go on against the swapped shard', async () => {
    const host = await serve(vs.v1);
    await host.swap(0, join(vs.v2, vs.dirs[0]));
    const reply = await host.search(bm25Search(0));
    expect(reply.version).toBe(vs.m2.shards[0].version);
    expect(reply.results[0].hits.length).toBeGreaterThan(0);
  });
});
