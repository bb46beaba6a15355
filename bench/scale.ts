// bench:scale — how build time, size, memory and search time grow with the corpus: 100k, 1M and
// 10M vectors of the synthetic corpus bench/scale/synthetic.ts grows from SciFact's window
// vectors, in IVF-PQ, OPQ+IVF-PQ and HNSW-PQ, searched by 100 real SciFact test queries, recall@10
// against exact search over the same rows. Writes bench/results/scale.md.
//   BENCH_SCALE_SIZES=100000,1000000   which sizes (default 100k, 1M, 10M)
//   BENCH_SCALE_ONLY=ivfpq,opq         which index kinds (default all)
//   BENCH_WORK                          keeps the work directory (exact top 10s are reused)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, SCIFACT_DIR, requireShared } from '../test/fixtures.ts';
import { machineLine } from './machine.ts';
import { writeResultTable } from './result-table.ts';
import { SIGMA } from './scale/synthetic.ts';
import { encodeSciFactCorpus, encodeSciFactQueries } from './scifact-encoding.ts';

const SIZES = (process.env.BENCH_SCALE_SIZES ?? '100000,1000000,10000000').split(',').map(Number);
const ONLY = process.env.BENCH_SCALE_ONLY?.split(',');
const TARGET_RECALL = Number(process.env.BENCH_SCALE_RECALL ?? 0.7);
const NQ = 100;
const work = process.env.BENCH_WORK ?? (await mkdtemp(join(tmpdir(), 'es-bench-scale-')));
const log = (m: string) => process.stderr.write(`[bench:scale] ${m}\n`);
requireShared(SCIFACT_DIR);
await mkdir(work, { recursive: true });

// IVF lists grow with the corpus (about 4 sqrt(N), capped at 4,096: assigning 10M vectors to
// 16k lists would take this machine an hour); training uses up to 39 rows per list.
const nlistFor = (size: number) => (size <= 100_000 ? 1024 : 4096);
interface Kind {
  slug: string;
  name: string;
  factory: (size: number) => string;
  train: (size: number) => number;
  sweeps: { nprobe?: number; efSearch?: number }[];
  /** Largest size this kind is built at here (BENCH_SCALE_MAX_<SLUG> overrides); beyond, the table gives the time the measured rate predicts. */
  maxSize?: number;
}
const KINDS: Kind[] = ([
  { slug: 'ivfpq', name: 'IVF-PQ', factory: (n) => `IVF${nlistFor(n)},PQ128np`, train: (n) => 39 * nlistFor(n), sweeps: [4, 8, 16, 32, 64, 128, 256].map((nprobe) => ({ nprobe })) },
  { slug: 'opq', name: 'OPQ+IVF-PQ', factory: (n) => `OPQ128,IVF${nlistFor(n)},PQ128np`, train: (n) => 39 * nlistFor(n), sweeps: [4, 8, 16, 32, 64, 128, 256].map((nprobe) => ({ nprobe })), maxSize: 1_000_000 },
  {
    slug: 'hnswpq',
    name: 'HNSW-PQ',
    factory: () => 'HNSW32_PQ128np',
    train: () => 65_536,
    sweeps: [16, 32, 64, 128, 256].map((efSearch) => ({ efSearch })),
    maxSize: 100_000,
  },
] satisfies Kind[]).filter((k) => !ONLY || ONLY.includes(k.slug));

// 1. Inputs: the parents (SciFact window vectors) and 100 query vectors.
const dir = join(work, 'scale');
await mkdir(dir, { recursive: true });
const { sliceDir } = await encodeSciFactCorpus(work, log);
const { vectorsFile } = await encodeSciFactQueries(work);
const slice = JSON.parse(await readFile(join(sliceDir, 'slice.json'), 'utf8')) as { windows: number; model: { dimension: number } };
const d = slice.model.dimension;
await rm(join(dir, 'parents.f32'), { force: true });
await symlink(join(sliceDir, 'vectors.f32'), join(dir, 'parents.f32'));
await writeFile(join(dir, 'queries.f32'), (await readFile(vectorsFile)).subarray(0, NQ * d * 4));
await writeFile(join(dir, 'meta.json'), JSON.stringify({ d, nq: NQ }));

function child(script: string, args: string[]): { out: object[]; peakRssMB: number; seconds: number } {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'PEAKRSS %M', process.execPath, '--import', 'tsx', join(REPO_ROOT, 'bench', 'scale', script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 26,
    cwd: REPO_ROOT,
  });
  process.stderr.write(r.stderr.replace(/^PEAKRSS.*\n?/m, ''));
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  return {
    out: r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as object),
    peakRssMB: Number(/PEAKRSS (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024,
    seconds: (performance.now() - t) / 1000,
  };
}

// 2. Exact top 10 for every size, in one streaming pass (reused when BENCH_WORK is kept).
const missing = SIZES.filter((s) => !existsSync(join(dir, `exact-${s}.json`)));
if (missing.length > 0) {
  log(`exact top 10 over ${missing.join(', ')} rows`);
  const r = child('exact.ts', [dir, missing.join(',')]);
  log(`exact search done in ${r.seconds.toFixed(0)}s`);
}

