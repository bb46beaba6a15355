import type { Command } from 'commander';
import { agreementJson, convdrTrain, DEFAULT_WEIGHT_DECAYS, rewriteAgreementJson, searcherRankings } from '../engine/convdr/index.ts';
import { DEFAULT_RANK_NEGATIVES, searcherDocuments } from '../engine/convdr/train/index.ts';
import { Searcher } from '../engine/search/index.ts';
import { intArg, numberArg } from './index.ts';

function listArg(name: string) {
  const one = numberArg(name);
  return (value: string): number[] => value.split(',').map((v) => one(v.trim()));
}

export function convdrTrainCommand(cmd: Command): Command {
  return cmd
    .description(
      "ConvDR few-shot knowledge distillation on TREC CAsT: the teacher is --model on each turn's manual rewrite; the student is the same frozen encoder on three views of the raw conversation (raw, first + current, concat) followed by a linear adapter (identity on concat at the start) trained with the KD MSE loss (with --qrels and --index, plus ConvDR's ranking loss against hard negatives; Adam; weight decay toward the identity and early stopping chosen on an inner validation split). Reports held-out teacher agreement (and with --index, rewrite agreement) of the student and the fixed policies over folds by topic, then writes a model trained on all topics that mode conversational loads",
    )
    .requiredOption('--topics <file>', 'CAsT topics JSON (turns with raw_utterance), e.g. ../shared/data/trec-cast-2019/evaluation_topics_v1.0.json')
    .option('--rewrites <file>', 'manual rewrites: the annotated TSV (<topic>_<turn>\\t<rewrite>) or JSON (default: manual_rewritten_utterance in the topics file)')
    .option('--partial-rewrites', 'allow turns without a rewrite (kept as context, not trained or scored)', false)
    .requiredOption('--model <dir>', 'the ad hoc encoder (teacher and frozen student base), e.g. models/use-lite')
    .requiredOption('--out <dir>', 'model directory to write (must not exist unless --force)')
    .option('--folds <n>', 'cross-validation folds by topic', intArg('--folds', 2), 5)
    .option('--index <dir>', 'an index built with --model (dense; BM25 too when built with --bm25): also report rewrite agreement, nDCG@10 against the manual rewrite\'s top 10')
    .option('--qrels <file>', "TREC qrels (<topic>_<turn> 0 <docid> <grade>, grade > 0 relevant) of --index's documents: adds ConvDR's ranking loss (softmax cross-entropy of the student's vector against each relevant document and the teacher's top dense hits not judged relevant); qrels that match nothing in the index leave knowledge distillation only, with a warning")
    .option('--rank-weight <w>', 'weight of the ranking loss (default 1 with --qrels; 0 measures it without training on it)', numberArg('--rank-weight'))
    .option('--rank-negatives <n>', 'hard negatives per turn (the teacher\'s top dense hits not judged relevant)', intArg('--rank-negatives'), DEFAULT_RANK_NEGATIVES)
    .option('--rank-temperature <t>', 'divides the ranking scores (cosines, in [-1, 1]) before the softmax; at 1 the softmax is nearly flat (0.05, as in contrastive training on cosines)', numberArg('--rank-temperature'), 0.05)
    .option('--epochs <n>', 'most epochs (early stopping on the inner validation split picks fewer)', intArg('--epochs'), 100)
    .option('--patience <n>', 'epochs without a better inner validation agreement before stopping', intArg('--patience'), 10)
    .option('--lr <x>', 'Adam learning rate', numberArg('--lr'), 3e-4)
    .option('--batch <n>', 'turns per Adam step', intArg('--batch'), 32)
    .option('--weight-decay <list>', 'comma-separated weight decay candidates (pull toward the identity adapter), chosen on the inner validation split', listArg('--weight-decay'), DEFAULT_WEIGHT_DECAYS)
    .option('--init <list>', 'comma-separated starting points of the adapter, chosen on the inner validation split: mean (the mean of the view vectors) and/or raw, first, concat (that view\'s identity)', (v: string) => v.split(',').map((x) => x.trim()), ['mean', 'concat'])
    .option('--seed <n>', 'seed of the folds, the inner split and the batch order', intArg('--seed', 0), 1)
    .option('--threads <n>', 'ONNX threads', intArg('--threads'))
    .option('--id <id>', 'model id in the written manifest (default: <base id>-convdr)')
    .option('--force', 'replace an existing --out directory', false)
    .option('--json', 'end with one JSON line holding teacherAgreement (and rewriteAgreement, and rankingLoss)', false)
    .action(async (o) => {
      const searcher = o.index ? await Searcher.open(o.index, { threads: o.threads }) : undefined;
      try {
        const r = await convdrTrain(
          {
            topics: o.topics,
            rewrites: o.rewrites,
            partialRewrites: o.partialRewrites,
            model: o.model,
            out: o.out,
            folds: o.folds,
            epochs: o.epochs,
            patience: o.patience,
            lr: o.lr,
            batch: o.batch,
            weightDecays: o.weightDecay,
            inits: o.init,
            seed: o.seed,
            threads: o.threads,
            force: o.force,
            id: o.id,
            qrels: o.qrels,
            rankWeight: o.rankWeight,
            rankNegatives: o.rankNegatives,
            rankTemperature: o.rankTemperature,
          },
          { ...(searcher ? { rankings: searcherRankings(searcher), documents: searcherDocuments(searcher) } : {}) },
        );
        if (o.json)
          process.stdout.write(
            `${JSON.stringify({
              out: r.out,
              model: r.modelId,
              topics: r.topics,
              turns: r.turns,
              folds: r.folds,
              teacherAgreement: agreementJson(r.teacherAgreement),
              ...(r.rewriteAgreement ? { rewriteAgreement: rewriteAgreementJson(r.rewriteAgreement) } : {}),
              final: r.final,
              rankingLoss: r.rankingLoss,
              seconds: Math.round(r.seconds * 10) / 10,
            })}\n`,
          );
      } finally {
        await searcher?.close();
      }
    });
}

/** `edgesearch convdr ...` (one group; its subcommands exit through the caller's override). */
export function convdrCommand(cmd: Command): Command {
  cmd.description('conversational dense retrieval (ConvDR): distill a query encoder that reads the conversation');
  convdrTrainCommand(cmd.command('train')).exitOverride();
  return cmd.exitOverride();
}
