// `eval --mode phrase --qa FILE`: question answering, scored as SQuAD scores it (EM and F1 after
// its normalisation, best over the gold answers), plus recall of the answer among the top k
// phrases (phrase-recall@k: a phrase equal to an answer) and in their evidence passages
// (answer-recall@k); with SQuAD positions and `--unit sentence`, the rank of the answer-bearing
// sentence. One line per question in --run.
import { open, writeFile } from 'node:fs/promises';
import { readOpenQa, readSquadQa } from '../engine/corpus/index.ts';
import { scoreQa, summarizeQa, type QaScores } from '../engine/eval/index.ts';
import type { QueryParams } from '../engine/methods/index.ts';
import { createProgress } from '../engine/progress/index.ts';
import type { Searcher, SearchHit } from '../engine/search/index.ts';

export interface QaQuestion {
  id: string;
  question: string;
  answers: string[];
  /** SQuAD: the gold paragraph and where each answer starts in it. */
  gold?: { docId: string; starts: number[] };
}

/** Inclusive article ranges, e.g. "24-47" or "0-3,10". */
export function parseArticles(spec: string): Set<number> {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new Error(`--articles must look like 24-47 or 0-3,10, got "${spec}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`--articles: range ${a}-${b} runs backwards`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

/** The first 4 KiB of a file, as text. */
async function fileHead(file: string): Promise<string> {
  let handle;
  try {
    handle = await open(file);
  } catch (err) {
    throw new Error(`--qa ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, 4096, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** SQuAD JSON (with positions: it has `paragraphs`) or any open-QA file readOpenQa reads. */
export async function readQaQuestions(file: string, articles?: Set<number>): Promise<QaQuestion[]> {
  if (/"paragraphs"\s*:/.test(await fileHead(file))) {
    const qa = await readSquadQa(file);
    const picked = articles ? qa.filter((q) => articles.has(q.article)) : qa;
    if (picked.length === 0) throw new Error(`${file}: no question in articles ${[...(articles ?? [])].join(',')}`);
    return picked.map((q) => ({ id: q.id, question: q.question, answers: q.answers.map((a) => a.text), gold: { docId: q.docId, starts: q.answers.map((a) => a.charStart) } }));
  }
  if (articles) throw new Error(`--articles selects SQuAD articles; ${file} is not a SQuAD file`);
  return (await readOpenQa(file)).map((q) => ({ id: q.id, question: q.question, answers: q.answers }));
}

export interface QaEvaluation {
  mean: Record<string, number>;
  queries: number;
  rows: { question: QaQuestion; hits: SearchHit[]; scores: QaScores }[];
}

/** Searches every question (unit from params) and scores it. */
export async function evaluateQa(searcher: Searcher, questions: QaQuestion[], opts: { k: number; params: QueryParams; batch: number }): Promise<QaEvaluation> {
  const unit = opts.params.unit ?? 'phrase';
  const ks = [1, 10, opts.k].filter((k, i, all) => k <= opts.k && all.indexOf(k) === i);
  const progress = createProgress({ label: 'eval', total: questions.length, unit: 'questions' });
  const rows: QaEvaluation['rows'] = [];
  try {
    for (let i = 0; i < questions.length; i += opts.batch) {
      const batch = questions.slice(i, i + opts.batch);
      const results = await searcher.search('phrase', batch.map((q) => ({ id: q.id, text: q.question, k: opts.k, params: opts.params })));
      batch.forEach((q, j) => {
        const hits = results[j];
        const scores: QaScores = unit === 'phrase' ? scoreQa(hits.map((h) => ({ phrase: h.span?.text ?? '', passage: h.text })), q.answers, ks) : {};
        if (unit === 'sentence' && q.gold) {
          // The answer-bearing sentence: in the gold paragraph, covering where an answer starts.
          const rank = hits.findIndex((h) => h.docId === q.gold!.docId && h.span && q.gold!.starts.some((s) => h.span!.start <= s && s < h.span!.end));
          for (const k of ks) scores[`sentence@${k}`] = rank >= 0 && rank < k ? 1 : 0;
        }
        if (unit === 'passage' || unit === 'document' || (unit === 'sentence' && !q.gold)) {
          // Without positions: an answer string inside the returned unit's evidence.
          const s = scoreQa(hits.map((h) => ({ phrase: '', passage: h.span?.text ?? h.text })), q.answers, ks);
          for (const k of ks) scores[`answer-recall@${k}`] = s[`answer-recall@${k}`];
        }
        if (q.gold && unit === 'passage') {
          const rank = hits.findIndex((h) => h.docId === q.gold!.docId);
          for (const k of ks) scores[`passage@${k}`] = rank >= 0 && rank < k ? 1 : 0;
        }
        rows.push({ question: q, hits, scores });
      });
      progress.tick(batch.length);
    }
  } finally {
    progress.finish();
  }
  const { mean, queries } = summarizeQa(rows.map((r) => r.scores));
  return { mean, queries, rows };
}

/** One line per question and hit: qid, rank, docId, score, span start, span end, span text (tabs and newlines in it as spaces). */
export async function writeQaRun(rows: QaEvaluation['rows'], file: string): Promise<void> {
  const lines: string[] = [];
  for (const { question, hits } of rows)
    hits.forEach((h, i) => lines.push([question.id, i + 1, h.docId, h.score.toFixed(6), h.span?.start ?? '', h.span?.end ?? '', (h.span?.text ?? '').replace(/[\t\r\n]+/g, ' ')].join('\t')));
  await writeFile(file, lines.length ? `${lines.join('\n')}\n` : '');
}
