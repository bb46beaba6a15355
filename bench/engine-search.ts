// One index, one process (so peak RSS is this index's): load, search the SciFact test queries
// from pre-encoded vectors, score. Prints one JSON line. Used by engine.ts.
import { readFile, writeFile } from 'node:fs/promises';
import { evaluate, readQrels, type Run } from '../gpu-pool/engine/eval/index.ts';
import { FaissIndex } from '../gpu-pool/engine/index/index.ts';
import { Searcher } from '../gpu-pool/engine/search/index.ts';
import type { EncodedQuery, MethodName, MethodQuery, QueryParams } from '../gpu-pool/engine/methods/index.ts';

const [indexDir, mode, paramsJson, queriesJson, vectorsFile, qrelsFile, runOut] = process.argv.slice(2);
const params = JSON.parse(paramsJson) as QueryParams;
const queries = JSON.parse(await readFile(queriesJson, 'utf8')) as { id: string; text: string }[];
const qrels = await readQrels(qrelsFile);
const K = 100;
FaissIndex.setThreads(2);

const searcher = await Searcher.open(indexDir, { threads: 2 });
const mq: MethodQuery[] = queries.map((q) => ({ id: q.id, text: q.text, k: K, params }));
let hits;
let batchedMs: number;
let singleMs: number;
if (mode === 'dense') {
  const buf = await readFile(vectorsFile);
  const vectors = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const method = await searcher.method('dense');
  const d = vectors.length / mq.length;
  const encoded: EncodedQuery[] = mq.map((q, i) => ({ ...q, vector: vectors.subarray(i * d, (i + 1) * d) }));
  await method.searchEncoded(encoded.slice(0, 8)); // warm up
  let t = performance.now();
  hits = await method.searchEncoded(encoded);
  batchedMs = (performance.now() - t) / mq.length;
  t = performance.now();
  for (const q of encoded) await method.searchEncoded([q]);
  singleMs = (performance.now() - t) / mq.length;
} else {
  const method = await searcher.method(mode as MethodName);
  await method.search(mq.slice(0, 8));
  let t = performance.now();
  hits = await method.search(mq);
  batchedMs = (performance.now() - t) / mq.length;
  t = performance.now();
  for (const q of mq) await method.search([q]);
  singleMs = (performance.now() - t) / mq.length;
}
const run: Run = new Map();
for (const [i, list] of hits.entries()) {
  const ranked = [];
  for (const h of list) ranked.push({ docId: (await searcher.index.shards[h.shard].passages.get(h.ordinal)).id, score: h.score });
  run.set(mq[i].id, ranked);
}
const result = evaluate(run, qrels, ['ndcg@10', 'recall@100']);
// Every query's ranked documents and scores, for comparing faiss builds (engine.ts).
if (runOut) await writeFile(runOut, JSON.stringify(mq.map((q) => run.get(q.id)!.map((h) => [h.docId, h.score]))));
process.stdout.write(
  `${JSON.stringify({ ndcg10: result.mean['ndcg@10'], recall100: result.mean['recall@100'], batchedMs, singleMs, peakRssMB: process.resourceUsage().maxRSS / 1024 })}\n`,
);
await searcher.close();
