import { Option, type Command } from 'commander';
import { readQueries, type Query } from '../engine/corpus/index.ts';
import { evaluate, parseMetrics, readQrels, writeColbertRanking, writeTrecRun, type Run } from '../engine/eval/index.ts';
import { createProgress } from '../engine/progress/index.ts';
import { Searcher } from '../engine/search/index.ts';
import { intArg } from './index.ts';
import { evalConversations } from './eval-conversations.ts';
import { evaluateQa, parseArticles, readQaQuestions, writeQaRun } from './eval-qa.ts';
import { qaBaselines } from './eval-qa-baselines.ts';
import { addQueryOptions, hybridFusion, queryParams, queryRerank } from './search-command.ts';

async function evalQa(o: Record<string, any>): Promise<void> {
  if (o.mode !== 'phrase') throw new Error(`--qa scores answer phrases: use it with --mode phrase (got --mode ${o.mode})`);
  if (o.queries || o.qrels) throw new Error('--qa replaces --queries and --qrels: give one or the other');
  if (o.rerank) throw new Error('--rerank re-ranks passages: it does not apply to --qa');
  const questions = await readQaQuestions(o.qa, o.articles ? parseArticles(o.articles) : undefined);
  const params = queryParams(o);
  const k = o.k ?? 10;
  if (o.baselines && (params.unit ?? 'phrase') !== 'phrase') throw new Error(`--baselines compares answer phrases: use it with --unit phrase (got --unit ${params.unit})`);
  const searcher = await Searcher.open(o.index, { model: o.model, verify: o.verify, threads: o.threads });
  const t0 = performance.now();
  let result;
  let baselines: Awaited<ReturnType<typeof qaBaselines>> | undefined;
  let msPerQuery;
  try {
    result = await evaluateQa(searcher, questions, { k, params, batch: o.batch });
    msPerQuery = (performance.now() - t0) / questions.length;
    if (o.baselines) baselines = await qaBaselines(searcher, questions, { k, params, batch: o.batch });
  } finally {
    await searcher.close();
  }
  if (o.run) await writeQaRun(result.rows, o.run);
  for (const [name, value] of Object.entries(result.mean)) process.stdout.write(`${name.padEnd(18)} ${value.toFixed(4)}\n`);
  process.stdout.write(`questions          ${result.queries}\nms/query           ${msPerQuery.toFixed(2)} (encode + search)\n`);
  if (baselines) {
    // The phrase model's open figures are the eval's own; the baselines add the gold-paragraph reading.
    baselines['phrase model'] = { ...result.mean, ...baselines['phrase model'] };
    const cols = ['em@1', 'f1@1', 'gold-paragraph-em', 'gold-paragraph-f1', 'phrase-recall@10', 'answer-recall@10'].filter((c) => c in baselines!['lexical reader']);
    process.stdout.write(`\n${'system'.padEnd(16)}${cols.map((c) => c.padStart(19)).join('')}\n`);
    for (const [name, m] of Object.entries(baselines)) process.stdout.write(`${name.padEnd(16)}${cols.map((c) => (m[c] ?? NaN).toFixed(4).padStart(19)).join('')}\n`);
  }
  if (o.json) process.stdout.write(`${JSON.stringify({ metrics: result.mean, questions: result.queries, mode: 'phrase', unit: params.unit ?? 'phrase', index: o.index, version: searcher.version, params, k, msPerQuery, ...(baselines ? { baselines } : {}) })}\n`);
}

