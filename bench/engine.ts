// bench:engine — SciFact with use-lite: build Flat, IVF-PQ, OPQ+IVF-PQ, HNSW-PQ and BM25,
// evaluate on the 300 test queries, write bench/results/engine.md.
// Encoding is done once (the CLI build of the exact index) and reused for the other factory keys.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AVX2_ADDON_PATH, type FaissBuild } from '../gpu-pool/engine/index/native.ts';
import { REPO_ROOT, SCIFACT_DIR, requireShared } from '../test/fixtures.ts';
import { timedCli } from './child-cli.ts';
import { machineLine } from './machine.ts';
import { writeResultTable } from './result-table.ts';
import { encodeSciFactCorpus, encodeSciFactQueries } from './scifact-encoding.ts';

const QRELS = join(SCIFACT_DIR, 'qrels', 'test.tsv');
const work = process.env.BENCH_WORK ?? (await mkdtemp(join(tmpdir(), 'es-bench-')));
requireShared(SCIFACT_DIR);

const timed = (args: string[]) => timedCli(args);

async function dirBytes(dir: string, pattern: RegExp): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && pattern.test(entry.name)) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

interface Row {
  index: string;
  faiss: FaissBuild | '-';
  factory: string;
  params: string;
  bytesPerVector: number | string;
  buildS: number | string;
  ndcg10: number;
  recall100: number;
  batchedMs: number;
  singleMs: number;
  encodeMs: number | string;
  peakRssMB: number;
}

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
await mkdir(work, { recursive: true });

// 1. Encode the corpus once (an encode-only slice 0/1); every index below is assembled from it
// with `index merge`, so build time = this encode time + that index's assemble time, which is
// exactly what `index build` does in one go.
const { sliceDir, run: encodeRun } = await encodeSciFactCorpus(work, log);
const flatDir = join(work, 'flat');
await rm(flatDir, { recursive: true, force: true });
const flatBuild = timed(['index', 'merge', sliceDir, '--out', flatDir, '--factory', 'Flat', '--bm25']);
log(`Flat + BM25 assembled in ${flatBuild.seconds.toFixed(1)}s`);

// 2. Query vectors, encoded once; encode time per query batched and one at a time.
const { queriesFile, vectorsFile, batchedMs: encodeBatchedMs, singleMs: encodeSingleMs } = await encodeSciFactQueries(work);

interface SearchFigures {
  ndcg10: number;
  recall100: number;
  batchedMs: number;
  singleMs: number;
  peakRssMB: number;
}

