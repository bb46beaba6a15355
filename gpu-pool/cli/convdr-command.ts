import type { Command } from 'commander';
import { agreementJson, convdrTrain, DEFAULT_WEIGHT_DECAYS, rewriteAgreementJson, searcherRankings } from '../engine/convdr/index.ts';
import { Searcher } from '../engine/search/index.ts';
import { intArg, numberArg } from './index.ts';

function listArg(name: string) {
  const one = numberArg(name);
  return (value: string): number[] => value.split(',').map((v) => one(v.trim()));
}

export function convdrTrainCommand(cmd: Command): Command {
  return cmd
    .description(
      "ConvDR few-shot knowledge distillation on TREC CAsT: the teacher is --model on each turn's manual rewrite; the student is the same frozen encoder on three views of the raw conversation (raw, first + current, concat) followed by a linear adapter (identity on concat at the start) trained with the KD MSE loss (Adam; weight decay toward the identity and early stopping chosen on an inner validation split). Reports held-out teacher agreement (and with --index, rewrite agreement) of the student and the fixed policies over folds by topic, then writes a model trained on all topics that mode conversational loads",
    )
    .requiredOption('--topics <file>', 'CAsT topics JSON (turns with raw_utterance), e.g. ../shared/data/trec-cast-2019/evaluation_topics_v1.0.json')
    .option('--rewrites <file>', 'manual rewrites: the annotated TSV (<topic>_<turn>\\t<rewrite>) or JSON (default: manual_rewritten_utterance in the topics file)')
    .option('--partial-rewrites', 'allow turns without a rewrite (kept as context, not trained or scored)', false)
    .requiredOption('--model <dir>', 'the ad hoc encoder (teacher and frozen student base), e.g. models/use-lite')
    .requiredOption('--out <dir>', 'model directory to write (must not exist unless --force)')
    .option('--folds <n>', 'cross-validation folds by topic', intArg('--folds', 2), 5)
    .option('--index <dir>', 'an index built with --model (dense; BM25 too when built with --bm25): also report rewrite agreement, nDCG@10 against the manual rewrite\'s top 10')
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
    .option('--json', 'end with one JSON line holding teacherAgreement (and rewriteAgreement)', false)
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
          },
          { ...(searcher ? { rankings: searcherRankings(searcher) } : {}) },
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
