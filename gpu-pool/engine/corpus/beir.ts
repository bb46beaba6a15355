import { z } from 'zod';
import { readLines } from './lines.ts';
import { IdSet, parseJsonLine, parseRecord } from './records.ts';
import type { Doc, Query } from './types.ts';

// BEIR corpus.jsonl: {"_id", "title", "text", "metadata"?}. Some BEIR sets omit empty titles.
const BeirDoc = z.object({
  _id: z.string().min(1),
  title: z.string().optional(),
  text: z.string(),
});

const BeirQuery = z.object({
  _id: z.string().min(1),
  text: z.string(),
});

/** Documents of a BEIR `corpus.jsonl`, in file order; blank lines are skipped. */
export async function* readBeirCorpus(file: string): AsyncGenerator<Doc> {
  const ids = new IdSet();
  for await (const { text, line } of readLines(file)) {
    if (text.trim() === '') continue;
    const doc = parseRecord(BeirDoc, parseJsonLine(text, file, line), file, line);
    ids.add(doc._id, file, line, '_id');
    yield { id: doc._id, title: doc.title ?? '', text: doc.text };
  }
}

/** Queries of a BEIR `queries.jsonl` (`metadata` and other keys are ignored). */
export async function* readBeirQueries(file: string): AsyncGenerator<Query> {
  const ids = new IdSet();
  for await (const { text, line } of readLines(file)) {
    if (text.trim() === '') continue;
    const query = parseRecord(BeirQuery, parseJsonLine(text, file, line), file, line);
    ids.add(query._id, file, line, '_id');
    yield { id: query._id, text: query.text };
  }
}
