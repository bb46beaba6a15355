// bench:scale child: the exact top 10 of every query over the first N synthetic rows, for each N
// asked, in one streaming pass (faiss Flat over chunks, merged).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FaissIndex, setThreads } from '../../gpu-pool/engine/index/index.ts';
import { readParents, syntheticRows } from './synthetic.ts';
import { readQueries } from './queries.ts';

const [dir, sizesArg] = process.argv.slice(2);
const sizes = sizesArg.split(',').map(Number).sort((a, b) => a - b);
const K = 10;
const CHUNK = 100_000;
setThreads(2);
const { d, vectors: queries, nq } = await readQueries(dir);
const parents = await readParents(join(dir, 'parents.f32'), d);
const best: { id: number; score: number }[][] = Array.from({ length: nq }, () => []);
const out = new Float32Array(CHUNK * d);
let done = 0;
const t0 = performance.now();
for (const size of sizes) {
  while (done < size) {
    const count = Math.min(CHUNK, size - done);
    const rows = syntheticRows(parents, done, count, out).subarray(0, count * d);
    const flat = FaissIndex.create(d, 'Flat', 'ip');
    await flat.add(rows);
    const { distances, labels } = await flat.search(queries, K);
    flat.dispose();
    for (let q = 0; q < nq; q++) {
      for (let j = 0; j < K; j++) best[q].push({ id: done + Number(labels[q * K + j]), score: distances[q * K + j] });
      best[q].sort((a, b) => b.score - a.score || a.id - b.id).splice(K);
    }
    done += count;
    if (done % 1_000_000 === 0) process.stderr.write(`[scale:exact] ${done} rows in ${((performance.now() - t0) / 1000).toFixed(0)}s\n`);
  }
  await writeFile(join(dir, `exact-${size}.json`), JSON.stringify(best.map((b) => b.map((x) => x.id))));
}
