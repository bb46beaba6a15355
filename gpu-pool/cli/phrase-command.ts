import type { Command } from 'commander';
import { phraseTrain } from '../engine/phrase/train/index.ts';
import { intArg, numberArg } from './index.ts';

export function phraseTrainCommand(cmd: Command): Command {
  return cmd
    .description(
      "train DensePhrases' phrase heads (start, end, query start, query end) on top of a frozen token model from SQuAD questions (phrase-level loss with in-batch negatives), then the phrase filter (a start and an end likelihood per token, read by `index build --method phrase --filter-threshold`), and write a model directory that phrase indexes load; validation EM/F1 reads the top phrase of each held-out question's gold paragraph, and the filter is reported as the share of phrase starts it keeps and of gold starts it keeps at several thresholds",
    )
    .requiredOption('--squad <path>', 'SQuAD v1.1 JSON (e.g. ../shared/data/squad-v1.1-dev/dev-v1.1.json)')
    .requiredOption('--articles <ranges>', 'articles to use, 0-based inclusive ranges in file order (e.g. 0-23 or 0-3,7)')
    .requiredOption('--model <dir>', 'token model: a manifest with output kind "tokens" and a lateInteraction block (e.g. models/use-lite-tokens)')
    .requiredOption('--out <dir>', 'model directory to write (must not exist unless --force)')
    .option('--dim <n>', 'dimension of the start and end vectors', intArg('--dim'), 128)
    .option('--validation-articles <n>', 'the last n of the articles are held out for validation and early stopping', intArg('--validation-articles', 0), 4)
    .option('--epochs <n>', 'most epochs', intArg('--epochs', 0), 20)
    .option('--patience <n>', 'epochs without a better validation F1 before stopping', intArg('--patience'), 3)
    .option('--lr <x>', 'Adam learning rate', numberArg('--lr'), 1e-3)
    .option('--batch <n>', 'questions per Adam step (their paragraphs are each other\u2019s negatives)', intArg('--batch'), 32)
    .option('--seed <n>', 'seed of the initial heads and the batch order', intArg('--seed', 0), 1)
    .option('--cache <dir>', 'token feature cache, reused by later runs with the same model (default: <out>.cache)')
    .option('--max-phrase-tokens <n>', 'longest phrase, in tokens (answers longer than this are dropped from training)', intArg('--max-phrase-tokens'), 20)
    .option('--filter-epochs <n>', 'most epochs of the phrase filter (0: train none; the model then cannot be built with --filter-threshold)', intArg('--filter-epochs', 0), 20)
    .option('--filter-lr <x>', 'Adam learning rate of the phrase filter', numberArg('--filter-lr'), 1e-2)
    .option('--filter-batch <n>', 'paragraphs per Adam step of the phrase filter', intArg('--filter-batch'), 16)
    .option('--threads <n>', 'ONNX threads', intArg('--threads'))
    .option('--force', 'replace an existing --out directory', false)
    .option('--id <id>', 'model id in the written manifest (default: <base id>-phrase<dim>)')
    .action(async (o) => {
      await phraseTrain({
        squad: o.squad,
        articles: o.articles,
        model: o.model,
        out: o.out,
        dim: o.dim,
        validationArticles: o.validationArticles,
        epochs: o.epochs,
        patience: o.patience,
        lr: o.lr,
        batch: o.batch,
        seed: o.seed,
        cache: o.cache,
        maxPhraseTokens: o.maxPhraseTokens,
        filterEpochs: o.filterEpochs,
        filterLr: o.filterLr,
        filterBatch: o.filterBatch,
        threads: o.threads,
        force: o.force,
        id: o.id,
      });
    });
}
