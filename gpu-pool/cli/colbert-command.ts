import type { Command } from 'commander';
import { Option } from 'commander';
import { colbertTrain } from '../engine/colbert/train/index.ts';
import { intArg, numberArg } from './index.ts';

export function colbertTrainCommand(cmd: Command): Command {
  return cmd
    .description(
      "train ColBERT's linear projection on top of a frozen token model (softmax cross-entropy over MaxSim scores of a positive and sampled negatives) and write a model directory that late-interaction indexes load; validation nDCG@10 re-ranks held-out queries' BM25 top 100",
    )
    .requiredOption('--model <dir>', 'token model: a manifest with output kind "tokens" and a lateInteraction block (e.g. models/use-lite-tokens)')
    .requiredOption('--out <dir>', 'model directory to write (must not exist unless --force)')
    .requiredOption('--queries <path>', 'training queries: BEIR queries.jsonl, or ColBERT queries.tsv "qid<TAB>text" with --triples')
    .option('--corpus <path>', 'BEIR input: corpus directory (corpus.jsonl) or file')
    .option('--qrels <path>', 'BEIR input: relevance judgments (BEIR TSV or TREC qrels)')
    .option('--triples <path>', 'ColBERT input: triples.tsv "qid<TAB>pid+<TAB>pid-"')
    .option('--collection <path>', 'ColBERT input: collection.tsv "pid<TAB>passage[<TAB>title]"')
    .option('--dim <n>', 'dimension of the trained projection', intArg('--dim'), 128)
    .option('--epochs <n>', 'most epochs', intArg('--epochs', 0), 20)
    .option('--lr <x>', 'Adam learning rate', numberArg('--lr'), 0.003)
    .option('--batch <n>', 'queries per Adam step', intArg('--batch'), 32)
    .option('--negatives <n>', 'negatives sampled per query per epoch from its pool', intArg('--negatives'), 16)
    .option('--mine-depth <n>', "BEIR input: negatives are mined from each query's BM25 top n (positives excluded)", intArg('--mine-depth'), 100)
    .option('--dense-model <dir>', "BEIR input: also mine from this sentence model's top --mine-depth (exact inner product over the corpus; encodes the corpus once, cached)")
    .option('--temperature <x>', 'MaxSim scores are divided by it before the softmax', numberArg('--temperature'), 1)
    .option('--valid-fraction <x>', 'share of the queries held out (by query id) for validation and early stopping', numberArg('--valid-fraction'), 0.2)
    .option('--valid-depth <n>', "validation re-ranks each held-out query's BM25 top n over the whole corpus", intArg('--valid-depth'), 100)
    .option('--patience <n>', 'epochs without a better validation nDCG@10 before stopping', intArg('--patience'), 2)
    .option('--seed <n>', 'seed of the initialisation and the sampling', intArg('--seed', 0), 1)
    .addOption(new Option('--init <how>', 'starting projection: the top principal directions of the token features, or a random orthonormal one').choices(['pca', 'random']).default('pca'))
    .option('--cache <dir>', 'token feature cache, reused by later runs with the same model (default: <out>.cache)')
    .addOption(new Option('--unknown <policy>', 'BEIR input: qrels lines naming documents or queries that do not exist').choices(['reject', 'skip']).default('reject'))
    .option('--id <id>', 'model id in the written manifest (default: <base id>-colbert<dim>)')
    .option('--threads <n>', 'ONNX threads', intArg('--threads'))
    .option('--force', 'replace an existing --out directory', false)
    .action(async (o) => {
      await colbertTrain({
        model: o.model,
        out: o.out,
        queries: o.queries,
        corpus: o.corpus,
        qrels: o.qrels,
        triples: o.triples,
        collection: o.collection,
        dim: o.dim,
        epochs: o.epochs,
        lr: o.lr,
        batch: o.batch,
        negatives: o.negatives,
        mineDepth: o.mineDepth,
        denseModel: o.denseModel,
        temperature: o.temperature,
        validFraction: o.validFraction,
        validDepth: o.validDepth,
        patience: o.patience,
        seed: o.seed,
        init: o.init,
        cache: o.cache,
        unknown: o.unknown,
        id: o.id,
        threads: o.threads,
        force: o.force,
      });
    });
}
