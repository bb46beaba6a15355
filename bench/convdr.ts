// bench:convdr — conversational dense retrieval (ConvDR) on TREC CAsT-19's 50 evaluation topics
// (479 turns) with their manual rewrites: `convdr train` with five folds by topic (teacher and
// rewrite agreement, held out), then `eval --conversations` with the final model. Rewrite agreement
// needs an index: CAsT's passage collection is not here, so the index is SciFact's corpus plus the
// SQuAD v1.1 dev paragraphs (CAsT-19's medical topics overlap SciFact), written into one BEIR
// corpus in the work directory. Every step runs the CLI as a child process (wall time, peak RSS).
// Writes bench/results/convdr.md. BENCH_WORK keeps the corpus, the index and the model between runs.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCorpus } from '../gpu-pool/engine/corpus/index.ts';
import { REPO_ROOT, SCIFACT_DIR, SHARED_DIR as SHARED, SQUAD_DEV, requireShared } from '../test/fixtures.ts';
import { timedCli, type TimedRun } from './child-cli.ts';
import { machineLine } from './machine.ts';
import { writeResultTable } from './result-table.ts';

const CAST = join(SHARED, 'data', 'trec-cast-2019');
const TOPICS = join(requireShared(CAST), 'evaluation_topics_v1.0.json');
const REWRITES = join(CAST, 'evaluation_topics_annotated_resolved_v1.0.tsv');
const QRELS = join(CAST, '2019qrels.txt');
const MODEL = join(REPO_ROOT, 'models', 'use-lite');
const work = process.env.BENCH_WORK ?? (await mkdtemp(join(tmpdir(), 'es-bench-convdr-')));
const log = (m: string) => process.stderr.write(`[bench:convdr] ${m}\n`);
await mkdir(work, { recursive: true });

type Figures = Record<string, number>;
type Agreement = Figures & { turns: number };
type Summary = Agreement & { byDepth: Record<string, Agreement>; perFold: (Agreement & { fold: number })[] };
interface TrainLine {
  teacherAgreement: Summary;
  rewriteAgreement: Summary & { bm25: Summary };
  folds: { fold: number; turns: number; init: string; weightDecay: number; epochs: number }[];
  final: { init: string; weightDecay: number; epochs: number };
  rankingLoss: { used: boolean; reason?: string };
}

const lastJson = <T>(run: TimedRun): T => JSON.parse(run.stdout.trim().split('\n').at(-1)!) as T;
const f4 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(4));
const rel = (p: string) => p.replaceAll(`${REPO_ROOT}/`, '').replaceAll(`${work}/`, 'W/').replaceAll(`${SHARED}/`, '../shared/');
const cmd = (args: string[]) => `npx edgesearch ${args.map(rel).join(' ')}`;

// 1. The rewrite-agreement corpus and its index (dense Flat + BM25).
const corpus = join(work, 'cast-corpus', 'corpus.jsonl');
if (!existsSync(corpus)) {
  log('writing SciFact + SQuAD v1.1 dev paragraphs into one BEIR corpus');
  const lines: string[] = [];
  for await (const d of readCorpus(join(requireShared(SCIFACT_DIR)), 'beir')) lines.push(JSON.stringify({ _id: `scifact:${d.id}`, title: d.title, text: d.text }));
  for await (const d of readCorpus(join(requireShared(SQUAD_DEV), 'dev-v1.1.json'), 'squad')) lines.push(JSON.stringify({ _id: `squad:${d.id}`, title: d.title.replace(/_/g, ' '), text: d.text }));
  await mkdir(join(work, 'cast-corpus'), { recursive: true });
  await writeFile(corpus, `${lines.join('\n')}\n`);
}
const index = join(work, 'cast-index');
const buildArgs = ['index', 'build', '--corpus', corpus, '--format', 'beir', '--model', MODEL, '--out', index, '--bm25', '--threads', '2'];
let build: TimedRun | undefined;
if (!existsSync(join(index, 'index.json'))) {
  log('building the index (use-lite, Flat + BM25)');
  build = timedCli(buildArgs);
}

// 2. Five folds by topic, teacher and rewrite agreement held out, the final model.
// --qrels: CAsT's judged passages are not in this index, so the ranking loss finds no data (the command says so).
const trainArgs = ['convdr', 'train', '--topics', TOPICS, '--rewrites', REWRITES, '--folds', '5', '--model', MODEL, '--out', join(work, 'convdr'), '--force', '--json', '--index', index, '--qrels', QRELS];
log('convdr train (5 folds by topic, with --index)');
const train = timedCli(trainArgs);
const t = lastJson<TrainLine>(train);