export function evalCommand(cmd: Command): Command {
  return addQueryOptions(
    cmd
      .description('run queries against an index and score them with trec_eval-style metrics')
      .requiredOption('--index <dir>', 'index directory')
      .option('--queries <file>', 'queries (BEIR queries.jsonl or qid<TAB>text)')
      .option('--qrels <file>', 'relevance judgements (BEIR tsv or TREC qrels)')
      .option('--qa <file>', 'mode phrase: questions with answers (SQuAD json, NQ-open jsonl, DensePhrases questions.json, DPR tsv), scored by EM / F1 / recall instead of --queries and --qrels')
      .option('--conversations <file>', 'CAsT topics JSON (turns with raw_utterance): every turn searched with the turns before it; nDCG@3, MRR, recall@100 with --qrels, teacher and rewrite agreement with --rewrites; --model names the conversational model (student), --policy one policy (default: raw, concat and first), --run a directory of per-system TREC run files')
      .option('--rewrites <file>', 'with --conversations: manual rewrites (CAsT annotated TSV or JSON)')
      .option('--articles <ranges>', 'with a SQuAD --qa file: only the questions of these articles, e.g. 24-47')
      .option('--baselines', 'with a SQuAD --qa file, unit phrase: also the linear-heads and lexical-reader baselines, and every system\'s exact match with the gold paragraph given, in one table', false)
      .option('--metrics <list>', 'comma-separated metrics', 'ndcg@10,mrr@10,recall@100')
      .option('--k <n>', 'depth of the ranking (default: the deepest metric cut-off)', intArg('--k'))
      .option('--batch <n>', 'queries per search batch', intArg('--batch'), 32)
      .option('--run <file>', 'write the ranking as a TREC run file')
      .addOption(new Option('--run-format <format>', 'run file format: trec (qid Q0 docid rank score tag) or colbert (qid, pid, rank, score, tab-separated)').choices(['trec', 'colbert']).default('trec'))
      .option('--json', 'make the last line of output one JSON object with the metrics', false),
  ).action(async (o) => {
    if (o.conversations) return evalConversations(o);
    if (o.qa) return evalQa(o);
    if (!o.queries || !o.qrels) throw new Error('eval needs --queries and --qrels (or, for mode phrase, --qa)');
    const metrics = parseMetrics(o.metrics);
    const qrels = await readQrels(o.qrels);
    const queries: Query[] = [];
    for await (const q of readQueries(o.queries)) if (qrels.has(q.id)) queries.push(q);
    if (queries.length === 0) throw new Error(`no query in ${o.queries} has judgements in ${o.qrels}`);
    const k = o.k ?? Math.max(...metrics.map((m: string) => Number(m.split('@')[1])));
    const params = queryParams(o);
    const rerank = queryRerank(o);
    const searcher = await Searcher.open(o.index, { model: o.model, verify: o.verify, threads: o.threads });
    const fusion = hybridFusion(o.mode, params, searcher.index.manifest.fusion);
    if (fusion) process.stderr.write(`${fusion.line}\n`);
    const run: Run = new Map();
    const progress = createProgress({ label: 'eval', total: queries.length, unit: 'queries' });
    const t0 = performance.now();
    try {
      for (let i = 0; i < queries.length; i += o.batch) {
        const batch = queries.slice(i, i + o.batch);
        const results = await searcher.searchHits(o.mode, batch.map((q) => ({ id: q.id, text: q.text, k, params, rerank })));
        batch.forEach((q, j) => run.set(q.id, results[j].map((h) => ({ docId: h.docId, score: h.score }))));
        progress.tick(batch.length);
      }
    } finally {
      progress.finish();
      await searcher.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    if (o.run && o.runFormat === 'colbert') await writeColbertRanking(run, o.run);
    else if (o.run) await writeTrecRun(run, o.run, `edgesearch-${o.mode}${rerank ? `-rerank-${rerank.method}` : ''}`);
    const result = evaluate(run, qrels, metrics);
    for (const [name, value] of Object.entries(result.mean)) process.stdout.write(`${name.padEnd(12)} ${value.toFixed(4)}\n`);
    process.stdout.write(`queries      ${result.queries}\nms/query     ${((seconds * 1000) / queries.length).toFixed(2)} (encode + search)\n`);
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ metrics: result.mean, queries: result.queries, mode: o.mode, ...(rerank ? { rerank } : {}), index: o.index, version: searcher.version, params, ...(fusion ? { fusion: { ...fusion.fusion, from: fusion.from } } : {}), k, msPerQuery: (seconds * 1000) / queries.length })}\n`);
    }
  });
}
