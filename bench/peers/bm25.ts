// bench:peers child: our BM25 (the engine's, on the Flat + BM25 index) against MiniSearch, an
// independent JavaScript BM25, on SciFact's documents and 300 test queries: nDCG@10 against the
// qrels, and ms per query (one call per query; ours also batched).
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import MiniSearch from 'minisearch';
import { evaluate, readQrels, type Run } from '../../gpu-pool/engine/eval/index.ts';
import type { MethodQuery } from '../../gpu-pool/engine/methods/index.ts';
import { Searcher } from '../../gpu-pool/engine/search/index.ts';
import { SCIFACT_DIR } from '../../test/fixtures.ts';
import { fastest, packageVersion } from './data.ts';

const [indexDir, queriesFile] = process.argv.slice(2);
const queries = JSON.parse(await readFile(queriesFile, 'utf8')) as { id: string; text: string }[];
const qrels = await readQrels(join(SCIFACT_DIR, 'qrels', 'test.tsv'));
const K = 10;
const ndcg = (run: Run) => evaluate(run, qrels, ['ndcg@10']).mean['ndcg@10'];
const line = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

// Ours.
{
  const searcher = await Searcher.open(indexDir, { threads: 1 });
  const method = await searcher.method('bm25');
  const mq: MethodQuery[] = queries.map((q) => ({ id: q.id, text: q.text, k: K, params: {} }));
  await method.search(mq.slice(0, 8));
  let hits: Awaited<ReturnType<typeof method.search>> = [];
  const batched = await fastest(3, async () => {
    hits = await method.search(mq);
  });
  const single = await fastest(2, async () => {
    for (const q of mq) await method.search([q]);
  });
  const run: Run = new Map();
  for (const [i, list] of hits.entries()) {
    const ranked = [];
    for (const h of list) ranked.push({ docId: (await searcher.index.shards[h.shard].passages.get(h.ordinal)).id, score: h.score });
    run.set(mq[i].id, ranked);
  }
  line({ system: 'edgesearch BM25', version: 'this repository', params: 'k1=0.9 b=0.4, Porter stemming, title + text', ndcg10: ndcg(run), batchedMs: batched / mq.length, singleMs: single / mq.length });
  await searcher.close();
}

// MiniSearch, with its defaults (BM25+, k1 1.2, b 0.7, d 0.5) and with our k1/b and no "+" term.
const docs: { id: string; title: string; text: string }[] = [];
for await (const row of createInterface({ input: createReadStream(join(SCIFACT_DIR, 'corpus.jsonl')) })) {
  if (!row.trim()) continue;
  const d = JSON.parse(row) as { _id: string; title?: string; text?: string };
  docs.push({ id: d._id, title: d.title ?? '', text: d.text ?? '' });
}
const version = packageVersion('minisearch');
for (const [params, bm25] of [
  ['defaults (BM25+ k1=1.2 b=0.7 d=0.5), no stemming, title + text', undefined],
  ['k1=0.9 b=0.4 d=0, no stemming, title + text', { k: 0.9, b: 0.4, d: 0 }],
] as const) {
  const t = performance.now();
  const mini = new MiniSearch({ fields: ['title', 'text'], idField: 'id', searchOptions: bm25 ? { bm25 } : {} });
  mini.addAll(docs);
  const buildS = (performance.now() - t) / 1000;
  const results = new Map<string, ReturnType<typeof mini.search>>();
  const single = await fastest(2, () => {
    for (const q of queries) results.set(q.id, mini.search(q.text));
  });
  const run: Run = new Map();
  for (const q of queries) run.set(q.id, results.get(q.id)!.slice(0, K).map((r) => ({ docId: String(r.id), score: r.score })));
  line({ system: 'MiniSearch', version: `minisearch ${version}`, params, ndcg10: ndcg(run), singleMs: single / queries.length, buildS });
}
