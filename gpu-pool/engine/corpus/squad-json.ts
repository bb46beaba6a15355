import { z } from 'zod';
import { InputError } from './errors.ts';
import { readJsonDataArray } from './json-data-array.ts';
import type { Doc, Query } from './types.ts';

// SQuAD v1.1 files and DensePhrases' articles.json share `{data: [{title, paragraphs: [{context}]}]}`;
// SQuAD adds `qas` to each paragraph (ignored here) and a top-level `version`.
const Article = z.object({
  title: z.string(),
  paragraphs: z.array(z.object({ context: z.string() })),
});

/**
 * One Doc per paragraph. The id is `${articleIndex}_${paragraphIndex}` (both 0-based, in file
 * order), which is how DensePhrases addresses a paragraph (doc_idx, par_idx); the title is the
 * article's title as written (SQuAD uses Wikipedia page names such as `Super_Bowl_50`).
 */
export async function* readSquadCorpus(file: string): AsyncGenerator<Doc> {
  for await (const { index, value } of readJsonDataArray(file)) {
    const article = Article.safeParse(value);
    if (!article.success) throw elementError(file, index, article.error);
    const { title, paragraphs } = article.data;
    for (let p = 0; p < paragraphs.length; p++) {
      yield { id: `${index}_${p}`, title, text: paragraphs[p].context };
    }
  }
}

// Questions: DensePhrases' questions.json lists `{id, question}` in `data`; SQuAD nests them as
// `data[].paragraphs[].qas[]`. Both are accepted.
const FlatQuestion = z.object({ id: z.union([z.string(), z.number()]), question: z.string() });
const SquadArticleQuestions = z.object({
  paragraphs: z.array(z.object({ qas: z.array(FlatQuestion) })),
});

export async function* readSquadQueries(file: string): AsyncGenerator<Query> {
  for await (const { index, value } of readJsonDataArray(file)) {
    if (value !== null && typeof value === 'object' && 'paragraphs' in value) {
      const article = SquadArticleQuestions.safeParse(value);
      if (!article.success) throw elementError(file, index, article.error);
      for (const paragraph of article.data.paragraphs) {
        for (const q of paragraph.qas) yield { id: String(q.id), text: q.question };
      }
    } else {
      const q = FlatQuestion.safeParse(value);
      if (!q.success) throw elementError(file, index, q.error);
      yield { id: String(q.data.id), text: q.data.question };
    }
  }
}

/** Names the first bad field by its JSON path, e.g. `data[3].paragraphs[2].context`. */
function elementError(file: string, index: number, error: z.ZodError): InputError {
  const issue = error.issues[0];
  const path = issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
  return new InputError(issue.message, { file, field: `data[${index}]${path}` });
}
