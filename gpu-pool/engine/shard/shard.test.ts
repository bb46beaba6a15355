import { cp, mkdtemp, readdir, readFile, rm, symlink, truncate, unlink, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixtureIndex } from '../../../test/index-fixture.ts';
import { TOKEN_STORE_FILES } from '../colbert/store/index.ts';
import {
  ManifestError,
  closeShard,
  loadedFiles,
  openShard,
  readIndexManifest,
  readShardManifest,
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

describe('openShard file checks', () => {
  /** A copy of a real shard (with BM25) whose manifest is rewritten by `edit`. */
  async function copiedShard(edit: (m: ShardManifest) => void = () => {}): Promise<string> {
    const index = await fixtureIndex({ limit: 60, shards: 2 });
    const shard = join(dir, 'shard');
    await cp(join(index, (await readIndexManifest(index)).shards[0].dir), shard, { recursive: true });
    const manifest = await readShardManifest(shard);
    edit(manifest);
    await writeFile(join(shard, 'manifest.json'), JSON.stringify(manifest));
    return shard;
  }

  it('lists every file the loader reads, BM25, dense and token-store files only for shards that have them', () => {
    const dense = loadedFiles({ methods: ['dense'] });
    expect(dense).toEqual(['index.faiss', 'vector-docs.u32', 'passages.bin', 'passages.idx']);
    expect(loadedFiles({ methods: ['dense', 'bm25'] })).toEqual([...dense, 'bm25.json', 'bm25.terms', 'bm25.offsets', 'bm25.docs', 'bm25.tfs', 'bm25.doclens']);
    expect(loadedFiles({ methods: ['colbert'] })).toEqual(['passages.bin', 'passages.idx', ...TOKEN_STORE_FILES]);
    expect(TOKEN_STORE_FILES.length).toBeGreaterThan(0);
  });

  it('loads the shards the build writes', async () => {
    const shard = await openShard(await copiedShard());
    expect(Object.keys(shard.manifest.files)).toEqual(expect.arrayContaining(loadedFiles(shard.manifest)));
    await closeShard(shard);
  }, 60_000);

  it('refuses a manifest that leaves out a file the loader reads, with or without verification', async () => {
    const shard = await copiedShard((m) => delete m.files['passages.bin']);
    await expect(openShard(shard)).rejects.toThrow(ManifestError);
    await expect(openShard(shard, { verify: false })).rejects.toThrow(/manifest\.json: field files does not list passages\.bin/);
    await writeFile(join(shard, 'manifest.json'), JSON.stringify({ ...(await readShardManifest(shard)), files: {} }));
    await expect(openShard(shard, { verify: false })).rejects.toThrow(/does not list index\.faiss/);
  }, 60_000);

  it('refuses a listed file that is a symbolic link, even one whose checksum matches', async () => {
    const shard = await copiedShard();
    await cp(join(shard, 'passages.bin'), join(dir, 'elsewhere.bin'));
    await unlink(join(shard, 'passages.bin'));
    await symlink(join(dir, 'elsewhere.bin'), join(shard, 'passages.bin'));
    await expect(openShard(shard)).rejects.toThrow(/passages\.bin: listed file is a symbolic link/);
    await expect(openShard(shard, { verify: false })).rejects.toThrow(ManifestError);
  }, 60_000);

  it('refuses listed names that are paths', async () => {
    for (const name of ['../passages.bin', '/etc/passwd', '.hidden', '..']) {
      const shard = await copiedShard((m) => (m.files[name] = m.files['passages.bin']));
      await expect(openShard(shard, { verify: false }), name).rejects.toThrow(/manifest\.json: field files\..*: Invalid key in record/);
      await rm(shard, { recursive: true });
    }
  }, 60_000);

  it('refuses passage offsets that go backwards', async () => {
    const writer = await PassageStoreWriter.create(dir);
    await writer.append({ id: 'a', title: '', text: 'one' });
    await writer.append({ id: 'b', title: '', text: 'two' });
    await writer.close();
    const idx = await readFile(join(dir, 'passages.idx'));
    const offsets = new Float64Array(idx.buffer.slice(idx.byteOffset, idx.byteOffset + idx.byteLength));
    offsets[1] = offsets[2] + 1;
    await writeFile(join(dir, 'passages.idx'), new Uint8Array(offsets.buffer));
    await expect(PassageStore.open(dir)).rejects.toThrow(/passages\.idx: corrupt passage offsets \(entry 2/);
  });
});
