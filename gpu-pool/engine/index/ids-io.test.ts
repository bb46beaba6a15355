import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaissError, FaissIndex, setThreads } from './index.ts';
import { clustered, gaussian, rows } from './test-helpers.ts';

let dir: string;
beforeAll(async () => {
  setThreads(1);
  dir = await mkdtemp(join(tmpdir(), 'faiss-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const d = 16;
const xb = clustered(2000, d, 20, 11);
const xq = gaussian(20, d, 12);
const ids = BigInt64Array.from({ length: 2000 }, (_, i) => 10_000_000_000n + BigInt(i) * 7n);

function sameResult(a: { distances: Float32Array; labels: BigInt64Array }, b: typeof a): void {
  expect([...a.labels]).toEqual([...b.labels]);
  expect([...a.distances]).toEqual([...b.distances]);
}

describe('ids and reconstruct', () => {
  it('IVF-Flat: add with ids, reconstruct returns the vector (direct map made lazily)', async () => {
    const index = FaissIndex.create(d, 'IVF8,Flat', 'l2');
    await index.train(xb);
    await index.add(xb, ids);
    const v = index.reconstruct(ids[123]);
    expect([...v]).toEqual([...rows(xb, d, 123, 124)]);
    expect([...index.reconstruct(Number(ids[5]))]).toEqual([...rows(xb, d, 5, 6)]);
    const batch = index.reconstructBatch(BigInt64Array.from([ids[7], ids[1999]]));
    expect([...batch]).toEqual([...rows(xb, d, 7, 8), ...rows(xb, d, 1999, 2000)]);
    // search labels are the user ids
    const res = await index.search(rows(xb, d, 42, 43), 1, { nprobe: 8 });
    expect(res.labels[0]).toBe(ids[42]);
    expect(() => index.reconstruct(12345n)).toThrow(FaissError);
    // adding after the direct map exists keeps it in sync
    await index.add(rows(xq, d, 0, 1), BigInt64Array.from([-5n]));
    expect([...index.reconstruct(-5n)]).toEqual([...rows(xq, d, 0, 1)]);
  });

  it('IDMap2,Flat: add with ids, reconstruct, search labels', async () => {
    const index = FaissIndex.create(d, 'IDMap2,Flat', 'ip');
    await index.add(xb, ids);
    expect(index.ntotal).toBe(2000);
    expect([...index.reconstruct(ids[1500])]).toEqual([...rows(xb, d, 1500, 1501)]);
    const res = await index.search(xq, 3);
    for (const l of res.labels) expect(ids.includes(l)).toBe(true);
    expect(index.description).toBe('IndexIDMap2 > IndexFlat');
  });

  it('Flat: sequential ids, reconstruct checks the range', async () => {
    const index = FaissIndex.create(d, 'Flat', 'l2');
    await index.add(xb);
    expect([...index.reconstruct(0)]).toEqual([...rows(xb, d, 0, 1)]);
    expect(() => index.reconstruct(2000)).toThrow(/out of range/);
    expect(() => index.reconstruct(-1n)).toThrow(/out of range/);
  });

  it('removeIds: IVF, IDMap2 and Flat', async () => {
    const ivf = FaissIndex.create(d, 'IVF8,Flat', 'l2');
    await ivf.train(xb);
    await ivf.add(xb, ids);
    expect(await ivf.removeIds(BigInt64Array.from([ids[0], ids[1], 99n]))).toBe(2);
    expect(ivf.ntotal).toBe(1998);
    const res = await ivf.search(rows(xb, d, 0, 2), 5, { nprobe: 8 });
    expect(res.labels.includes(ids[0])).toBe(false);
    expect(res.labels.includes(ids[1])).toBe(false);

    // reconstruct() switches the IVF's direct map on; removal must still work after it.
    expect([...ivf.reconstruct(ids[2])]).toEqual([...rows(xb, d, 2, 3)]);
    expect(await ivf.removeIds([ids[2], ids[3]])).toBe(2);
    expect(ivf.ntotal).toBe(1996);
    expect(() => ivf.reconstruct(ids[2])).toThrow(FaissError);

    const idmap = FaissIndex.create(d, 'IDMap2,Flat', 'l2');
    await idmap.add(xb, ids);
    expect(await idmap.removeIds([ids[10], ids[11], ids[12]])).toBe(3);
    expect(idmap.ntotal).toBe(1997);
    expect(() => idmap.reconstruct(ids[10])).toThrow(FaissError);
    expect([...idmap.reconstruct(ids[13])]).toEqual([...rows(xb, d, 13, 14)]);
    const r2 = await idmap.search(rows(xb, d, 10, 11), 1);
    expect(r2.labels[0]).not.toBe(ids[10]);

    const flat = FaissIndex.create(d, 'Flat', 'l2');
    await flat.add(xb);
    expect(await flat.removeIds([0n, 1n])).toBe(2);
    expect(flat.ntotal).toBe(1998); // Flat renumbers: ids shift down
  });
});

describe('serialization', () => {
  const keys = ['Flat', 'IVF8,Flat', 'IVF8,PQ4np', 'OPQ4,IVF8,PQ4np', 'HNSW16', 'HNSW16_PQ4np', 'IDMap2,Flat', 'IVF8,Flat,RFlat'];

  for (const key of keys) {
    it(`${key}: file and buffer round trips search identically`, async () => {
      const index = FaissIndex.create(d, key, 'l2');
      await index.train(xb);
      if (key.startsWith('IDMap')) await index.add(xb, ids);
      else await index.add(xb);
      const params = { nprobe: 4, efSearch: 32 };
      const ref = await index.search(xq, 5, params);

      const path = join(dir, `${key.replace(/[^A-Za-z0-9]/g, '_')}.faiss`);
      await index.writeFile(path);
      const fromFile = await FaissIndex.readFile(path);
      expect(fromFile.ntotal).toBe(index.ntotal);
      expect(fromFile.dimension).toBe(d);
      expect(fromFile.metric).toBe('l2');
      // faiss reads concrete subclasses (IndexFlat -> IndexFlatL2, IndexRefine -> IndexRefineFlat)
      const head = (desc: string) => desc.split(/[[(]/)[0].replace(/(L2|IP)$/, '').replace('RefineFlat', 'Refine');
      expect(head(fromFile.description)).toBe(head(index.description));
      sameResult(await fromFile.search(xq, 5, params), ref);

      const buf = await index.toBuffer();
      expect(Buffer.isBuffer(buf)).toBe(true);
      expect(buf.equals(await readFile(path))).toBe(true);
      const fromBuf = await FaissIndex.fromBuffer(buf);
      expect(fromBuf.description).toBe(fromFile.description);
      sameResult(await fromBuf.search(xq, 5, params), ref);

      const copy = index.clone();
      sameResult(await copy.search(xq, 5, params), ref);
    });
  }

  it('readFile with mmap: same results, read-only', async () => {
    const index = FaissIndex.create(d, 'IVF8,Flat', 'l2');
    await index.train(xb);
    await index.add(xb);
    const path = join(dir, 'mmap.faiss');
    await index.writeFile(path);
    const mapped = await FaissIndex.readFile(path, { mmap: true });
    expect(mapped.readOnly).toBe(true);
    sameResult(await mapped.search(xq, 5, { nprobe: 3 }), await index.search(xq, 5, { nprobe: 3 }));
    await expect(mapped.add(xb)).rejects.toMatchObject({ code: 'ERR_READ_ONLY' });
    await expect(mapped.removeIds([1n])).rejects.toMatchObject({ code: 'ERR_READ_ONLY' });
    expect(() => mapped.clone()).toThrow(/read-only/);
    expect([...mapped.reconstruct(3)]).toEqual([...rows(xb, d, 3, 4)]);
  });
});

describe('clone', () => {
  it('train once, clone the empty trained index per shard, add each shard', async () => {
    const template = FaissIndex.create(d, 'IVF8,PQ4np', 'ip');
    await template.train(xb);
    const shards = [0, 1, 2].map(() => template.clone());
    await Promise.all(shards.map((s, i) => s.add(rows(xb, d, i * 500, (i + 1) * 500))));
    expect(shards.map((s) => s.ntotal)).toEqual([500, 500, 500]);
    expect(template.ntotal).toBe(0);
    expect(shards[0].factoryKey).toBe('IVF8,PQ4np');
    // the same codebooks: a shard equals an index built with the template's training
    const whole = template.clone();
    await whole.add(rows(xb, d, 500, 1000));
    sameResult(await shards[1].search(xq, 4, { nprobe: 8 }), await whole.search(xq, 4, { nprobe: 8 }));
    // clones are independent
    await shards[0].removeIds([0n]);
    expect(shards[0].ntotal).toBe(499);
    expect(shards[1].ntotal).toBe(500);
  });

  it('dispose frees the index; later calls fail with ERR_DISPOSED; pending work finishes', async () => {
    const index = FaissIndex.create(d, 'Flat', 'l2');
    const pending = index.add(xb);
    index.dispose();
    await pending;
    expect(index.disposed).toBe(true);
    expect(() => index.ntotal).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
    await expect(index.search(xq, 1)).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
    index.dispose();
  });

  it('mixed concurrent adds, removes and searches behave as if run in call order', async () => {
    const index = FaissIndex.create(d, 'IVF8,Flat', 'l2');
    await index.train(xb);
    const ops: Promise<unknown>[] = [];
    const seen: number[] = [];
    for (let b = 0; b < 10; b++) {
      const lo = b * 200;
      ops.push(index.add(rows(xb, d, lo, lo + 200), ids.slice(lo, lo + 200)));
      ops.push(index.search(rows(xb, d, lo, lo + 1), 1, { nprobe: 8 }).then((r) => seen.push(Number(r.labels[0] === ids[lo]))));
      if (b % 3 === 2) ops.push(index.removeIds(ids.slice(lo, lo + 10)));
      ops.push(index.search(xq, 5, { nprobe: 1 + (b % 8) }));
    }
    await Promise.all(ops);
    expect(seen).toEqual(Array(10).fill(1)); // each search saw the add issued just before it
    expect(index.ntotal).toBe(2000 - 3 * 10);
  });

  it('writes are ordered after the mutations issued before them', async () => {
    const index = FaissIndex.create(d, 'Flat', 'l2');
    const path = join(dir, 'ordered.faiss');
    const a = index.add(rows(xb, d, 0, 1000));
    const b = index.add(rows(xb, d, 1000, 2000));
    const w = index.writeFile(path);
    const s = index.search(rows(xb, d, 1999, 2000), 1);
    await Promise.all([a, b, w]);
    expect((await s).labels[0]).toBe(1999n);
    expect((await FaissIndex.readFile(path)).ntotal).toBe(2000);
    expect((await stat(path)).size).toBeGreaterThan(2000 * d * 4);
  });
});
