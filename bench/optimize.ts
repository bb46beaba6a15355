// bench:optimize — target-embedding optimization (Tan et al., AAAI 2026) on SciFact with use-lite:
// for IVF-PQ and OPQ+IVF-PQ at two code sizes and HNSW-PQ, nDCG@10 and recall@100 on the 300 test
// queries for exact search, the quantized index before, and after `index optimize` on the 809
// training queries, with the straight-through quantized loss and with plain float targets.
// Writes bench/results/optimize.md.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, readQrels, readTrecRun, type Qrels } from '../gpu-pool/engine/eval/index.ts';
import { REPO_ROOT, SCIFACT_DIR, requireShared } from '../test/fixtures.ts';
import { timedCli } from './child-cli.ts';
import { machineLine } from './machine.ts';
import { writeResultTable } from './result-table.ts';

const MODEL = join(REPO_ROOT, 'models', 'use-lite');
const TRAIN_QUERIES = join(SCIFACT_DIR, 'queries.train.jsonl');
const TRAIN_QRELS = join(SCIFACT_DIR, 'qrels', 'train.tsv');
const TEST_QUERIES = join(SCIFACT_DIR, 'queries.test.jsonl');
const TEST_QRELS = join(SCIFACT_DIR, 'qrels', 'test.tsv');
const work = process.env.BENCH_WORK ?? (await mkdtemp(join(tmpdir(), 'es-bench-')));
requireShared(SCIFACT_DIR);
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
await mkdir(work, { recursive: true });

const VARIANTS = [
  { name: 'IVF-PQ (16x)', factory: 'IVF256,PQ128np', search: ['--nprobe', '32'] },
  { name: 'IVF-PQ (32x)', factory: 'IVF256,PQ64np', search: ['--nprobe', '32'] },
  { name: 'OPQ+IVF-PQ (16x)', factory: 'OPQ128,IVF256,PQ128np', search: ['--nprobe', '32'] },
  { name: 'OPQ+IVF-PQ (32x)', factory: 'OPQ64,IVF256,PQ64np', search: ['--nprobe', '32'] },
  { name: 'HNSW-PQ', factory: 'HNSW32_PQ128np', search: ['--ef', '64'] },
].filter((v) => !process.env.BENCH_ONLY || v.factory === process.env.BENCH_ONLY);

// 1. The corpus, encoded once (an encode-only slice); every index is assembled from it.
const sliceDir = join(work, 'slice');
if (!(await stat(join(sliceDir, 'slice.json')).catch(() => undefined))) {
  log('encoding SciFact (index build --slice 0/1)');
  timedCli(['index', 'build', '--corpus', SCIFACT_DIR, '--model', MODEL, '--slice', '0/1', '--out', sliceDir, '--threads', '2']);
} else log(`reusing the encoded corpus in ${sliceDir}`);

// Test queries whose relevant documents are also relevant to some training query: optimization
// moved those documents' targets towards similar claims. The rest only gain from moved negatives.
const testQrels = await readQrels(TEST_QRELS);
const trainDocs = new Set<string>();
for (const judged of (await readQrels(TRAIN_QRELS)).values()) for (const [doc, rel] of judged) if (rel > 0) trainDocs.add(doc);
const seen: Qrels = new Map();
const unseen: Qrels = new Map();
for (const [qid, judged] of testQrels) ([...judged].some(([doc, rel]) => rel > 0 && trainDocs.has(doc)) ? seen : unseen).set(qid, judged);

interface Scores {
  ndcg10: number;
  recall100: number;
  seenNdcg10: number;
  unseenNdcg10: number;
}

async function evalIndex(dir: string, search: string[]): Promise<Scores> {
  const runFile = join(work, 'run.trec');
  timedCli(['eval', '--index', dir, '--queries', TEST_QUERIES, '--qrels', TEST_QRELS, '--run', runFile, '--threads', '2', ...search]);
  const run = await readTrecRun(runFile);
  const all = evaluate(run, testQrels, ['ndcg@10', 'recall@100']).mean;
  return {
    ndcg10: all['ndcg@10'],
    recall100: all['recall@100'],
    seenNdcg10: evaluate(run, seen, ['ndcg@10']).mean['ndcg@10'],
    unseenNdcg10: evaluate(run, unseen, ['ndcg@10']).mean['ndcg@10'],
  };
}

async function build(factory: string): Promise<string> {
  const dir = join(work, `opt-${factory.replace(/,/g, '_')}`);
  if (!(await stat(join(dir, 'index.json')).catch(() => undefined))) {
    log(`assembling ${factory} (with --keep-vectors)`);
    timedCli(['index', 'merge', sliceDir, '--out', dir, '--factory', factory, '--keep-vectors', '--force']);
  } else log(`reusing ${dir}`);
  return dir;
}

