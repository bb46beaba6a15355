import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaissError, FaissIndex, setThreads } from './index.ts';
import { loadNative } from './native.ts';
import { checkExact, gaussian } from './test-helpers.ts';

const d = 8;
const xb = gaussian(500, d, 21);
const xq = gaussian(5, d, 22);
let dir: string;
let good: FaissIndex; // used between failures to prove the process still works

beforeAll(async () => {
  setThreads(1);
  dir = await mkdtemp(join(tmpdir(), 'faiss-err-'));
  good = FaissIndex.create(d, 'Flat', 'l2');
  await good.add(xb);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function stillWorks(): Promise<void> {
  const res = await good.search(xq, 3);
  expect(checkExact(res, xb, xq, d, 3, 'l2')).toBe(1);
}

function syncError(f: () => unknown): FaissError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(FaissError);
    return err as FaissError;
  }
  throw new Error('expected a FaissError');
}

async function asyncError(p: Promise<unknown>): Promise<FaissError> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FaissError);
  return err as FaissError;
}

describe('bad inputs reject with FaissError and the process keeps working', () => {
  it('bad factory keys and create arguments', async () => {
    let e = syncError(() => FaissIndex.create(d, 'NoSuchIndex', 'l2'));
    expect(e.code).toBe('ERR_FAISS');
    expect(e.message).toMatch(/could not parse index string NoSuchIndex/);
    expect(e.message).toMatch(/^create\("NoSuchIndex", d=8\): /);
    e = syncError(() => FaissIndex.create(64, 'PQ3', 'l2'));
    expect(e.nativeMessage).toMatch(/d % M == 0/);
    expect(syncError(() => FaissIndex.create(d, 'IVF0,Flat', 'l2')).code).toBe('ERR_INVALID_ARG');
    expect(syncError(() => FaissIndex.create(d, 'HNSW1', 'l2')).code).toBe('ERR_INVALID_ARG');
    expect(syncError(() => FaissIndex.create(d, 'Flat', 'cosine' as 'ip')).code).toBe('ERR_INVALID_ARG');
    expect(syncError(() => FaissIndex.create(0, 'Flat', 'ip')).code).toBe('ERR_INVALID_ARG');
    expect(syncError(() => FaissIndex.create(1.5, 'Flat', 'ip')).code).toBe('ERR_INVALID_ARG');
    expect(syncError(() => FaissIndex.create(d, '', 'ip')).code).toBe('ERR_INVALID_ARG');
    await stillWorks();
  });

  it('dimension mismatches, k, wrong types', async () => {
    const index = FaissIndex.create(d, 'Flat', 'ip');
    await index.add(xb);
    let e = await asyncError(index.add(new Float32Array(d + 1)));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toMatch(/not a multiple of the index dimension 8/);
    e = await asyncError(index.search(new Float32Array(3), 1));
    expect(e.message).toMatch(/length 3, not a multiple/);
    for (const k of [0, -1, 1.5, Number.NaN, '3' as unknown as number]) {
      expect((await asyncError(index.search(xq, k))).code).toBe('ERR_INVALID_ARG');
    }
    await expect(index.search(xq, 2, { nprobe: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(index.search(xq, 2, { efSearch: 2.5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(index.add([1, 2, 3] as unknown as Float32Array)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(index.add(new Float64Array(d) as unknown as Float32Array)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(index.add(new Float32Array(2 * d), new BigInt64Array(3))).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(index.add(new Float32Array(d), [1n] as unknown as BigInt64Array)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(index.train(new Float32Array(0))).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    expect(syncError(() => index.reconstruct(1.5)).code).toBe('ERR_INVALID_ARG');
    expect(index.ntotal).toBe(500);
    await stillWorks();
  });

  it('faiss-level failures keep faiss messages', async () => {
    const ivf = FaissIndex.create(d, 'IVF16,Flat', 'l2');
    let e = await asyncError(ivf.search(xq, 2));
    expect(e.code).toBe('ERR_NOT_TRAINED');
    expect((await asyncError(ivf.add(xb))).code).toBe('ERR_NOT_TRAINED');
    e = await asyncError(ivf.train(gaussian(5, d, 1))); // fewer points than centroids
    expect(e.code).toBe('ERR_FAISS');
    expect(e.nativeMessage).toMatch(/Number of training points \(5\) should be at least as large as number of clusters \(16\)/);
    expect(ivf.isTrained).toBe(false);

    for (const key of ['IVF4,PQ2np', 'IVF4,PQ2', 'OPQ2,IVF4,PQ2np', 'HNSW8_PQ2np']) {
      // 8-bit PQ needs >= 256 training points
      e = await asyncError(FaissIndex.create(d, key, 'l2').train(xb.subarray(0, 100 * d)));
      expect(e.nativeMessage).toMatch(/Number of training points \(100\) should be at least as large as number of clusters \(256\)/);
    }

    const flat = FaissIndex.create(d, 'Flat', 'l2');
    e = await asyncError(flat.add(xb.subarray(0, 2 * d), BigInt64Array.from([5n, 6n])));
    expect(e.code).toBe('ERR_FAISS');
    expect(e.nativeMessage).toMatch(/add_with_ids not implemented/);

    const hnsw = FaissIndex.create(d, 'HNSW8', 'l2');
    await hnsw.add(xb);
    e = await asyncError(hnsw.removeIds([1n]));
    expect(e.code).toBe('ERR_FAISS');
    const idmap = FaissIndex.create(d, 'IDMap,Flat', 'l2');
    e = await asyncError(idmap.add(xb));
    expect(e.nativeMessage).toMatch(/add_with_ids/);
    await idmap.add(xb, BigInt64Array.from({ length: 500 }, (_, i) => BigInt(i)));
    expect(syncError(() => idmap.reconstruct(1n)).nativeMessage).toMatch(/reconstruct not implemented/);
    const idmap2 = FaissIndex.create(d, 'IDMap2,Flat', 'l2');
    await idmap2.add(xb, BigInt64Array.from({ length: 500 }, (_, i) => BigInt(i)));
    expect(syncError(() => idmap2.reconstruct(777n)).code).toBe('ERR_FAISS');
    await stillWorks();
  });

  it('bad files and buffers', async () => {
    const missing = join(dir, 'nope', 'missing.faiss');
    let e = await asyncError(FaissIndex.readFile(missing));
    expect(e.path).toBe(missing);
    expect(e.message).toContain(missing);
    expect(e.message).toMatch(/^readFile\(/);
    expect(e.nativeMessage).toMatch(/could not open/);

    e = await asyncError(FaissIndex.readFile(dir)); // a directory
    expect(e.path).toBe(dir);

    const ivfpq = FaissIndex.create(d, 'IVF4,PQ2np', 'l2');
    await ivfpq.train(xb);
    await ivfpq.add(xb);
    const full = join(dir, 'full.faiss');
    await ivfpq.writeFile(full);
    const bytes = await readFile(full);
    for (const cut of [0, 3, 4, 20, 100, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const p = join(dir, `cut-${cut}.faiss`);
      await writeFile(p, bytes.subarray(0, cut));
      e = await asyncError(FaissIndex.readFile(p));
      expect(e.path).toBe(p);
      expect((await asyncError(FaissIndex.fromBuffer(bytes.subarray(0, cut)))).code).toBe('ERR_FAISS');
    }
    const garbageFile = join(dir, 'garbage.faiss');
    await writeFile(garbageFile, 'this is not a faiss index at all');
    expect((await asyncError(FaissIndex.readFile(garbageFile))).nativeMessage).toMatch(/not recognized/);
    await truncate(garbageFile, 0);
    await asyncError(FaissIndex.readFile(garbageFile));

    e = await asyncError(FaissIndex.fromBuffer(Buffer.from('garbage garbage garbage garbage')));
    expect(e.message).toMatch(/^fromBuffer: /);
    expect((await asyncError(FaissIndex.fromBuffer('abc' as unknown as Buffer))).code).toBe('ERR_INVALID_ARG');
    expect((await asyncError(FaissIndex.readFile(''))).code).toBe('ERR_INVALID_ARG');

    e = await asyncError(good.writeFile(join(dir, 'no', 'such', 'dir.faiss')));
    expect(e.path).toBe(join(dir, 'no', 'such', 'dir.faiss'));
    expect(e.nativeMessage).toMatch(/could not open/);
    // the good file still reads
    expect((await FaissIndex.readFile(full)).ntotal).toBe(500);
    await stillWorks();
  });

  it('sync calls during a mutation report ERR_BUSY instead of blocking', async () => {
    const index = FaissIndex.create(d, 'Flat', 'l2');
    const pending = index.add(xb);
    expect(syncError(() => index.reconstruct(0)).code).toBe('ERR_BUSY');
    expect(syncError(() => index.clone()).code).toBe('ERR_BUSY');
    await pending;
    expect(index.reconstruct(0).length).toBe(d);
  });

  it('the native layer validates on its own (no TypeScript checks in front)', async () => {
    const native = loadNative();
    const index = native.create(d, 'IVF4,Flat', 'l2');
    const bad: (() => unknown)[] = [
      () => index.search(new Float32Array(d + 1), 1),
      () => index.search(new Float32Array(d), 0),
      () => index.search(new Float32Array(d), 2 ** 40),
      () => index.search(new Float32Array(d), 1, { nprobe: -3 }),
      () => index.search(new Float32Array(d), 1, { efSearch: 2 ** 30 }),
      () => index.search(new Float32Array(1000 * d), 2 ** 20),
      () => index.search('x' as unknown as Float32Array, 1),
      () => index.add(new Float32Array(d), new BigInt64Array(2)),
      () => index.add(new Float64Array(d) as unknown as Float32Array),
      () => index.train(new Float32Array(0)),
      () => index.reconstruct('1' as unknown as bigint),
      () => index.removeIds([1n] as unknown as BigInt64Array),
      () => index.writeFile(42 as unknown as string),
      () => native.create(-1, 'Flat', 'l2'),
      () => native.create(d, 'Flat', 'cos' as 'l2'),
      () => native.setThreads(0),
      () => new (native as unknown as { Index: new () => unknown }).Index(),
    ];
    for (const f of bad) {
      let caught: unknown;
      try {
        await f();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(Error);
      expect((caught as { code?: string }).code).toBe('ERR_INVALID_ARG');
    }
    await expect(index.search(new Float32Array(d), 1)).rejects.toMatchObject({ code: 'ERR_NOT_TRAINED' });
    await stillWorks();
  });
});