// 3. Build and search every kind at every size.
interface Row {
  size: number;
  kind: string;
  factory: string;
  trainRows: number;
  buildS: number;
  genS: number;
  buildPeakMB: number;
  bytesPerVector: number;
  residentPerVector: number;
  sweeps: { sweep: object; recall10: number; batchedMs: number; singleMs: number }[];
}
const rows: Row[] = [];
const skipped: string[] = [];
for (const size of SIZES) {
  for (const kind of KINDS) {
    const max = Number(process.env[`BENCH_SCALE_MAX_${kind.slug.toUpperCase()}`] ?? kind.maxSize ?? Infinity);
    if (size > max) {
      const last = rows.filter((r) => r.kind === kind.name).at(-1);
      const predicted = last ? ` (at the ${((1000 * last.buildS) / last.size).toFixed(2)} ms per vector measured at ${last.size.toLocaleString('en')}, about ${((last.buildS * size) / last.size / 60).toFixed(0)} minutes)` : '';
      skipped.push(`${kind.name} at ${size.toLocaleString('en')}${predicted}`);
      continue;
    }
    const factory = kind.factory(size);
    log(`${size} rows, ${factory}: building`);
    const b = child('build.ts', [dir, String(size), factory, kind.slug, String(kind.train(size))]);
    const built = b.out[0] as { trainS: number; addS: number; genS: number; bytesOnDisk: number; trainRows: number };
    log(`built in ${(built.trainS + built.addS).toFixed(0)}s (+${built.genS.toFixed(0)}s generating rows), peak RSS ${b.peakRssMB.toFixed(0)} MB`);
    const s = child('search.ts', [dir, String(size), kind.slug, JSON.stringify(kind.sweeps)]);
    const sweeps = s.out as { sweep: object; recall10: number; batchedMs: number; singleMs: number; residentBytes: number }[];
    rows.push({
      size,
      kind: kind.name,
      factory,
      trainRows: built.trainRows,
      buildS: built.trainS + built.addS,
      genS: built.genS,
      buildPeakMB: b.peakRssMB,
      bytesPerVector: built.bytesOnDisk / size,
      residentPerVector: sweeps[0].residentBytes / size,
      sweeps,
    });
    await rm(join(dir, `index-${size}-${kind.slug}.faiss`), { force: true });
  }
}

// 4. Tables.
const f = (x: number, digits = 2) => x.toFixed(digits);
const sweepCell = (s: object) => Object.entries(s).map(([k, v]) => `${k}=${v}`).join(' ');
const atTarget = (r: Row) => r.sweeps.find((s) => s.recall10 >= TARGET_RECALL);
const lines = [
  '# Scale benchmark: 100k to 10M vectors, IVF-PQ / OPQ+IVF-PQ / HNSW-PQ',
  '',
  `${machineLine('faiss 1.7.3 through our binding')}`,
  `Data: a synthetic corpus grown from SciFact's ${slice.windows.toLocaleString('en')} use-lite window vectors (${d} dims): row i is window (i mod ${slice.windows}) plus Gaussian noise of relative norm ${SIGMA}, re-normalised (cosine about 0.89 to its parent). Neighbourhoods keep the real vectors' layout, but every real vector becomes a cloud of near-copies, so at 10M each query's exact top 10 is mostly copies of a few windows: recall here is harder than on a real corpus of that size, not easier.`,
  `Queries: the first ${NQ} SciFact test queries (real). Recall@10 against exact search (faiss Flat) over the same rows. Build s = train + add, on 2 threads, not counting the time to generate rows; training on an evenly spaced sample of the size shown. Search on 2 threads; "batched" = ${NQ} queries in one call, "single" = one call per query. Resident = process RSS growth from loading the index file.`,
  '',
  `## At recall@10 ≥ ${TARGET_RECALL}: the cheapest setting that reaches it`,
  '',
  '| vectors | index | factory | build s | build peak RSS MB | bytes/vector on disk | resident bytes/vector | setting | recall@10 | batched ms/q | single ms/q |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => {
    const t = atTarget(r);
    return `| ${r.size.toLocaleString('en')} | ${r.kind} | ${r.factory} | ${f(r.buildS, 0)} | ${f(r.buildPeakMB, 0)} | ${f(r.bytesPerVector, 1)} | ${f(r.residentPerVector, 1)} | ${t ? sweepCell(t.sweep) : `not reached (best ${f(Math.max(...r.sweeps.map((s) => s.recall10)), 3)})`} | ${t ? f(t.recall10, 3) : '-'} | ${t ? f(t.batchedMs, 3) : '-'} | ${t ? f(t.singleMs, 3) : '-'} |`;
  }),
  '',
  ...(skipped.length ? ['Not built in this run, to keep it under an hour on 2 cores: ' + skipped.join('; ') + '.', ''] : []),
  '## Every setting',
  '',
  '| vectors | index | setting | recall@10 | batched ms/q | single ms/q |',
  '|---|---|---|---|---|---|',
  ...rows.flatMap((r) => r.sweeps.map((s) => `| ${r.size.toLocaleString('en')} | ${r.kind} | ${sweepCell(s.sweep)} | ${f(s.recall10, 3)} | ${f(s.batchedMs, 3)} | ${f(s.singleMs, 3)} |`)),
  '',
  `Rows were generated in ${rows.map((r) => `${f(r.genS, 0)} s`).join(', ')} (same order as the table), outside the build times.`,
  '',
];
await writeResultTable('scale.md', lines);
if (!process.env.BENCH_WORK) await rm(work, { recursive: true, force: true });