interface Optimized {
  scores: Scores;
  seconds: number;
  peakRssMB: number;
  validation: { before: number; after: number; unseenBefore: number; unseenAfter: number; bestEpoch: number };
}

const SETTINGS = [
  { label: 'quantized loss (STE)', tag: 'ste', args: [] },
  { label: 'quantized loss (STE), no anchor', tag: 'ste-free', args: ['--anchor', '0'] },
  { label: 'float loss', tag: 'float', args: ['--no-quantization-aware'] },
];

async function optimize(dir: string, search: string[], setting: (typeof SETTINGS)[number]): Promise<Optimized> {
  const out = `${dir}-${setting.tag}`;
  log(`optimizing ${dir} (${setting.label})`);
  const run = timedCli(['index', 'optimize', '--index', dir, '--queries', TRAIN_QUERIES, '--qrels', TRAIN_QRELS, '--out', out, '--force', '--threads', '2', ...setting.args]);
  const record = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')).optimization;
  return { scores: await evalIndex(out, search), seconds: run.seconds, peakRssMB: run.peakRssMB, validation: record.validation };
}

const f4 = (x: number) => x.toFixed(4);
const flat = await build('Flat');
const exact = await evalIndex(flat, []);
log(`exact: nDCG@10 ${f4(exact.ndcg10)}`);
const rows: string[] = [];
rows.push(`| exact | Flat | - | ${f4(exact.ndcg10)} | ${f4(exact.recall100)} | ${f4(exact.seenNdcg10)} / ${f4(exact.unseenNdcg10)} | - | - | - | - |`);
for (const v of VARIANTS) {
  const dir = await build(v.factory);
  const before = await evalIndex(dir, v.search);
  rows.push(`| ${v.name} | ${v.factory} | before | ${f4(before.ndcg10)} | ${f4(before.recall100)} | ${f4(before.seenNdcg10)} / ${f4(before.unseenNdcg10)} | - | - | - | - |`);
  for (const setting of SETTINGS) {
    const o = await optimize(dir, v.search, setting);
    const val = o.validation;
    log(`${v.factory} ${setting.tag}: nDCG@10 ${f4(before.ndcg10)} → ${f4(o.scores.ndcg10)} in ${o.seconds.toFixed(0)}s`);
    rows.push(
      `| ${v.name} | ${v.factory} | after, ${setting.label} | ${f4(o.scores.ndcg10)} | ${f4(o.scores.recall100)} | ${f4(o.scores.seenNdcg10)} / ${f4(o.scores.unseenNdcg10)} | ${f4(val.before)} → ${f4(val.after)} (other: ${f4(val.unseenBefore)} → ${f4(val.unseenAfter)}), epoch ${val.bestEpoch} | ${o.seconds.toFixed(1)} | ${o.peakRssMB.toFixed(0)} | ${v.search.join(' ').replace('--', '')} |`,
    );
  }
  await writeFile(join(work, 'optimize-rows.md'), rows.join('\n'));
}

await writeResultTable('optimize.md', [
  '# Optimization benchmark: target embeddings of quantized indexes (SciFact, use-lite)',
  '',
  `${machineLine('faiss (Debian libfaiss-dev), onnxruntime-node CPU')} 29441 window vectors (120-token windows, stride 80), 512-d.`,
  'Optimized on the 809 SciFact training queries (10% held out for early stopping: validation nDCG@10 before → after, best epoch), evaluated on the 300 test queries, never seen in optimization.',
  `Defaults of \`edgesearch index optimize\`: 10 epochs, lr 0.001, 500 negatives per query mined each epoch from the current quantized index (a quarter from the neighbours of the query's relevant documents), temperature 0.05, batch 32, patience 3, targets kept at their norm, anchor 0.003 (pull back to the encoder's vector; "no anchor" = --anchor 0), 2 step threads.`,
  `Test queries split by whether one of their relevant documents is also relevant to a training query (seen: ${seen.size}, unseen: ${unseen.size}); SciFact's train and test claims share many cited abstracts. Validation "other" is the same split of the validation queries, known to \`index optimize\` from the training data alone.`,
  'Time and peak RSS: the whole `index optimize` process (load, encode the training queries, train, re-encode, publish).',
  '',
  '| index | factory | targets | nDCG@10 | recall@100 | nDCG@10 seen / unseen | validation nDCG@10 before → after | optimize s | peak RSS MB | search |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
]);
await rm(join(work, 'run.trec'), { force: true });
// A work directory the caller did not name is temporary.
if (!process.env.BENCH_WORK) await rm(work, { recursive: true, force: true });
