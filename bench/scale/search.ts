// bench:scale child: loads one index file (resident memory measured around the load), then
// searches the queries at every sweep setting, batched (one call) and single (one call per
// query), 2 threads, and prints one JSON line per setting with recall@10 against exact search.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FaissIndex, setThreads } from '../../gpu-pool/engine/index/index.ts';
import { readQueries } from './queries.ts';

const [dir, sizeArg, slug, sweepsArg] = process.argv.slice(2);
const size = Number(sizeArg);
const sweeps = JSON.parse(sweepsArg) as { nprobe?: number; efSearch?: number }[];
const K = 10;
setThreads(2);
const { d, nq, vectors } = await readQueries(dir);
const exact = JSON.parse(await readFile(join(dir, `exact-${size}.json`), 'utf8')) as number[][];
const rssBefore = process.memoryUsage().rss;
const index = await FaissIndex.readFile(join(dir, `index-${size}-${slug}.faiss`));
const residentBytes = process.memoryUsage().rss - rssBefore;
for (const sweep of sweeps) {
  await index.search(vectors.subarray(0, 8 * d), K, sweep);
  let t = performance.now();
  const { labels } = await index.search(vectors, K, sweep);
  const batchedMs = (performance.now() - t) / nq;
  t = performance.now();
  for (let q = 0; q < nq; q++) await index.search(vectors.subarray(q * d, (q + 1) * d), K, sweep);
  const singleMs = (performance.now() - t) / nq;
  let hits = 0;
  exact.forEach((truth, q) => {
    const got = new Set(Array.from(labels.subarray(q * K, (q + 1) * K), Number));
    hits += truth.filter((id) => got.has(id)).length;
  });
  process.stdout.write(`${JSON.stringify({ sweep, recall10: hits / (nq * K), batchedMs, singleMs, residentBytes })}\n`);
}
index.dispose();
