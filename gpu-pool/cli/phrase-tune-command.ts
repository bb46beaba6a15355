// `edgesearch phrase tune-query`: query-side fine-tuning of a phrase model against its index.
import type { Command } from 'commander';
import { tuneQuery } from '../engine/phrase/tune-query/index.ts';
import { DEFAULT_PHRASE_READ_DEPTH } from '../engine/methods/phrase/index.ts';
import { intArg, numberArg } from './index.ts';
import { parseArticles, readQaQuestions } from './eval-qa.ts';

/** Training and validation questions: SQuAD split by article (the last n of --articles validate), others by order (the last tenth). */
async function splitQuestions(file: string, articles: string | undefined, validationArticles: number) {
  if (articles) {
    const all = [...parseArticles(articles)].sort((a, b) => a - b);
    if (validationArticles >= all.length) throw new Error(`--validation-articles ${validationArticles} leaves no training article of --articles ${articles}`);
    const cut = all.length - validationArticles;
    const train = await readQaQuestions(file, new Set(all.slice(0, cut)));
    const validation = validationArticles > 0 ? await readQaQuestions(file, new Set(all.slice(cut))) : [];
    return { train, validation, source: { qa: file, articles, trainingArticles: all.slice(0, cut), validationArticles: all.slice(cut) } };
  }
  const all = await readQaQuestions(file);
  const cut = Math.max(1, Math.floor(all.length * 0.9));
  return { train: all.slice(0, cut), validation: all.slice(cut), source: { qa: file, validation: 'last tenth of the questions' } };
}

export function phraseTuneCommand(cmd: Command): Command {
  return cmd
    .description(
      "query-side fine-tuning (DensePhrases' train-query): train only the query heads of the index's phrase model on questions with answer strings (no positions), against the fixed phrase index: the phrases search reads for a question whose text is an answer (SQuAD normalisation) are its positives; writes a model directory the pool can hot-load for the same index",
    )
    .requiredOption('--index <dir>', 'phrase index built with --method phrase --bm25')
    .requiredOption('--qa <file>', 'questions with answers: SQuAD JSON (positions ignored), NQ-open jsonl, DensePhrases questions.json, DPR tsv')
    .requiredOption('--out <dir>', 'model directory to write (must not exist unless --force)')
    .option('--articles <ranges>', 'SQuAD: the training articles (e.g. 0-23); the last --validation-articles of them validate')
    .option('--validation-articles <n>', 'with --articles: the last n articles are held out for validation and early stopping', intArg('--validation-articles', 0), 4)
    .option('--model <dir>', 'the phrase model to tune (default: the one the index was built with)')
    .option('--epochs <n>', 'most epochs', intArg('--epochs'), 8)
    .option('--patience <n>', 'epochs without a better validation (phrase-exact recall@10 + sentence@1, by phrase search) before stopping', intArg('--patience'), 2)
    .option('--lr <x>', 'Adam learning rate (at unit feature scale)', numberArg('--lr'), 3e-3)
    .option('--batch <n>', 'questions per Adam step', intArg('--batch'), 32)
    .option('--pool <n>', 'phrases per question taken from what search reads (every answer phrase there is added)', intArg('--pool'), 100)
    .option('--refresh-pools', 'read every training question\'s pool again each epoch with the query heads as they are (DensePhrases re-retrieves; slower: one phrase search per question per epoch)', false)
    .option('--depth <n>', 'BM25 passages per shard read whole, as phrase search reads them', intArg('--depth'), DEFAULT_PHRASE_READ_DEPTH)
    .option('--seed <n>', 'seed of the batch order', intArg('--seed', 0), 1)
    .option('--id <id>', 'model id in the written manifest (default: <id>-qtuned)')
    .option('--threads <n>', 'ONNX threads', intArg('--threads'))
    .option('--force', 'replace an existing --out directory', false)
    .action(async (o) => {
      const { train, validation, source } = await splitQuestions(o.qa, o.articles, o.validationArticles);
      await tuneQuery({ index: o.index, model: o.model, train, validation, source, out: o.out, epochs: o.epochs, patience: o.patience, lr: o.lr, batch: o.batch, pool: o.pool, refreshPools: o.refreshPools, depth: o.depth, seed: o.seed, id: o.id, threads: o.threads, force: o.force });
    });
}
