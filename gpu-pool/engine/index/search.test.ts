import { beforeAll, describe, expect, it } from 'vitest';
import { FaissIndex, setThreads, type SearchResult } from './index.ts';
import { bruteForce, checkExact, clustered, gaussian, recallAtK, score } from './test-helpers.ts';

// The test machine has 2 slow cores and vitest runs two files at once.
beforeAll(() => setThreads(1));

describe('exact search (Flat) vs brute force', () => {
  const d = 32;
  const xb = gaussian(2000, d, 1);
  const xq = gaussian(25, d, 2);

  for (const metric of ['ip', 'l2'] as const) {
    it(`Flat ${metric}`, async () => {
      const index = FaissIndex.create(d, 'Flat', metric);
      expect(index.isTrained).toBe(true);
      expect(index.metric).toBe(metric);
      expect(index.dimension).toBe(d);
      await index.add(xb);
      expect(index.ntotal).toBe(2000);
      const k = 10;
      const res = await index.search(xq, k);
      expect(res.distances).toBeInstanceOf(Float32Array);
      expect(res.labels).toBeInstanceOf(BigInt64Array);
      expect(res.labels.length).toBe(25 * k);
      expect(checkExact(res, xb, xq, d, k, metric)).toBeGreaterThanOrEqual(0.99);
    });
  }

  it('returns -1 labels when fewer than k vectors exist, and handles an empty batch', async () => {
    const index = FaissIndex.create(4, 'Flat', 'l2');
    await index.add(new Float32Array([0, 0, 0, 0, 1, 1, 1, 1]));
    const res = await index.search(new Float32Array([0, 0, 0, 0]), 4);
    expect([...res.labels]).toEqual([0n, 1n, -1n, -1n]);
    const empty = await index.search(new Float32Array(0), 3);
    expect(empty.labels.length).toBe(0);
  });
});

