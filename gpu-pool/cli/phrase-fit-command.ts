// `edgesearch phrase fit-weights`: fits phrase search's evidence weights (phrase/evidence) on
// training questions over a built phrase index, and prints them with the rank-1 figures they give.
import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { PhraseUnit } from '../../shared/protocol/index.ts';
import { DEFAULT_PHRASE_READ_DEPTH } from '../engine/methods/phrase/index.ts';
import { fitWeights, meanSentenceLength, PassageEvidence, queryTerms, resolveWeights, scoreWeights, type FitQuestion } from '../engine/phrase/evidence/index.ts';
import { createProgress } from '../engine/progress/index.ts';
import { Searcher } from '../engine/search/index.ts';
import { passageText, sentencesPerPassage } from '../engine/methods/phrase/index.ts';
import { intArg } from './index.ts';
import { parseArticles, readQaQuestions } from './eval-qa.ts';

export interface PhraseFitOptions {
  index: string;
  qa: string;
  articles: string;
  unit: PhraseUnit;
  depth: number;
  out?: string;
  log?: (m: string) => void;
}

export async function phraseFit(o: PhraseFitOptions) {
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const questions = (await readQaQuestions(o.qa, parseArticles(o.articles))).filter((q) => q.gold);
  if (questions.length === 0) throw new Error(`${o.qa}: fitting needs SQuAD questions with their gold paragraph and answer positions`);
  const searcher = await Searcher.open(o.index);
  try {
    for (const [s, shard] of searcher.index.shards.entries())
      if (!shard.phrases || !shard.bm25) throw new Error(`${o.index}: shard ${s} has ${shard.phrases ? 'no BM25 postings' : 'no phrase store'}; fit-weights needs an index built with --method phrase --bm25`);
    const encoder = await searcher.phraseEncoder();
    const fit: FitQuestion[] = [];
    const progress = createProgress({ label: 'read passages', total: questions.length, unit: 'questions' });
    const BATCH = 32;
    for (let i = 0; i < questions.length; i += BATCH) {
      const batch = questions.slice(i, i + BATCH);
      const vectors = await encoder.encodeQueries(batch.map((q) => q.question));
      for (const [b, q] of batch.entries()) {
        const passages: FitQuestion['passages'] = [];
        for (const shard of searcher.index.shards) {
          const bm25 = shard.bm25!;
          const terms = queryTerms(q.question, bm25);
          const sentenceLength = meanSentenceLength(bm25.termStats().avgDocLength, await sentencesPerPassage(shard));
          for (const ordinal of bm25.search(q.question, Math.min(o.depth, bm25.docCount)).ordinals) {
            const { id } = await shard.passages.get(ordinal);
            passages.push({ docId: id, evidence: new PassageEvidence(ordinal, shard.phrases!.passageTokens(vectors[b], ordinal), await passageText(shard, ordinal), terms, sentenceLength) });
          }
        }
        fit.push({ answers: q.answers, gold: q.gold!, passages });
      }
      progress.tick(batch.length);
    }
    progress.finish();
    const start = resolveWeights(o.unit);
    const before = scoreWeights(fit, start);
    log(`${fit.length} questions, ${o.depth} BM25 passages each per shard; current defaults for unit ${o.unit} ${JSON.stringify(start)}: EM@1 ${before.em.toFixed(4)} F1@1 ${before.f1.toFixed(4)} sentence@1 ${before.sentence.toFixed(4)}`);
    const t0 = performance.now();
    const result = fitWeights(fit, { target: o.unit === 'phrase' ? 'phrase' : 'sentence', start, log });
    log(`${result.evaluations} weight settings scored in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const record = { unit: o.unit, index: o.index, qa: o.qa, articles: o.articles, questions: fit.length, depth: o.depth, before: { weights: start, ...before }, after: { weights: result.weights, ...result.score } };
    process.stdout.write(`${JSON.stringify(record)}\n`);
    if (o.out) await writeFile(o.out, `${JSON.stringify(record, null, 2)}\n`);
    return record;
  } finally {
    await searcher.close();
  }
}

export function phraseFitCommand(cmd: Command): Command {
  return cmd
    .description('fit the evidence weights of phrase search (passage BM25, sentence BM25, question words around and inside a phrase, beside the phrase model\'s score) on SQuAD training questions over a phrase index; prints them and the rank-1 figures before and after')
    .requiredOption('--index <dir>', 'phrase index built with --method phrase --bm25')
    .requiredOption('--qa <file>', 'SQuAD JSON with the training questions (answer positions are needed)')
    .requiredOption('--articles <ranges>', 'the training articles (never the test ones), e.g. 20-23')
    .addOption(new Option('--unit <unit>', 'phrase: fit EM@1; sentence, passage, document: fit the answer-bearing sentence at rank 1').choices([...PhraseUnit.options]).default('phrase'))
    .option('--depth <n>', 'BM25 passages per shard read whole, as phrase search reads them', intArg('--depth'), DEFAULT_PHRASE_READ_DEPTH)
    .option('--out <file>', 'also write the record as JSON')
    .action(async (o) => {
      await phraseFit(o);
    });
}
