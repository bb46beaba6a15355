import { mkdtemp, readdir, readFile, rm, truncate, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ManifestError,
  PassageStore,
  PassageStoreWriter,
  checksumFiles,
  contentVersion,
  createStaging,
  publishDirectory,
  shardOf,
  verifyShardFiles,
  type ShardManifest,
} from './index.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'es-shard-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('passage store', () => {
  it('reads passages back by ordinal, including non-ASCII text', async () => {
    const writer = await PassageStoreWriter.create(dir);
    const docs = [
      { id: 'a', title: 'Alpha', text: 'first passage' },
      { id: 'b', title: '', text: 'naïve café — 東京 🚀' },
      { id: 'c', title: 'Gamma', text: 'x'.repeat(3 << 20) },
    ];
    for (const d of docs) await writer.append(d);
    await writer.close();
    const store = await PassageStore.open(dir);
    expect(store.size).toBe(3);
    expect(await store.get(1)).toEqual(docs[1]);
    expect((await store.getMany([2, 0])).map((p) => p.id)).toEqual(['c', 'a']);
    await expect(store.get(3)).rejects.toThrow(/out of range/);
    await store.close();
  });

  it('keeps recently read passages in memory up to cacheBytes, least recently used out first', async () => {
    const writer = await PassageStoreWriter.create(dir);
    const docs = ['a', 'b', 'c'].map((id) => ({ id, title: '', text: `${id}-text` }));
    for (const d of docs) await writer.append(d);
    await writer.append({ id: 'big', title: '', text: 'x'.repeat(100) });
    await writer.close();
    const recordBytes = Buffer.byteLength(JSON.stringify(['a', '', 'a-text']));
    const store = await PassageStore.open(dir, { cacheBytes: 2 * recordBytes });
    await store.getMany([0, 1]);
    expect(store.cachedSize).toBe(2 * recordBytes);
    await store.get(0); // 0 is now the most recently used: 1 goes first
    await store.get(2);
    expect(store.cachedSize).toBe(2 * recordBytes);
    await store.get(3); // bigger than the whole cache: read, not kept
    expect(store.cachedSize).toBe(2 * recordBytes);

    // Overwrite the records on disk (same length): cached ones are answered from memory, 1 is read again.
    const raw = await readFile(join(dir, 'passages.bin'), 'utf8');
    await writeFile(join(dir, 'passages.bin'), raw.replaceAll('-text', '-TEXT'));
    expect((await store.get(0)).text).toBe('a-text');
    expect((await store.get(2)).text).toBe('c-text');
    expect((await store.get(1)).text).toBe('b-TEXT');
    expect(Object.isFrozen(await store.get(0))).toBe(true);
    await store.close();

    const uncached = await PassageStore.open(dir, { cacheBytes: 0 });
    expect((await uncached.get(0)).text).toBe('a-TEXT');
    expect(uncached.cachedSize).toBe(0);
    await uncached.close();
    await expect(PassageStore.open(dir, { cacheBytes: -1 })).rejects.toThrow(/cacheBytes/);
  });

  it('refuses a truncated data file', async () => {
    const writer = await PassageStoreWriter.create(dir);
    await writer.append({ id: 'a', title: 't', text: 'hello world' });
    await writer.close();
    await truncate(join(dir, 'passages.bin'), 5);
    await expect(PassageStore.open(dir)).rejects.toThrow(/passages.bin: passage data is 5 bytes/);
  });
});

describe('checksums', () => {
  it('detects truncation and corruption, naming the file', async () => {
    await writeFile(join(dir, 'a.bin'), 'abcdefgh');
    const files = await checksumFiles(dir, ['a.bin']);
    const manifest = { files } as unknown as ShardManifest;
    await verifyShardFiles(dir, manifest);
    await writeFile(join(dir, 'a.bin'), 'abcdefgX');
    await expect(verifyShardFiles(dir, manifest)).rejects.toThrow(/a\.bin: checksum mismatch/);
    await writeFile(join(dir, 'a.bin'), 'abc');
    await expect(verifyShardFiles(dir, manifest)).rejects.toThrow(ManifestError);
    await expect(verifyShardFiles(dir, manifest)).rejects.toThrow(/truncated/);
  });

  it('gives equal versions for equal contents only', () => {
    const a = contentVersion({ x: { sha256: '1' }, y: { sha256: '2' } });
    expect(contentVersion({ y: { sha256: '2' }, x: { sha256: '1' } })).toBe(a);
    expect(contentVersion({ x: { sha256: '1' }, y: { sha256: '3' } })).not.toBe(a);
  });
});

describe('atomic publish', () => {
  it('renames a staging directory into place and refuses to overwrite without replace', async () => {
    const target = join(dir, 'index');
    const staging = await createStaging(target);
    await writeFile(join(staging, 'f'), '1');
    await publishDirectory(staging, target);
    expect(await readdir(dir)).toEqual(['index']);
    const again = await createStaging(target);
    await appendFile(join(again, 'f'), '2');
    await expect(publishDirectory(again, target)).rejects.toThrow(/already exists/);
    await publishDirectory(again, target, { replace: true });
    expect((await readdir(dir)).sort()).toEqual(['index']);
  });
});

describe('shard assignment', () => {
  it('is stable and spreads ids over shards', () => {
    expect(shardOf('doc-42', 4)).toBe(shardOf('doc-42', 4));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(String(i), 4)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
