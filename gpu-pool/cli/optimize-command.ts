import type { Command } from 'commander';
import { Option } from 'commander';
import { optimizeIndex } from '../engine/optimize/index.ts';
import { intArg, numberArg } from './index.ts';

export function optimizeCommand(cmd: Command): Command {
  return cmd
    .description('optimize the stored target embeddings of a quantized index on training queries and qrels (Tan et al., AAAI 2026), and publish the result as a new index version; the summary gives held-out nDCG@10 before → after for queries about trained-on documents and for the others (on SciFact the others got worse in 14 of 15 benchmarked configurations)')
    .requiredOption('--index <dir>', 'index to optimize (read only: it keeps serving)')
    .requiredOption('--queries <path>', 'training queries: BEIR dir or queries.jsonl, or TSV "qid<TAB>text"')
    .requiredOption('--qrels <path>', 'relevance judgments for them (BEIR TSV or TREC qrels)')
    .requiredOption('--out <dir>', 'directory of the new index version (must not exist unless --force)')
    .option('--valid-fraction <x>', 'share of the training queries held out for early stopping', numberArg('--valid-fraction'), 0.1)
    .option('--epochs <n>', 'most epochs', intArg('--epochs', 0), 10)
    .option('--lr <x>', 'Adam learning rate (0 changes nothing)', numberArg('--lr'), 0.001)
    .option('--negatives <n>', 'negatives per query, mined from its nearest neighbours in the quantized index each epoch', intArg('--negatives'), 500)
    .option('--anchor <x>', 'pull of every moved vector back to where the encoder put it (0: none); keeps documents no training query is about rankable', numberArg('--anchor'), 0.003)
    .option('--positive-share <x>', "share of the negatives mined from the neighbours of the query's relevant documents", numberArg('--positive-share'), 0.25)
    .option('--temperature <x>', 'softmax temperature on inner products', numberArg('--temperature'), 0.05)
    .option('--batch-size <n>', 'queries per Adam step', intArg('--batch-size'), 32)
    .option('--patience <n>', 'epochs without a better validation nDCG@10 before stopping', intArg('--patience'), 3)
    .addOption(new Option('--update <what>', 'what moves: the targets (stored vectors); codebook updates are not implemented').choices(['targets']).default('targets'))
    .option('--no-quantization-aware', 'compute the loss on the float targets instead of their quantized reconstructions (for comparison)')
    .option('--added-only', 'move only the vectors added by `index add` since the last build or optimization', false)
    .addOption(new Option('--unknown <policy>', 'qrels lines naming documents or queries that do not exist').choices(['reject', 'skip']).default('reject'))
    .option('--model <dir>', 'query encoder (default: the one recorded in the index)')
    .option('--threads <n>', 'threads for ONNX, faiss and the optimization steps (default: the cores)', intArg('--threads'))
    .option('--force', 'replace an existing --out directory', false)
    .action(async (o) => {
      await optimizeIndex({
        index: o.index,
        queries: o.queries,
        qrels: o.qrels,
        out: o.out,
        validFraction: o.validFraction,
        epochs: o.epochs,
        lr: o.lr,
        negatives: o.negatives,
        positiveShare: o.positiveShare,
        anchor: o.anchor,
        temperature: o.temperature,
        batchSize: o.batchSize,
        patience: o.patience,
        quantizationAware: o.quantizationAware,
        addedOnly: o.addedOnly,
        unknown: o.unknown,
        model: o.model,
        threads: o.threads,
        force: o.force,
      });
    });
}
