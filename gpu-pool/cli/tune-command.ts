import type { Command } from 'commander';
import { tuneIndex } from '../engine/tune/index.ts';
import { intArg } from './index.ts';

export function tuneCommand(cmd: Command): Command {
  return cmd
    .description("choose the fusion `hybrid` uses on an index from your judged queries (RRF with its k and branch weights, min-max or z-scored score combinations, each branch alone), cross-validated by query id, and publish it as a new index version whose index.json records the choice and its validation figures (shard files linked, not copied). Tune on queries you will not evaluate on; on an optimized index, give other queries than the optimization's, or only its validation split is used")
    .requiredOption('--index <dir>', 'index to tune (read only: it keeps serving); needs dense vectors and BM25')
    .requiredOption('--queries <path>', 'tuning queries: BEIR dir or queries.jsonl, or TSV "qid<TAB>text"')
    .requiredOption('--qrels <path>', 'relevance judgments for them (BEIR TSV or TREC qrels)')
    .requiredOption('--out <dir>', 'directory of the new index version (must not exist unless --force)')
    .option('--folds <n>', 'cross-validation folds, by query id', intArg('--folds'), 5)
    .option('--metric <name>', 'what the choice maximises', 'ndcg@10')
    .option('--batch <n>', 'queries per search batch', intArg('--batch'), 32)
    .option('--threads <n>', 'threads for ONNX and faiss (default: the cores)', intArg('--threads'))
    .option('--force', 'replace an existing --out directory', false)
    .option('--json', 'print the chosen fusion and its record as one JSON line on stdout', false)
    .action(async (o) => {
      const { manifest, fusion } = await tuneIndex({ index: o.index, queries: o.queries, qrels: o.qrels, out: o.out, folds: o.folds, metric: o.metric, batch: o.batch, threads: o.threads, force: o.force });
      if (o.json) process.stdout.write(`${JSON.stringify({ version: manifest.version, out: o.out, fusion })}\n`);
      else process.stdout.write(`${manifest.version}\n`);
    });
}
