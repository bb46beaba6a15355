// `eval --qa --baselines`: beside the phrase model as searched, in the same run over the same
// questions, the two floors it must beat, and each system's exact match with the gold paragraph
// given (the reader alone, retrieval taken out):
//   - linear heads: the phrase model's start + end with passage BM25 only (LINEAR_HEAD_WEIGHTS);
//   - lexical reader: no model; the 1-4 word span among the most question words
//     (phrase/baselines), read from the top BM25 passage of the whole index.
import { lexicalReader } from '../engine/phrase/baselines/index.ts';
import { LINEAR_HEAD_WEIGHTS } from '../engine/phrase/evidence/index.ts';
import { exactMatch, f1Score } from '../engine/phrase/text/index.ts';
import { readPassages } from '../engine/methods/phrase/index.ts';
import type { QueryParams } from '../engine/methods/index.ts';
import { scoreQa, summarizeQa, type QaScores } from '../engine/eval/index.ts';
import { createProgress } from '../engine/progress/index.ts';
import type { Searcher } from '../engine/search/index.ts';
import type { QaQuestion } from './eval-qa.ts';

export type QaSystem = 'phrase model' | 'linear heads' | 'lexical reader';

/** Where each doc id lives (shard, ordinal): the gold paragraphs are named by id. */
async function passageIndex(searcher: Searcher): Promise<Map<string, { shard: number; ordinal: number }>> {
  const out = new Map<string, { shard: number; ordinal: number }>();
  for (const [shard, s] of searcher.index.shards.entries()) for (let ordinal = 0; ordinal < s.passages.size; ordinal++) out.set((await s.passages.get(ordinal)).id, { shard, ordinal });
  return out;
}

/** Gold-paragraph EM / F1 of each system, and open EM@1, F1@1, recall of the two baselines (the phrase model's open figures are the eval's own). */
export async function qaBaselines(searcher: Searcher, questions: QaQuestion[], o: { k: number; params: QueryParams; batch: number }): Promise<Record<QaSystem, Record<string, number>>> {
  const golds = questions.filter((q) => q.gold);
  if (golds.length === 0) throw new Error('--baselines needs SQuAD questions (their gold paragraphs)');
  for (const [s, shard] of searcher.index.shards.entries())
    if (!shard.bm25 || shard.bm25.docCount === 0) throw new Error(`--baselines: shard ${s} of ${searcher.index.dir} has no BM25 postings (build with --bm25)`);
  const where = await passageIndex(searcher);
  const encoder = await searcher.phraseEncoder();
  const rows: Record<QaSystem, QaScores[]> = { 'phrase model': [], 'linear heads': [], 'lexical reader': [] };
  const ks = [1, 10, o.k].filter((k, i, all) => k <= o.k && all.indexOf(k) === i);
  const linear = { ...o.params, weights: { ...LINEAR_HEAD_WEIGHTS } };
  const progress = createProgress({ label: 'baselines', total: golds.length, unit: 'questions' });
  try {
    for (let i = 0; i < golds.length; i += o.batch) {
      const batch = golds.slice(i, i + o.batch);
      const vectors = await encoder.encodeQueries(batch.map((q) => q.question));
      const linearOpen = await searcher.search('phrase', batch.map((q, j) => ({ id: q.id, text: q.question, k: o.k, params: linear, phrase: vectors[j] })));
      const bm25Top = await searcher.search('bm25', batch.map((q) => ({ id: q.id, text: q.question, k: 1 })));
      for (const [j, q] of batch.entries()) {
        const gold = where.get(q.gold!.docId);
        if (!gold) throw new Error(`question ${q.id}: its paragraph ${q.gold!.docId} is not in ${searcher.index.dir}`);
        const shard = searcher.index.shards[gold.shard];
        const goldText = (await shard.passages.get(gold.ordinal)).text;
        const read = async (params: QueryParams) => {
          const found = await readPassages(shard, shard.phrases!, { id: q.id, text: q.question, k: 1, params, phrase: vectors[j] }, [gold.ordinal]);
          const top = found.reduce((a, b) => (b.score > a.score ? b : a), found[0]);
          const phrase = top ? goldText.slice(top.charStart, top.charEnd) : '';
          return { 'gold-paragraph-em': exactMatch(phrase, q.answers), 'gold-paragraph-f1': f1Score(phrase, q.answers) };
        };
        rows['phrase model'].push(await read({ ...o.params, unit: 'phrase' }));
        rows['linear heads'].push({ ...scoreQa(linearOpen[j].map((h) => ({ phrase: h.span?.text ?? '', passage: h.text })), q.answers, ks), ...(await read(linear)) });
        const top = bm25Top[j][0];
        const spans = top ? lexicalReader(q.question, top.text, { topN: o.k }) : [];
        const goldSpan = lexicalReader(q.question, goldText)[0]?.text ?? '';
        rows['lexical reader'].push({
          ...scoreQa(spans.map((s) => ({ phrase: s.text, passage: top!.text })), q.answers, ks),
          'gold-paragraph-em': exactMatch(goldSpan, q.answers),
          'gold-paragraph-f1': f1Score(goldSpan, q.answers),
        });
      }
      progress.tick(batch.length);
    }
  } finally {
    progress.finish();
  }
  return {
    'phrase model': summarizeQa(rows['phrase model']).mean,
    'linear heads': summarizeQa(rows['linear heads']).mean,
    'lexical reader': summarizeQa(rows['lexical reader']).mean,
  };
}