// 3. eval --conversations with the final model (trained on these topics: not held out).
const evalArgs = ['eval', '--index', index, '--conversations', TOPICS, '--rewrites', REWRITES, '--qrels', QRELS, '--model', join(work, 'convdr'), '--run', join(work, 'cast-runs'), '--json'];
log('eval --conversations with the final model');
const evaluated = timedCli(evalArgs);
const e = lastJson<{ teacherAgreement: Summary; rewriteAgreement: { dense: Summary; bm25?: Summary }; qrelsMatch?: boolean; note?: string }>(evaluated);

const SYSTEMS = ['raw', 'concat', 'first', 'student'];
const row = (label: string, a: Figures | undefined, systems = SYSTEMS) => `| ${label} | ${systems.map((s) => f4(a?.[s])).join(' | ')} | ${a?.turns ?? '—'} |`;
const depthRows = (s: Summary, systems = SYSTEMS) => ['1', '2', '3+'].map((d) => row(`turn ${d}`, s.byDepth[d], systems));
const lines = [
  '# bench:convdr',
  '',
  `TREC CAsT-19 evaluation topics (50 topics, 479 turns) with the manual rewrites; base encoder use-lite (the teacher, frozen); the student reads the views raw, first and concat through a linear adapter. ${machineLine()}`,
  '',
  `Command: \`npm run bench:convdr\` (\`BENCH_WORK\` keeps the corpus, index and model). It runs:`,
  '',
  '```sh',
  ...(build ? [`${cmd(buildArgs)}   # ${build.seconds.toFixed(0)} s, peak ${build.peakRssMB.toFixed(0)} MB`] : [`${cmd(buildArgs)}   # (kept from an earlier run)`]),
  `${cmd(trainArgs)}   # ${train.seconds.toFixed(0)} s, peak ${train.peakRssMB.toFixed(0)} MB`,
  `${cmd(evalArgs)}   # ${evaluated.seconds.toFixed(0)} s, peak ${evaluated.peakRssMB.toFixed(0)} MB`,
  '```',
  '',
  'W/cast-corpus/corpus.jsonl: SciFact\'s corpus and the SQuAD v1.1 dev paragraphs (7,250 documents, ids `scifact:<id>` and `squad:<article>_<paragraph>`), the index for rewrite agreement (CAsT\'s passage collection is not available here).',
  '',
  `Ranking loss: ${t.rankingLoss.used ? 'used' : `not used (${rel(t.rankingLoss.reason ?? 'no ranking data')})`}.`,
  '',
  '## Teacher agreement, held out (five folds by topic)',
  '',
  'Mean cosine between each system\'s query vector and the teacher\'s vector of the manual rewrite. `start`: the untrained adapter each fold started from (chosen on the inner validation split).',
  '',
  '| turns | raw | concat | first | student | start | n |',
  '|---|---:|---:|---:|---:|---:|---:|',
  row('all', t.teacherAgreement, [...SYSTEMS, 'start']),
  ...depthRows(t.teacherAgreement, [...SYSTEMS, 'start']),
  ...t.teacherAgreement.perFold.map((f) => row(`fold ${f.fold}`, f, [...SYSTEMS, 'start'])),
  '',
  '## Rewrite agreement, held out',
  '',
  'nDCG@10 of each system\'s ranking against the manual rewrite\'s top 10 on the same index (dense against dense, BM25 against BM25).',
  '',
  '| dense | raw | concat | first | student | n |',
  '|---|---:|---:|---:|---:|---:|',
  row('all', t.rewriteAgreement),
  ...depthRows(t.rewriteAgreement),
  ...t.rewriteAgreement.perFold.map((f) => row(`fold ${f.fold}`, f)),
  '',
  '| BM25 | raw | concat | first | n |',
  '|---|---:|---:|---:|---:|',
  row('all', t.rewriteAgreement.bm25, SYSTEMS.slice(0, 3)),
  ...depthRows(t.rewriteAgreement.bm25, SYSTEMS.slice(0, 3)),
  '',
  '## Folds',
  '',
  '| fold | turns | start | weight decay | epochs |',
  '|---:|---:|---|---:|---:|',
  ...t.folds.map((f) => `| ${f.fold} | ${f.turns} | ${f.init} | ${f.weightDecay} | ${f.epochs} |`),
  `| final (all topics) | 479 | ${t.final.init} | ${t.final.weightDecay} | ${t.final.epochs} |`,
  '',
  '## eval --conversations with the final model (not held out: trained on these topics)',
  '',
  '| measure | raw | concat | first | student | n |',
  '|---|---:|---:|---:|---:|---:|',
  row('teacher agreement', e.teacherAgreement),
  row('rewrite agreement (dense)', e.rewriteAgreement.dense),
  '',
  'The fixed policies give the figures of training (the search path forms the same texts). CAsT-19\'s qrels judge MS MARCO / CAR passages, none of which is in this index: the command says so and reports no nDCG@3, MRR or recall.',
  '',
];
await writeResultTable('convdr.md', lines);
if (!process.env.BENCH_WORK) await rm(work, { recursive: true, force: true });