function searchBench(dir: string, mode: string, params: object, faiss: FaissBuild = 'debian', runOut?: string): SearchFigures {
  const args = [join(REPO_ROOT, 'bench', 'engine-search.ts'), dir, mode, JSON.stringify(params), queriesFile, vectorsFile, QRELS, ...(runOut ? [runOut] : [])];
  const out = execFileSync(process.execPath, ['--import', 'tsx', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
    env: { ...process.env, EDGESEARCH_FAISS: faiss },
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as SearchFigures;
}

// Dense searches run under every faiss build this machine has (scripts/build-faiss makes the
// AVX2 one), on the same index files and query vectors. Their float kernels round differently,
// so scores agree within TIE_TOLERANCE and two documents that close may trade places; anything
// else is a real difference.
const TIE_TOLERANCE = 1e-4;
const builds: FaissBuild[] = existsSync(AVX2_ADDON_PATH) ? ['debian', 'avx2'] : ['debian'];
interface BuildComparison { label: string; identical: number; nearTieSwaps: number; different: number; maxScoreDiff: number }
const comparisons: BuildComparison[] = [];
type RankedRun = [string, number][][];
function compareRuns(label: string, a: RankedRun, b: RankedRun): BuildComparison {
  const c: BuildComparison = { label, identical: 0, nearTieSwaps: 0, different: 0, maxScoreDiff: 0 };
  a.forEach((listA, q) => {
    const listB = b[q];
    const scoreA = new Map(listA);
    let sameIds = listA.length === listB.length;
    let onlyTies = sameIds;
    listB.forEach(([id, score], i) => {
      if (listA[i]?.[0] !== id) sameIds = false;
      const other = scoreA.get(id);
      if (other !== undefined) c.maxScoreDiff = Math.max(c.maxScoreDiff, Math.abs(other - score));
      // rank by rank, the two documents (the same one, or two that traded places) score alike
      if (!listA[i] || Math.abs(listA[i][1] - score) > TIE_TOLERANCE) onlyTies = false;
    });
    if (sameIds) c.identical++;
    else if (onlyTies) c.nearTieSwaps++;
    else c.different++;
  });
  return c;
}
async function denseUnderEveryBuild(dir: string, params: object, label: string): Promise<(SearchFigures & { faiss: FaissBuild })[]> {
  const runs = builds.map((faiss) => join(work, `run-${faiss}.json`));
  const figures = builds.map((faiss, i) => ({ ...searchBench(dir, 'dense', params, faiss, runs[i]), faiss }));
  if (builds.length > 1) comparisons.push(compareRuns(label, JSON.parse(await readFile(runs[0], 'utf8')), JSON.parse(await readFile(runs[1], 'utf8'))));
  return figures;
}

const rows: Row[] = [];
const vectors = JSON.parse(execFileSync('cat', [join(flatDir, 'index.json')], { encoding: 'utf8' })).counts.vectors as number;
const bytesPerVector = async (dir: string) => (await dirBytes(dir, /^index\.faiss$/)) / vectors;
const encodeCell = `${encodeBatchedMs.toFixed(2)} / ${encodeSingleMs.toFixed(2)}`;
for (const flat of await denseUnderEveryBuild(flatDir, {}, 'Flat')) {
  rows.push({ index: 'exact', factory: 'Flat', params: '', bytesPerVector: await bytesPerVector(flatDir), buildS: `${(encodeRun.seconds + flatBuild.seconds).toFixed(1)} (${flatBuild.seconds.toFixed(1)} + encode)`, ...flat, encodeMs: encodeCell });
}

// 3. Quantized indexes from the same encoded vectors.
const variants: { name: string; factory: string; sweeps: object[] }[] = [
  { name: 'IVF-PQ (16x)', factory: 'IVF256,PQ128np', sweeps: [{ nprobe: 16 }, { nprobe: 32 }, { nprobe: 64 }, { nprobe: 128 }] },
  { name: 'IVF-PQ (32x)', factory: 'IVF256,PQ64np', sweeps: [{ nprobe: 32 }] },
  { name: 'OPQ+IVF-PQ (16x)', factory: 'OPQ128,IVF256,PQ128np', sweeps: [{ nprobe: 32 }, { nprobe: 64 }] },
  { name: 'OPQ+IVF-PQ (32x)', factory: 'OPQ64,IVF256,PQ64np', sweeps: [{ nprobe: 16 }, { nprobe: 32 }] },
  { name: 'HNSW-PQ', factory: 'HNSW32_PQ128np', sweeps: [{ efSearch: 64 }, { efSearch: 256 }] },
  { name: 'IVF-PQ + refine', factory: 'IVF256,PQ128np,RFlat', sweeps: [{ nprobe: 64, refineFactor: 4 }] },
];
for (const v of variants) {
  const dir = join(work, v.factory.replace(/[^A-Za-z0-9]+/g, '_'));
  await rm(dir, { recursive: true, force: true });
  log(`assembling ${v.factory}`);
  const build = timed(['index', 'merge', sliceDir, '--out', dir, '--factory', v.factory]);
  for (const params of v.sweeps) {
    const paramsCell = Object.entries(params).map(([k, x]) => `${k}=${x}`).join(' ');
    for (const r of await denseUnderEveryBuild(dir, params, `${v.factory} ${paramsCell}`)) {
      rows.push({
        index: v.name,
        factory: v.factory,
        params: paramsCell,
        bytesPerVector: await bytesPerVector(dir),
        buildS: `${(build.seconds + encodeRun.seconds).toFixed(1)} (${build.seconds.toFixed(1)} + encode)`,
        ...r,
        encodeMs: encodeCell,
      });
    }
  }
}

// 4. BM25 and hybrid (on the exact index); no faiss kernels in BM25, so one build.
const bm25 = searchBench(flatDir, 'bm25', {});
rows.push({ index: 'BM25', faiss: '-', factory: '-', params: 'k1=0.9 b=0.4', bytesPerVector: '-', buildS: '(in Flat build)', ...bm25, encodeMs: '-' });
for (const weights of [{ dense: 1, bm25: 1 }, { dense: 0.5, bm25: 1 }, { dense: 1, bm25: 0.5 }]) {
  const r = searchBench(flatDir, 'hybrid', { weights });
  rows.push({ index: 'hybrid RRF', faiss: 'debian', factory: 'Flat + BM25', params: `rrfK=60 dense=${weights.dense} bm25=${weights.bm25}`, bytesPerVector: '-', buildS: '-', ...r, encodeMs: encodeCell });
}

const FAISS_BUILD_NAMES: Record<FaissBuild, string> = { debian: '1.7.3 (Debian libfaiss-dev, generic)', avx2: '1.7.3 (scripts/build-faiss, AVX2)' };
const exact = rows[0].ndcg10;
const fmt = (x: number | string, digits = 2) => (typeof x === 'number' ? x.toFixed(digits) : x);
const lines = [
  '# Engine benchmark: SciFact (5,183 docs, 300 test queries), model use-lite',
  '',
  `${machineLine(`faiss ${builds.map((b) => FAISS_BUILD_NAMES[b]).join(' and ')}, onnxruntime-node CPU`)} ${vectors} window vectors (120-token windows, stride 80, title prepended).`,
  `Encoding the corpus (\`index build --slice 0/1\`, 2 threads): ${encodeRun.seconds.toFixed(1)} s, peak RSS ${encodeRun.peakRssMB.toFixed(0)} MB. Build s = encode + assemble (\`index merge\`: train, add, passages, BM25, checksums).`,
  'Bytes/vector is the faiss file size over the vector count: PQ codes (128 B for PQ128, 16x smaller than 2,048 B of float32) plus the 8-byte id IVF stores per vector and, amortized over only 29k vectors, the centroids and the 1 MB OPQ rotation.',
  'OPQ keys train with 10 rotation/PQ alternations (`--opq-iterations`, faiss default 50). Dense search uses the engine defaults unless params say otherwise (nprobe = a quarter of the lists, efSearch 64).',
  `faiss column: the build the search process loaded (\`EDGESEARCH_FAISS\`); the index files and query vectors are the same. ${builds.length > 1 ? `Debian against AVX2, per search (300 queries each): identical rankings, rankings that differ only where two documents score within ${TIE_TOLERANCE} (the builds' float kernels round differently), and real differences: ${comparisons.map((c) => `${c.label} ${c.identical}/${c.nearTieSwaps}/${c.different}`).join('; ')}; largest score difference ${Math.max(...comparisons.map((c) => c.maxScoreDiff)).toExponential(2)}.` : 'Only the Debian build exists here (run scripts/build-faiss for the AVX2 one).'}`,
  'Search ms/query excludes encoding (vectors encoded beforehand); "batched" = 300 queries in one call, "single" = one call per query. Encode ms/query: batched / single. Peak RSS: the search process (load + search).',
  '',
  '| index | faiss | factory | params | bytes/vector | build s | nDCG@10 | % of exact | recall@100 | search ms/q batched | single | encode ms/q | peak RSS MB |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) =>
    `| ${r.index} | ${r.faiss} | ${r.factory} | ${r.params} | ${fmt(r.bytesPerVector, 1)} | ${fmt(r.buildS, 1)} | ${r.ndcg10.toFixed(4)} | ${((100 * r.ndcg10) / exact).toFixed(1)} | ${r.recall100.toFixed(4)} | ${r.batchedMs.toFixed(3)} | ${r.singleMs.toFixed(3)} | ${r.encodeMs} | ${r.peakRssMB.toFixed(0)} |`,
  ),
  '',
];
await writeResultTable('engine.md', lines);
for (const c of comparisons.filter((x) => x.different > 0)) log(`builds differ beyond near-ties: ${c.label}: ${c.different} queries`);
if (!process.env.BENCH_WORK) await rm(work, { recursive: true, force: true });
