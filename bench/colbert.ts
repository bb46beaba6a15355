// bench:colbert — late interaction (issue 14) on SciFact: the compressed token index (size, build
// time, peak RSS), nDCG@10 of BM25 top 100 re-ranked by MaxSim over float tokens and over 1-, 2-
// and 4-bit residual-compressed tokens (alone and fused with BM25), MaxSim re-rank speed on one
// core, and end-to-end mode colbert / bm25 + rerank colbert:100 through the Searcher.
// Writes bench/results/colbert.md.
import { open, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { trainCodec, type ResidualCodec } from '../gpu-pool/engine/colbert/codec/index.ts';
import { DEFAULT_NPROBE, TOKEN_STORE_FILES } from '../gpu-pool/engine/colbert/store/index.ts';
import { readCorpus, readQueries, type Doc } from '../gpu-pool/engine/corpus/index.ts';
import { loadManifest, loadTokenEncoder, manifestHash, type TokenMatrix } from '../gpu-pool/engine/encoders/index.ts';
import { evaluate, readQrels, type Qrels, type Run } from '../gpu-pool/engine/eval/index.ts';
import { FaissIndex, maxSim } from '../gpu-pool/engine/index/index.ts';
import { DEFAULT_COLBERT_CANDIDATES, DEFAULT_RERANK_WEIGHT, rerankedTopK, type Hit, type MethodName, type MethodQuery } from '../gpu-pool/engine/methods/index.ts';
import { Searcher } from '../gpu-pool/engine/search/index.ts';
import { trainingSample } from '../gpu-pool/engine/writer/index.ts';
import { REPO_ROOT, SCIFACT_DIR, requireShared } from '../test/fixtures.ts';
import { timedCli } from './child-cli.ts';
import { machineLine } from './machine.ts';
import { writeResultTable } from './result-table.ts';

const MODEL = resolve(process.env.BENCH_COLBERT_MODEL ?? join(REPO_ROOT, 'models', 'use-lite-tokens'));
const LIMIT = process.env.BENCH_COLBERT_LIMIT ? Number(process.env.BENCH_COLBERT_LIMIT) : undefined;
const CENTROIDS = process.env.BENCH_COLBERT_CENTROIDS ? Number(process.env.BENCH_COLBERT_CENTROIDS) : undefined;
const BITS = 2; // what the index is built with; 1 and 4 bits are compared from the same float tokens
const DEPTH = 100; // BM25 candidates re-ranked
const TRAIN_SIZE = 100_000; // `index build`'s default --train-size: the codec's sample
const GROUP_DOCS = 256; // `index build`'s default --checkpoint-docs: documents per encoder call
const WEIGHTS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const WARMUP = 10;
const work = process.env.BENCH_WORK ?? (await mkdtemp(join(tmpdir(), 'es-bench-colbert-')));
requireShared(SCIFACT_DIR);
await mkdir(work, { recursive: true });
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const f4 = (x: number) => x.toFixed(4);
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const median = (xs: number[]) => quantile(xs, 0.5);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// The indexed documents (the first LIMIT of the corpus, as `index build --limit` takes them).
const corpus: Doc[] = [];
for await (const doc of readCorpus(SCIFACT_DIR)) {
  if (LIMIT !== undefined && corpus.length >= LIMIT) break;
  corpus.push(doc);
}
const indexed = new Set(corpus.map((d) => d.id));
const modelManifest = loadManifest(MODEL).manifest;
const key = JSON.stringify({ model: manifestHash(modelManifest), limit: LIMIT ?? null, docs: corpus.length });

// Queries with a relevant document in the index (all of them on the full corpus).
async function querySet(file: string, qrelsFile: string) {
  const all = await readQrels(join(SCIFACT_DIR, 'qrels', qrelsFile));
  const qrels: Qrels = new Map([...all].filter(([, judged]) => [...judged].some(([doc, rel]) => rel > 0 && indexed.has(doc))));
  const queries: { id: string; text: string }[] = [];
  for await (const q of readQueries(join(SCIFACT_DIR, file))) if (qrels.has(q.id)) queries.push(q);
  return { queries, qrels, judged: all.size };
}
const test = await querySet('queries.test.jsonl', 'test.tsv');
const train = await querySet('queries.train.jsonl', 'train.tsv');
const ndcg10 = (run: Run, qrels: Qrels) => evaluate(run, qrels, ['ndcg@10']).mean['ndcg@10'];

// 1. The index: `index build --method colbert --bits 2 --bm25`, one shard, a child process.
const indexDir = join(work, 'colbert-index');
const buildRecord = join(work, 'colbert-build.json');
const buildOptions = ['--method', 'colbert', '--bits', String(BITS), '--bm25', '--threads', '2'];
if (LIMIT !== undefined) buildOptions.push('--limit', String(LIMIT));
if (CENTROIDS !== undefined) buildOptions.push('--centroids', String(CENTROIDS));
const buildArgs = ['index', 'build', '--corpus', SCIFACT_DIR, '--model', MODEL, ...buildOptions, '--out', indexDir, '--force'];
let build: { key: string; args: string[]; seconds: number; peakRssMB: number } | undefined = await readFile(buildRecord, 'utf8').then(JSON.parse, () => undefined);
if (!build || build.key !== key || JSON.stringify(build.args) !== JSON.stringify(buildArgs) || !(await stat(join(indexDir, 'index.json')).catch(() => undefined))) {
  log(`building ${indexDir}: edgesearch ${buildArgs.join(' ')}`);
  const run = timedCli(buildArgs);
  build = { key, args: buildArgs, seconds: run.seconds, peakRssMB: run.peakRssMB };
  await writeFile(buildRecord, JSON.stringify(build));
  log(`built in ${f1(build.seconds)} s, peak RSS ${build.peakRssMB.toFixed(0)} MB`);
} else log(`reusing ${indexDir} (built in ${f1(build.seconds)} s)`);

FaissIndex.setThreads(1);
const searcher = await Searcher.open(indexDir, { threads: 1 });
if (searcher.index.shards.length !== 1) throw new Error(`${indexDir}: expected one shard`);
const shard = searcher.index.shards[0];
const store = shard.tokens!;
const dim = store.dim;
const K = store.codec.centroidCount;

// 2. End to end through the Searcher, one query at a time (k = 10), single-threaded.
interface EndToEnd {
  label: string;
  ndcg: number;
  encode: number[];
  search: number[];
  total: number[];
}
async function endToEnd(label: string, mode: MethodName, extra: Partial<MethodQuery> = {}): Promise<EndToEnd> {
  const query = (q: { id: string; text: string }): MethodQuery => ({ id: q.id, text: q.text, k: 10, ...extra });
  for (const q of test.queries.slice(0, WARMUP)) await searcher.searchTimed(mode, [query(q)]);
  const r: EndToEnd = { label, ndcg: 0, encode: [], search: [], total: [] };
  const run: Run = new Map();
  for (const q of test.queries) {
    const t = performance.now();
    const { results, timings } = await searcher.searchTimed(mode, [query(q)]);
    r.total.push(performance.now() - t);
    r.encode.push(timings.encodeMs);
    r.search.push(timings.searchMs);
    run.set(q.id, results[0].map((h) => ({ docId: h.docId, score: h.score })));
  }
  r.ndcg = ndcg10(run, test.qrels);
  log(`end to end, ${label}: nDCG@10 ${f4(r.ndcg)}, search ${f2(median(r.search))} ms (median)`);
  return r;
}
const rerank = (fuse: boolean, weight?: number) => ({ rerank: { method: 'colbert' as const, depth: DEPTH, fuse, weight } });
const e2e: EndToEnd[] = [
  await endToEnd('bm25', 'bm25'),
  await endToEnd(`colbert (PLAID candidates ${DEFAULT_COLBERT_CANDIDATES}, nprobe ${DEFAULT_NPROBE})`, 'colbert'),
  await endToEnd(`bm25 + rerank colbert:${DEPTH}`, 'bm25', rerank(false)),
  await endToEnd(`bm25 + rerank colbert:${DEPTH}, fused, weight ${DEFAULT_RERANK_WEIGHT} (default)`, 'bm25', rerank(true)),
];
const servingRssMB = process.resourceUsage().maxRSS / 1024;

// 3. BM25 top 100 and the query token vectors (the Searcher's own encoder) of test and training queries.
interface Candidates {
  id: string;
  tokens: TokenMatrix;
  first: Hit[];
}
const tokenEncoder = await searcher.tokenEncoder();
async function candidatesOf(queries: { id: string; text: string }[]): Promise<Candidates[]> {
  const hits = await searcher.searchHits('bm25', queries.map((q) => ({ id: q.id, text: q.text, k: DEPTH })));
  const tokens = await tokenEncoder.encodeQueryTokens(queries.map((q) => q.text));
  return queries.map((q, i) => ({ id: q.id, tokens: tokens[i], first: hits[i] }));
}
const testCands = await candidatesOf(test.queries);
const trainCands = await candidatesOf(train.queries);
const noResolve = async () => {};
async function rerankRun(cands: Candidates[], scores: Float32Array[], fuse: boolean, weight?: number): Promise<Run> {
  const run: Run = new Map();
  for (const [i, c] of cands.entries()) {
    const top = await rerankedTopK({ id: c.id, text: '', k: 10, ...rerank(fuse, weight) }, c.first, scores[i], noResolve);
    run.set(c.id, top.map((h) => ({ docId: h.docId, score: h.score })));
  }
  return run;
}
/** The fusion weight with the best nDCG@10 on the training queries (the first of equals). */
async function chooseWeight(scores: Float32Array[]): Promise<{ weight: number; trainNdcg: number }> {
  let best = { weight: WEIGHTS[0], trainNdcg: -1 };
  for (const w of WEIGHTS) {
    const n = ndcg10(await rerankRun(trainCands, scores, true, w), train.qrels);
    if (n > best.trainNdcg) best = { weight: w, trainNdcg: n };
  }
  return best;
}
const storeScores = (cands: Candidates[]) => cands.map((c) => store.maxSim(c.tokens, Uint32Array.from(c.first, (h) => h.ordinal)));
const indexWeight = await chooseWeight(storeScores(trainCands));
log(`fusion weight chosen on ${train.queries.length} training queries: ${indexWeight.weight} (train nDCG@10 ${f4(indexWeight.trainNdcg)})`);
e2e.push(await endToEnd(`bm25 + rerank colbert:${DEPTH}, fused, weight ${indexWeight.weight} (chosen on train)`, 'bm25', rerank(true, indexWeight.weight)));

// 4. Every passage's float token vectors, encoded here as `index build` does (padded batches of
// 16, 256 documents a call, 2 threads); kept in BENCH_WORK for later runs.
interface FloatTokens {
  offsets: Uint32Array;
  data: Float32Array;
  seconds: number;
}
async function writeLarge(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(`${path}.tmp`, 'w');
  try {
    for (let at = 0; at < bytes.length; at += 1 << 30) await fh.write(bytes, at, Math.min(1 << 30, bytes.length - at));
  } finally {
    await fh.close();
  }
  await rename(`${path}.tmp`, path);
}
async function readLarge(path: string, bytes: number): Promise<Uint8Array> {
  const buf = new Uint8Array(bytes);
  const fh = await open(path, 'r');
  try {
    for (let at = 0; at < bytes; ) {
      const { bytesRead } = await fh.read(buf, at, Math.min(1 << 30, bytes - at), at);
      if (bytesRead === 0) throw new Error(`${path}: ${at} of ${bytes} bytes`);
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return buf;
}
async function floatTokens(): Promise<FloatTokens> {
  const meta = join(work, 'colbert-float-tokens.json');
  const file = join(work, 'colbert-float-tokens.f32');
  const cached = await readFile(meta, 'utf8').then(JSON.parse, () => undefined);
  if (cached?.key === key) {
    log(`reusing the float token vectors in ${file}`);
    const offsets = Uint32Array.from(cached.offsets as number[]);
    const bytes = await readLarge(file, offsets[offsets.length - 1] * dim * 4);
    return { offsets, data: new Float32Array(bytes.buffer), seconds: cached.seconds };
  }
  log(`encoding ${corpus.length} passages' tokens in the bench process`);
  const encoder = await loadTokenEncoder(MODEL, { threads: 2, batching: 'padded', batchSize: 16, log });
  const t = performance.now();
  const parts: Float32Array[] = [];
  const counts: number[] = [];
  try {
    for (let i = 0; i < corpus.length; i += GROUP_DOCS) {
      for (const m of await encoder.encodeDocumentTokens(corpus.slice(i, i + GROUP_DOCS))) {
        parts.push(m.data.subarray(0, m.rows * m.dim));
        counts.push(m.rows);
      }
    }
  } finally {
    await encoder.dispose();
  }
  const seconds = (performance.now() - t) / 1000;
  const offsets = new Uint32Array(counts.length + 1);
  counts.forEach((n, i) => (offsets[i + 1] = offsets[i] + n));
  const data = new Float32Array(offsets[counts.length] * dim);
  parts.forEach((p, i) => data.set(p, offsets[i] * dim));
  if (process.env.BENCH_WORK) {
    await writeLarge(file, new Uint8Array(data.buffer));
    await writeFile(meta, JSON.stringify({ key, seconds, offsets: Array.from(offsets) }));
  }
  log(`encoded ${offsets[counts.length]} tokens in ${f1(seconds)} s`);
  return { offsets, data, seconds };
}
const floats = await floatTokens();
if (floats.offsets.length - 1 !== store.docs || floats.offsets[store.docs] !== store.tokens) {
  throw new Error(`the bench encoded ${floats.offsets[floats.offsets.length - 1]} tokens of ${floats.offsets.length - 1} passages, the index holds ${store.tokens} of ${store.docs}`);
}

// 5. Re-ranking BM25's top 100 by MaxSim over float tokens and over 1-, 2- and 4-bit ones. The
// index's own codec and stored codes are the 2-bit ones; 1 and 4 bits get codecs trained on the
// same sample (the build's: TRAIN_SIZE evenly spaced tokens) with the index's centroid count.
/** One query's candidates' tokens, concatenated, and where each passage's begin. */
function gather(first: Hit[], tokensOf: (ordinal: number) => Float32Array) {
  const offsets = new Uint32Array(first.length + 1);
  const parts = first.map((h) => tokensOf(h.ordinal));
  parts.forEach((p, i) => (offsets[i + 1] = offsets[i] + p.length / dim));
  const data = new Float32Array(offsets[first.length] * dim);
  parts.forEach((p, i) => data.set(p, offsets[i] * dim));
  return { data, offsets };
}
const queryData = (t: TokenMatrix) => t.data.subarray(0, t.rows * t.dim);
const floatOf = (o: number) => floats.data.subarray(floats.offsets[o] * dim, floats.offsets[o + 1] * dim);
const maxSimOver = (cands: Candidates[], tokensOf: (ordinal: number) => Float32Array) =>
  cands.map((c) => {
    const g = gather(c.first, tokensOf);
    return maxSim(queryData(c.tokens), dim, g.data, g.offsets);
  });
/** Decoded tokens of every passage under `codec` (encoded in slices: the codes are small, the floats are not). */
function compressedTokens(codec: ResidualCodec): (ordinal: number) => Float32Array {
  const codes = new Uint32Array(store.tokens);
  const residuals = new Uint8Array(store.tokens * codec.residualBytes);
  const step = 65_536;
  for (let t = 0; t < store.tokens; t += step) {
    const e = codec.encode(floats.data.subarray(t * dim, Math.min(store.tokens, t + step) * dim));
    codes.set(e.codes, t);
    residuals.set(e.residuals, t * codec.residualBytes);
  }
  const rb = codec.residualBytes;
  return (o) => codec.decode(codes.subarray(floats.offsets[o], floats.offsets[o + 1]), residuals.subarray(floats.offsets[o] * rb, floats.offsets[o + 1] * rb));
}

interface Variant {
  label: string;
  bytesPerToken: number;
  trainS: string;
  alone: number;
  fusedDefault: number;
  fused: number;
  weight: number;
}
async function variant(label: string, bytesPerToken: number, trainS: string, tokensOf: (ordinal: number) => Float32Array): Promise<Variant> {
  const chosen = await chooseWeight(maxSimOver(trainCands, tokensOf));
  const scores = maxSimOver(testCands, tokensOf);
  const v: Variant = {
    label,
    bytesPerToken,
    trainS,
    alone: ndcg10(await rerankRun(testCands, scores, false), test.qrels),
    fusedDefault: ndcg10(await rerankRun(testCands, scores, true), test.qrels),
    fused: ndcg10(await rerankRun(testCands, scores, true, chosen.weight), test.qrels),
    weight: chosen.weight,
  };
  log(`${label}: MaxSim re-rank nDCG@10 ${f4(v.alone)}, fused (w ${v.weight}) ${f4(v.fused)}`);
  return v;
}
const bm25Run: Run = new Map(testCands.map((c) => [c.id, c.first.slice(0, 10).map((h) => ({ docId: h.docId, score: h.score }))]));
const bm25Ndcg = ndcg10(bm25Run, test.qrels);
const variants: Variant[] = [await variant('float32 (uncompressed)', dim * 4, '-', floatOf)];
const sample = trainingSample(floats.data, dim, TRAIN_SIZE);
const sameSample = store.codec.training?.sample === sample.length / dim;
const codecs = new Map<number, { codec: ResidualCodec; seconds: number }>();
FaissIndex.setThreads(2); // k-means and encoding the corpus: not timed per query
for (const bits of [1, 4] as const) {
  const t = performance.now();
  const codec = await trainCodec(sample, dim, { bits, centroids: K, tokens: store.tokens });
  codecs.set(bits, { codec, seconds: (performance.now() - t) / 1000 });
  log(`${bits}-bit codec trained in ${f1(codecs.get(bits)!.seconds)} s`);
}
let centroidDiff = 0;
const c1 = codecs.get(1)!.codec.centroids;
for (let i = 0; i < c1.length; i++) centroidDiff = Math.max(centroidDiff, Math.abs(c1[i] - store.codec.centroids[i]));
variants.push(await variant('4-bit', codecs.get(4)!.codec.bytesPerToken, f1(codecs.get(4)!.seconds), compressedTokens(codecs.get(4)!.codec)));
variants.push(await variant('2-bit (the index: its codec, its stored codes)', store.bytesPerToken, '(in build)', (o) => store.tokensOf(o).data));
variants.push(await variant('1-bit', codecs.get(1)!.codec.bytesPerToken, f1(codecs.get(1)!.seconds), compressedTokens(codecs.get(1)!.codec)));
// The index's native decompress-and-score path against decode + maxSim, on the test candidates.
let pathDiff = 0;
const viaStore = storeScores(testCands);
maxSimOver(testCands, (o) => store.tokensOf(o).data).forEach((s, i) => s.forEach((x, j) => (pathDiff = Math.max(pathDiff, Math.abs(x - viaStore[i][j])))));

// 6. Re-rank speed: MaxSim of each test query against its BM25 top 100, one thread.
FaissIndex.setThreads(1);
const storeMs: number[] = [];
const floatMs: number[] = [];
const scoredTokens: number[] = [];
for (const c of testCands.slice(0, WARMUP)) store.maxSim(c.tokens, Uint32Array.from(c.first, (h) => h.ordinal));
for (const c of testCands) {
  const ordinals = Uint32Array.from(c.first, (h) => h.ordinal);
  const t = performance.now();
  store.maxSim(c.tokens, ordinals);
  storeMs.push(performance.now() - t);
  const g = gather(c.first, floatOf);
  const q = queryData(c.tokens);
  const t2 = performance.now();
  maxSim(q, dim, g.data, g.offsets);
  floatMs.push(performance.now() - t2);
  scoredTokens.push(g.offsets[c.first.length]);
}
await searcher.close();

// 7. Tables.
let storeBytes = 0;
for (const f of TOKEN_STORE_FILES) storeBytes += (await stat(join(shard.dir, f))).size;
const shardBytes = Object.values(shard.manifest.files).reduce((n, f) => n + f.bytes, 0);
const docs = store.docs;
const tokensPerDoc = store.tokens / docs;
const floatRef = variants[0].alone;
const limited = LIMIT !== undefined ? ` **Development run: only the first ${docs} documents are indexed (BENCH_COLBERT_LIMIT); queries are those with a relevant document among them.**` : '';
const model = JSON.parse(await readFile(join(indexDir, 'index.json'), 'utf8')).model as { id: string };
const avgQueryTokens = mean(testCands.map((c) => c.tokens.rows));
await writeResultTable('colbert.md', [
  `# ColBERT benchmark: late interaction on SciFact (${docs} docs, ${test.queries.length} of ${test.judged} test queries), model ${model.id}`,
  '',
  `${machineLine('faiss (Debian libfaiss-dev), onnxruntime-node CPU')}${limited}`,
  `Model: \`${MODEL}\` (${dim}-d token vectors; at most ${modelManifest.lateInteraction?.queryMaxTokens} query tokens, ${modelManifest.lateInteraction?.documentMaxTokens} document tokens). Index: \`edgesearch index build --corpus SCIFACT --model MODEL ${buildOptions.join(' ')} --out DIR\` (one shard), run as a child process.`,
  '',
  '## Index',
  '',
  'Build s and peak RSS: the whole `index build` process (encode every token, train the codec, write the token store, passages, BM25, checksums), measured with GNU time.',
  `Bytes/token: the codec's centroid id (4 B) + packed residual; "all files" adds the centroids (${K} × ${dim} float32), passage offsets and the centroid → passage lists (PLAID), over ${store.tokens} tokens.`,
  '',
  '| docs | tokens | tokens/passage | centroids | bits | build s | build peak RSS MB | bytes/token (codec) | bytes/token (all token-store files) | token store bytes/passage | float32 bytes/passage | whole shard bytes/passage |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  `| ${docs} | ${store.tokens} | ${f1(tokensPerDoc)} | ${K} | ${BITS} | ${f1(build.seconds)} | ${build.peakRssMB.toFixed(0)} | ${store.bytesPerToken} | ${f1(storeBytes / store.tokens)} | ${(storeBytes / docs).toFixed(0)} | ${(tokensPerDoc * dim * 4).toFixed(0)} | ${(shardBytes / docs).toFixed(0)} |`,
  '',
  '## Quality: BM25 top 100 re-ranked by MaxSim',
  '',
  `nDCG@10 on the ${test.queries.length} test queries. Candidates: BM25's top ${DEPTH} from the index (k1 0.9, b 0.4). Float tokens: every passage encoded in this process as \`index build\` encodes (${f1(floats.seconds)} s, 2 threads; reused from BENCH_WORK when kept). ` +
    `Compressed: tokens decoded (centroid + bucket weights, re-normalised) and scored with the same native MaxSim. 2 bits is the index's own codec and stored codes; 1 and 4 bits are codecs trained here on ${sameSample ? 'the same' : 'a'} sample of ${sample.length / dim} evenly spaced tokens${sameSample ? ' the build used' : ` (the build's codec saw ${store.codec.training?.sample})`}, with the index's ${K} centroids (k-means centroids equal the index's within ${centroidDiff.toExponential(1)}).`,
  `Fused: the engine's z-score fusion (rerankedTopK) of BM25 and MaxSim scores, weight w on MaxSim: the default ${DEFAULT_RERANK_WEIGHT}, and w chosen from ${WEIGHTS[0]}..${WEIGHTS.at(-1)} on the ${train.queries.length} training queries (their own BM25 top ${DEPTH}), never on test queries. The index's native decompress-and-score path (TokenStore.maxSim) agrees with decode + maxSim within ${pathDiff.toExponential(1)}.`,
  '',
  '| tokens | bytes/token | bytes/passage | codec train s | nDCG@10 MaxSim re-rank | % of float32 | nDCG@10 fused (w 0.5) | nDCG@10 fused (w chosen on train) |',
  '|---|---|---|---|---|---|---|---|',
  `| BM25 alone (no re-rank) | - | - | - | ${f4(bm25Ndcg)} | - | - | - |`,
  ...variants.map(
    (v) =>
      `| ${v.label} | ${v.bytesPerToken} | ${(v.bytesPerToken * tokensPerDoc).toFixed(0)} | ${v.trainS} | ${f4(v.alone)} | ${f1((100 * v.alone) / floatRef)} | ${f4(v.fusedDefault)} | ${f4(v.fused)} (w ${v.weight}) |`,
  ),
  '',
  '## MaxSim re-rank speed: 100 candidates per query, one thread',
  '',
  `Each test query (${f1(avgQueryTokens)} query tokens on average) against its BM25 top ${DEPTH} (${(mean(scoredTokens)).toFixed(0)} passage tokens on average), ${WARMUP} queries of warm-up first; faiss/OpenMP at 1 thread (OpenBLAS is single-threaded). Target (issue 14): ≤ 5 ms.`,
  '',
  '| tokens | how | ms/query median | p95 | mean |',
  '|---|---|---|---|---|',
  `| ${BITS}-bit (the index) | TokenStore.maxSim: decompress in C++ + sgemm | ${f2(median(storeMs))} | ${f2(quantile(storeMs, 0.95))} | ${f2(mean(storeMs))} |`,
  `| float32 | native maxSim over tokens gathered beforehand (gather not timed) | ${f2(median(floatMs))} | ${f2(quantile(floatMs, 0.95))} | ${f2(mean(floatMs))} |`,
  '',
  '## End to end through the Searcher, one query at a time',
  '',
  `\`Searcher.searchTimed\` per test query (k = 10; ${WARMUP} queries of warm-up), onnxruntime and faiss at 1 thread. Encode: the query's token vectors (0 for BM25); search: candidates, MaxSim, fusion and merge; total: the whole call (encode + search + reading the evidence passages).`,
  `Peak RSS of the bench process after loading the index and serving the first four rows (before it loads any float tokens): ${servingRssMB.toFixed(0)} MB.`,
  '',
  '| mode | nDCG@10 | encode ms median | search ms median | search p95 | total ms median | total p95 |',
  '|---|---|---|---|---|---|---|',
  ...e2e.map((r) => `| ${r.label} | ${f4(r.ndcg)} | ${f2(median(r.encode))} | ${f2(median(r.search))} | ${f2(quantile(r.search, 0.95))} | ${f2(median(r.total))} | ${f2(quantile(r.total, 0.95))} |`),
  '',
]);
if (!process.env.BENCH_WORK) await rm(work, { recursive: true, force: true });
