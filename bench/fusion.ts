// bench:fusion — which hybrid fusion to use when an index has not been tuned: every candidate
// `index tune` considers, scored untuned on each data set we have judgments for (SciFact's test
// queries; SQuAD v1.1 dev questions of articles 24-47 against all 2,067 paragraphs, the paragraph
// holding the answer being relevant), exact dense search with use-lite, nDCG@10: the candidate with
// the best mean over the data sets is what the README recommends untuned. Writes bench/results/fusion.md.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSquadQa } from '../gpu-pool/engine/corpus/qa.ts';
import { readQrels, type Qrels } from '../gpu-pool/engine/eval/index.ts';
import { describeFusion } from '../gpu-pool/engine/methods/hybrid/index.ts';
import { Searcher } from '../gpu-pool/engine/search/index.ts';
import { DEFAULT_FUSION, branchLists, fusionCandidates, scoreCandidates } from '../gpu-pool/engine/tune/index.ts';
import { SCIFACT_DIR, SQUAD_DEV, requireShared, scifactTestQueries } from '../test/fixtures.ts';
import { timedCli } from './child-cli.ts';
import { machineLine } from './machine.ts';
import { writeResultTable } from './result-table.ts';
import { SCIFACT_MODEL, encodeSciFactCorpus } from './scifact-encoding.ts';

const work = process.env.BENCH_WORK ?? (await mkdtemp(join(tmpdir(), 'es-bench-fusion-')));
const log = (m: string) => process.stderr.write(`[bench:fusion] ${m}\n`);
requireShared(SCIFACT_DIR);
requireShared(SQUAD_DEV);
await mkdir(work, { recursive: true });
const SQUAD = join(SQUAD_DEV, 'dev-v1.1.json');
const candidates = fusionCandidates();

interface DataSet {
  name: string;
  index: string;
  queries: { id: string; text: string }[];
  qrels: Qrels;
}

const { sliceDir } = await encodeSciFactCorpus(work, log);
const scifactIndex = join(work, 'fusion-scifact-flat');
if (!existsSync(join(scifactIndex, 'index.json'))) timedCli(['index', 'merge', sliceDir, '--out', scifactIndex, '--factory', 'Flat', '--bm25']);
const squadIndex = join(work, 'fusion-squad-flat');
if (!existsSync(join(squadIndex, 'index.json'))) {
  log('building the SQuAD paragraph index');
  timedCli(['index', 'build', '--corpus', SQUAD, '--format', 'squad', '--model', SCIFACT_MODEL, '--factory', 'Flat', '--bm25', '--out', squadIndex, '--threads', '2']);
}
const squadQuestions = (await readSquadQa(SQUAD)).filter((q) => q.article >= 24 && q.article <= 47);
const dataSets: DataSet[] = [
  { name: 'SciFact (300 test queries)', index: scifactIndex, queries: await scifactTestQueries(), qrels: await readQrels(join(SCIFACT_DIR, 'qrels', 'test.tsv')) },
  {
    name: `SQuAD dev paragraphs (${squadQuestions.length} questions, articles 24-47)`,
    index: squadIndex,
    queries: squadQuestions.map((q) => ({ id: q.id, text: q.question })),
    qrels: new Map(squadQuestions.map((q) => [q.id, new Map([[q.docId, 1]])])),
  },
];

// means[d][c]: data set d, candidate c.
const means: number[][] = [];
for (const ds of dataSets) {
  log(`${ds.name}: searching both branches`);
  const searcher = await Searcher.open(ds.index, { threads: 2 });
  const judged = ds.queries.filter((q) => ds.qrels.has(q.id));
  const lists = await branchLists(searcher, judged, 64, () => undefined);
  await searcher.close();
  const score = scoreCandidates(lists, ds.qrels, 'ndcg@10', candidates);
  means.push(score.map((perQuery) => perQuery.reduce((a, x) => a + x, 0) / perQuery.length));
}

const overall = candidates.map((_, c) => means.reduce((a, m) => a + m[c], 0) / means.length);
const order = candidates.map((_, c) => c).sort((a, b) => overall[b] - overall[a]);
const best = order[0];
const defaultIndex = candidates.findIndex((c) => describeFusion(c) === describeFusion(DEFAULT_FUSION));
const row = (c: number, note = '') => `| ${describeFusion(candidates[c])}${note} | ${means.map((m) => m[c].toFixed(4)).join(' | ')} | ${overall[c].toFixed(4)} |`;
const lines = [
  '# Hybrid fusion without tuning: every candidate on every data set',
  '',
  `${machineLine('faiss 1.7.3, onnxruntime-node CPU')} use-lite, exact dense search (Flat) and BM25 (k1 0.9, b 0.4), each branch to depth 100, nDCG@10.`,
  `Candidates: the ${candidates.length} \`index tune\` considers. Data sets: ${dataSets.map((d) => d.name).join('; ')}.`,
  '',
  `Best mean: **${describeFusion(candidates[best])}** (${overall[best].toFixed(4)}); the built-in default ${describeFusion(DEFAULT_FUSION)} scores ${overall[defaultIndex].toFixed(4)} (rank ${order.indexOf(defaultIndex) + 1} of ${candidates.length}).`,
  '',
  `| fusion | ${dataSets.map((d) => d.name).join(' | ')} | mean |`,
  `|---|${dataSets.map(() => '---|').join('')}---|`,
  ...order.slice(0, 12).map((c) => row(c, c === defaultIndex ? ' (built-in default)' : '')),
  ...(order.indexOf(defaultIndex) >= 12 ? [row(defaultIndex, ' (built-in default)')] : []),
  ...[1, 2].filter((c) => order.indexOf(c) >= 12).map((c) => row(c)),
  '',
];
await writeResultTable('fusion.md', lines);
if (!process.env.BENCH_WORK) await rm(work, { recursive: true, force: true });
