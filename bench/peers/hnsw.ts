// bench:peers child: HNSW graphs outside faiss on the same vectors, built with faiss HNSW32's
// shape (M 32, so 64 links on the base layer; efConstruction 40, faiss's default), inner
// product, swept over the search breadth: hnswlib-node, and usearch (its expansion_search).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import usearch from 'usearch';
import { K, emit, fastest, packageVersion, queryRow, readPeerData, recallAt10 } from './data.ts';

const data = await readPeerData(process.argv[2]);
const EFS = [16, 32, 64, 128, 256];
const M = 32;
const EF_CONSTRUCTION = 40;

// hnswlib-node: one thread (its addPoint is single-threaded), number[] in and out.
{
  const t = performance.now();
  const index = new hnswlib.HierarchicalNSW('ip', data.d);
  index.initIndex(data.n, M, EF_CONSTRUCTION, 100);
  for (let i = 0; i < data.n; i++) index.addPoint(Array.from(data.base.subarray(i * data.d, (i + 1) * data.d)), i);
  const buildS = (performance.now() - t) / 1000;
  const file = join(data.dir, 'hnswlib.bin');
  index.writeIndexSync(file);
  const { size } = await import('node:fs').then((fs) => fs.statSync(file));
  const queries = Array.from({ length: data.nq }, (_, q) => Array.from(queryRow(data, q)));
  let first = true;
  for (const ef of EFS) {
    index.setEf(ef);
    for (let q = 0; q < 8; q++) index.searchKnn(queries[q], K);
    const found: number[][] = [];
    const single = await fastest(2, () => {
      found.length = 0;
      for (const q of queries) found.push(index.searchKnn(q, K).neighbors);
    });
    emit({
      system: 'hnswlib-node',
      version: `hnswlib-node ${packageVersion('hnswlib-node')}`,
      index: `HNSW M=${M} efConstruction=${EF_CONSTRUCTION}`,
      params: `ef=${ef}`,
      threads: 1,
      ...(first ? { buildS, bytesOnDisk: size } : {}),
      recall10: recallAt10(found, data.exact),
      singleMs: single / data.nq,
    });
    first = false;
  }
  rmSync(file, { force: true });
}

// usearch: built with 2 threads (it parallelises add), searched one thread; expansion_search is
// fixed per Index object, so the saved graph is loaded once per value.
{
  const config = (ef: number) => ({ dimensions: data.d, metric: usearch.MetricKind.IP, quantization: usearch.ScalarKind.F32, connectivity: M, expansion_add: EF_CONSTRUCTION, expansion_search: ef, multi: false });
  const t = performance.now();
  const built = new usearch.Index(config(EFS[0]));
  const keys = BigUint64Array.from({ length: data.n }, (_, i) => BigInt(i));
  built.add(keys, data.base, 2);
  const buildS = (performance.now() - t) / 1000;
  const file = join(data.dir, 'usearch.bin');
  built.save(file);
  const { size } = await import('node:fs').then((fs) => fs.statSync(file));
  let first = true;
  for (const ef of EFS) {
    const index = new usearch.Index(config(ef));
    index.load(file);
    for (let q = 0; q < 8; q++) index.search(queryRow(data, q), K, 1);
    const found: number[][] = [];
    const single = await fastest(2, () => {
      found.length = 0;
      for (let q = 0; q < data.nq; q++) found.push(Array.from(index.search(queryRow(data, q), K, 1).keys, Number));
    });
    const batched = await fastest(3, () => index.search(data.queries, K, 1));
    emit({
      system: 'usearch',
      version: `usearch ${packageVersion('usearch')}`,
      index: `HNSW connectivity=${M} expansion_add=${EF_CONSTRUCTION}`,
      params: `expansion_search=${ef}`,
      threads: 1,
      ...(first ? { buildS, bytesOnDisk: size } : {}),
      recall10: recallAt10(found, data.exact),
      batchedMs: batched / data.nq,
      singleMs: single / data.nq,
    });
    first = false;
  }
  rmSync(file, { force: true });
}