describe('IVF', () => {
  const d = 32;
  const nlist = 32;
  const xb = clustered(5000, d, 64, 3);
  const xq = clustered(60, d, 64, 3, 4);
  const k = 10;
  const exact = bruteForce(xb, xq, d, k, 'l2');
  let index: FaissIndex;

  beforeAll(async () => {
    index = FaissIndex.create(d, `IVF${nlist},Flat`, 'l2');
    expect(index.isTrained).toBe(false);
    await index.train(xb);
    expect(index.isTrained).toBe(true);
    await index.add(xb);
  });

  it('recall increases with nprobe and nprobe = nlist is exact', async () => {
    const recalls: number[] = [];
    for (const nprobe of [1, 2, 4, 8, 16, nlist]) {
      recalls.push(recallAtK((await index.search(xq, k, { nprobe })).labels, exact, k));
    }
    for (let i = 1; i < recalls.length; i++) expect(recalls[i]).toBeGreaterThanOrEqual(recalls[i - 1]);
    expect(recalls[0]).toBeLessThan(1);
    const full = await index.search(xq, k, { nprobe: nlist });
    expect(checkExact(full, xb, xq, d, k, 'l2', exact)).toBeGreaterThanOrEqual(0.99);
  });

  it('per-call nprobe does not change the index default', async () => {
    const before = await index.search(xq, k);
    await index.search(xq, k, { nprobe: nlist });
    const after = await index.search(xq, k);
    expect([...after.labels]).toEqual([...before.labels]);
    const one = await index.search(xq, k, { nprobe: 1 });
    expect([...one.labels]).toEqual([...before.labels]); // default nprobe is 1
    expect(index.description).toMatch(/IndexIVFFlat\(nlist=32, nprobe=1/);
  });

  it('concurrent searches with different nprobe equal sequential ones', async () => {
    expect(index.searchPath({ nprobe: 4 })).toBe('per-call');
    const probes = [1, 2, 4, 8, 16, 32];
    const sequential = new Map<number, SearchResult>();
    for (const nprobe of probes) sequential.set(nprobe, await index.search(xq, k, { nprobe }));
    const jobs = Array.from({ length: 4 }, () => probes).flat();
    const results = await Promise.all(jobs.map((nprobe) => index.search(xq, k, { nprobe })));
    results.forEach((r, i) => {
      const ref = sequential.get(jobs[i])!;
      expect([...r.labels]).toEqual([...ref.labels]);
      expect([...r.distances]).toEqual([...ref.distances]);
    });
  });
});

describe('quantized indexes', () => {
  const d = 64;
  const xb = clustered(3000, d, 40, 5);
  const xq = clustered(40, d, 40, 5, 6);
  const k = 10;
  const exact = bruteForce(xb, xq, d, k, 'ip');

  it('IVF-PQ: IVF64,PQ16np', async () => {
    const index = FaissIndex.create(d, 'IVF64,PQ16np', 'ip');
    await index.train(xb);
    await index.add(xb);
    const r1 = recallAtK((await index.search(xq, k, { nprobe: 1 })).labels, exact, k);
    const r64 = recallAtK((await index.search(xq, k, { nprobe: 64 })).labels, exact, k);
    expect(r64).toBeGreaterThanOrEqual(r1);
    expect(r64).toBeGreaterThan(0.4);
    expect(index.description).toMatch(/IndexIVFPQ\(nlist=64, nprobe=1, M=16, nbits=8/);
  });

  it('OPQ16,IVF64,PQ16np: per-call params pass through the pre-transform', async () => {
    const index = FaissIndex.create(d, 'OPQ16,IVF64,PQ16np', 'ip');
    // OPQ training dominates the test time; 2000 points are enough here.
    await index.train(xb.subarray(0, 2000 * d));
    await index.add(xb);
    expect(index.description).toMatch(/^IndexPreTransform\[OPQMatrix\(64->64\)\] > IndexIVFPQ/);
    expect(index.searchPath({ nprobe: 8 })).toBe('per-call');
    const results = await Promise.all([1, 8, 64, 1, 8, 64].map((nprobe) => index.search(xq, k, { nprobe })));
    const recalls = results.map((r) => recallAtK(r.labels, exact, k));
    expect(recalls[2]).toBeGreaterThanOrEqual(recalls[0]);
    expect(recalls[2]).toBeGreaterThan(0.4);
    expect([...results[3].labels]).toEqual([...results[0].labels]);
    expect([...results[5].labels]).toEqual([...results[2].labels]);
    expect([...results[0].labels]).not.toEqual([...results[2].labels]); // nprobe really applied
  });

  it('HNSW32_PQ16np with efSearch', async () => {
    const index = FaissIndex.create(d, 'HNSW32_PQ16np', 'l2');
    const exactL2 = bruteForce(xb, xq, d, k, 'l2');
    await index.train(xb);
    await index.add(xb);
    expect(index.description).toMatch(/^IndexHNSWPQ\(M=32, efSearch=16/);
    const [lo, hi, lo2] = await Promise.all([
      index.search(xq, k, { efSearch: 10 }),
      index.search(xq, k, { efSearch: 256 }),
      index.search(xq, k, { efSearch: 10 }),
    ]);
    expect(recallAtK(hi.labels, exactL2, k)).toBeGreaterThanOrEqual(recallAtK(lo.labels, exactL2, k) - 0.02);
    expect(recallAtK(hi.labels, exactL2, k)).toBeGreaterThan(0.4);
    expect([...lo2.labels]).toEqual([...lo.labels]);
  });

  it('HNSW32 (flat storage): efSearch raises recall, concurrently', async () => {
    const index = FaissIndex.create(d, 'HNSW32', 'l2');
    const exact = bruteForce(xb, xq, d, k, 'l2');
    await index.add(xb);
    const efs = [10, 200, 10, 200];
    const res = await Promise.all(efs.map((efSearch) => index.search(xq, k, { efSearch })));
    const recalls = res.map((r) => recallAtK(r.labels, exact, k));
    expect(recalls[1]).toBeGreaterThanOrEqual(recalls[0]);
    expect(recalls[1]).toBeGreaterThan(0.95);
    expect([...res[2].labels]).toEqual([...res[0].labels]);
    expect([...res[3].labels]).toEqual([...res[1].labels]);
  });
});

describe('parameter forwarding through wrappers', () => {
  const d = 16;
  const xb = clustered(3000, d, 30, 7);
  // queries away from the blobs: their neighbours spread over several IVF lists
  const xq = gaussian(30, d, 8);
  const k = 5;
  const ids = BigInt64Array.from({ length: 3000 }, (_, i) => BigInt(i) * 3n + 1000n);

  async function concurrentMatchesSequential(index: FaissIndex, params: { nprobe?: number; efSearch?: number; kFactor?: number }[]) {
    const seq: SearchResult[] = [];
    for (const p of params) seq.push(await index.search(xq, k, p));
    const jobs = [...params, ...params, ...params];
    const conc = await Promise.all(jobs.map((p) => index.search(xq, k, p)));
    conc.forEach((r, i) => expect([...r.labels]).toEqual([...seq[i % params.length].labels]));
    return seq;
  }

  it('IDMap2,IVF16,Flat: params reach the IVF under the id map (ids translated)', async () => {
    const index = FaissIndex.create(d, 'IDMap2,IVF16,Flat', 'l2');
    await index.train(xb);
    await index.add(xb, ids);
    expect(index.searchPath({ nprobe: 4 })).toBe('per-call');
    const [one, all] = await concurrentMatchesSequential(index, [{ nprobe: 1 }, { nprobe: 16 }]);
    const labelsAll = [...all.labels];
    expect(labelsAll.every((l) => l >= 1000n && (l - 1000n) % 3n === 0n)).toBe(true);
    // nprobe = nlist is exact: compare with brute force through the id map
    const exact = bruteForce(xb, xq, d, k, 'l2');
    const exactIds = exact.labels.flat().map((i) => ids[i]);
    const agree = labelsAll.filter((l, i) => l === exactIds[i]).length / labelsAll.length;
    expect(agree).toBeGreaterThanOrEqual(0.99);
    expect([...one.labels]).not.toEqual(labelsAll);
  });

  it('IVF16_HNSW32,Flat: efSearch goes to the HNSW coarse quantizer', async () => {
    const index = FaissIndex.create(d, 'IVF16_HNSW32,Flat', 'l2');
    await index.train(xb);
    await index.add(xb);
    expect(index.searchPath({ nprobe: 16, efSearch: 64 })).toBe('per-call');
    const [, full] = await concurrentMatchesSequential(index, [{ nprobe: 1, efSearch: 16 }, { nprobe: 16, efSearch: 64 }]);
    expect(checkExact(full, xb, xq, d, k, 'l2')).toBeGreaterThanOrEqual(0.99);
  });

  it('IVF16,Flat,RFlat: params reach the base index below the refine layer, per call', async () => {
    const index = FaissIndex.create(d, 'IVF16,Flat,RFlat', 'l2');
    await index.train(xb);
    await index.add(xb);
    expect(index.searchPath({ nprobe: 4 })).toBe('per-call');
    expect(index.searchPath({ nprobe: 4, kFactor: 3 })).toBe('per-call');
    const before = await index.search(xq, k);
    const [one, full] = await concurrentMatchesSequential(index, [{ nprobe: 1 }, { nprobe: 16 }]);
    expect(checkExact(full, xb, xq, d, k, 'l2')).toBeGreaterThanOrEqual(0.99);
    expect([...one.labels]).toEqual([...before.labels]);
    expect([...one.labels]).not.toEqual([...full.labels]);
    const after = await index.search(xq, k); // per-call params leave the index's own untouched
    expect([...after.labels]).toEqual([...before.labels]);
    expect(index.description).toMatch(/^IndexRefine/);
  });

  it('IVF16,PQ4np,RFlat: kFactor re-scores k * kFactor PQ candidates exactly', async () => {
    const index = FaissIndex.create(d, 'IVF16,PQ4np,RFlat', 'l2');
    await index.train(xb);
    await index.add(xb);
    const exact = bruteForce(xb, xq, d, k, 'l2');
    const recalls: number[] = [];
    for (const kFactor of [1, 4, 16]) {
      const res = await index.search(xq, k, { nprobe: 16, kFactor });
      recalls.push(recallAtK(res.labels, exact, k));
      // every returned distance is the exact one (from the flat refine index), best first
      for (let q = 0; q < xq.length / d; q++) {
        for (let j = 0; j < k; j++) {
          const label = Number(res.labels[q * k + j]);
          expect(res.distances[q * k + j]).toBeCloseTo(score(xb, label, xq, q, d, 'l2'), 3);
          if (j > 0) expect(res.distances[q * k + j]).toBeGreaterThanOrEqual(res.distances[q * k + j - 1]);
        }
      }
    }
    // PQ4 on 16 dims is coarse: re-scoring more candidates must find more true neighbours
    expect(recalls[1]).toBeGreaterThan(recalls[0]);
    expect(recalls[2]).toBeGreaterThanOrEqual(recalls[1]);
    expect(recalls[2]).toBeGreaterThanOrEqual(0.95);
    // the index's own k_factor (1) is untouched by per-call values
    expect([...(await index.search(xq, k, { nprobe: 16 })).labels]).toEqual([...(await index.search(xq, k, { nprobe: 16, kFactor: 1 })).labels]);
  });

  it('rejects a kFactor below 1 or not a number, naming it', async () => {
    const index = FaissIndex.create(d, 'IVF16,Flat,RFlat', 'l2');
    await index.train(xb);
    await index.add(xb);
    await expect(index.search(xq, k, { kFactor: 0.5 })).rejects.toThrow(/kFactor must be a number >= 1, got 0\.5/);
    await expect(index.search(xq, k, { kFactor: Number.NaN })).rejects.toThrow(/kFactor/);
  });

  it('searchSync answers as search does, refuses during a mutation and on the fallback path', async () => {
    const index = FaissIndex.create(d, 'IVF16,PQ4np,RFlat', 'l2');
    await index.train(xb);
    await index.add(xb);
    for (const params of [undefined, { nprobe: 4 }, { nprobe: 16, kFactor: 4 }]) {
      const a = await index.search(xq, k, params);
      const b = index.searchSync(xq, k, params);
      expect([...b.labels]).toEqual([...a.labels]);
      expect([...b.distances]).toEqual([...a.distances]);
    }
    const adding = index.add(xb.subarray(0, 10 * d));
    expect(() => index.searchSync(xq, k)).toThrow(/in flight/);
    await adding;
    // an IDMap below a pre-transform cannot take per-call params: the locked fallback, which
    // searchSync refuses rather than block the event loop waiting for the exclusive lock
    const fallback = FaissIndex.create(d, 'PCA8,IDMap2,IVF4,Flat', 'l2');
    await fallback.train(xb);
    await fallback.add(xb, ids);
    expect(fallback.searchPath({ nprobe: 3 })).toBe('fallback');
    expect(() => fallback.searchSync(xq, k, { nprobe: 3 })).toThrow(/locked fallback path .* use search\(\)/);
    expect([...fallback.searchSync(xq, k).labels]).toEqual([...(await fallback.search(xq, k)).labels]);
  });

  it('ignores parameters with nothing to act on (nprobe on Flat, efSearch on IVF)', async () => {
    const flat = FaissIndex.create(d, 'Flat', 'l2');
    await flat.add(xb);
    const a = await flat.search(xq, k);
    const b = await flat.search(xq, k, { nprobe: 7, efSearch: 99 });
    expect([...b.labels]).toEqual([...a.labels]);
    expect(flat.searchPath({ nprobe: 7 })).toBe('per-call');
  });
});
