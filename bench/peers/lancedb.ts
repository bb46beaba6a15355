// bench:peers child: LanceDB (embedded, @lancedb/lancedb) on the same vectors: an IVF_PQ index
// with faiss IVF256,PQ128's shape (256 partitions, 128 sub-vectors of 8 bits, dot product),
// swept over nprobes and refine factors, one query per call (LanceDB has no batch search).
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { Float32 } from 'apache-arrow';
import { K, emit, fastest, packageVersion, queryRow, readPeerData, recallAt10 } from './data.ts';

const data = await readPeerData(process.argv[2]);
const version = packageVersion('@lancedb/lancedb');
const dir = join(data.dir, 'lancedb');
await rm(dir, { recursive: true, force: true });

async function dirBytes(path: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(path, { withFileTypes: true, recursive: true })) if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  return total;
}

const db = await lancedb.connect(dir);
const t0 = performance.now();
const rows = Array.from({ length: data.n }, (_, i) => ({ id: i, vector: Array.from(data.base.subarray(i * data.d, (i + 1) * data.d)) }));
const table = await db.createTable('scifact', lancedb.makeArrowTable(rows, { vectorColumns: { vector: { type: new Float32() } } }));
const loadS = (performance.now() - t0) / 1000;
const t1 = performance.now();
await table.createIndex('vector', { config: lancedb.Index.ivfPq({ numPartitions: 256, numSubVectors: 128, numBits: 8, distanceType: 'dot' }) });
const indexS = (performance.now() - t1) / 1000;
const bytesOnDisk = await dirBytes(dir);

async function search(q: Float32Array, nprobes: number, refine?: number): Promise<number[]> {
  let query = table.vectorSearch(q).distanceType('dot').nprobes(nprobes).select(['id', '_distance']).limit(K);
  if (refine) query = query.refineFactor(refine);
  const rows = (await query.toArray()) as { id: number }[];
  return rows.map((r) => r.id);
}

const sweeps: { nprobes: number; refine?: number }[] = [
  ...[8, 16, 32, 64, 128].map((nprobes) => ({ nprobes })),
  { nprobes: 16, refine: 4 },
  { nprobes: 32, refine: 4 },
  { nprobes: 64, refine: 4 },
];
let first = true;
for (const s of sweeps) {
  for (let q = 0; q < 8; q++) await search(queryRow(data, q), s.nprobes, s.refine); // warm up
  const found: number[][] = [];
  const single = await fastest(2, async () => {
    found.length = 0;
    for (let q = 0; q < data.nq; q++) found.push(await search(queryRow(data, q), s.nprobes, s.refine));
  });
  emit({
    system: 'LanceDB',
    version: `@lancedb/lancedb ${version}`,
    index: 'IVF_PQ (256 partitions, 128 sub-vectors, 8 bits)',
    params: `nprobes=${s.nprobes}${s.refine ? ` refineFactor=${s.refine}` : ''}`,
    threads: Number(process.env.LANCE_CPU_THREADS ?? 0) || 0,
    ...(first ? { buildS: loadS + indexS, bytesOnDisk } : {}),
    recall10: recallAt10(found, data.exact),
    singleMs: single / data.nq,
  });
  first = false;
}
process.stderr.write(`[lancedb] table written in ${loadS.toFixed(1)}s, IVF_PQ built in ${indexS.toFixed(1)}s, ${bytesOnDisk} bytes on disk\n`);
