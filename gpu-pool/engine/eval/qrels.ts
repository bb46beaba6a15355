import { InputError, readLines } from '../corpus/index.ts';
import type { Qrels } from './types.ts';

/**
 * Relevance judgments, in either layout (decided line by line from the number of fields):
 *   BEIR   `query-id corpus-id score`        (tab-separated, with a header line)
 *   TREC   `qid iter docid rel`              (space- or tab-separated, `iter` ignored)
 * Relevance must be an integer, as trec_eval reads it. A first line whose last field is a word
 * (BEIR's `query-id corpus-id score`) is a header. A (qid, docid) pair judged twice is an error:
 * which judgment wins would be arbitrary.
 */
export interface Judgment {
  qid: string;
  docId: string;
  relevance: number;
  /** 1-based line in the file, for messages that point at it. */
  line: number;
}

/** The judgments of a qrels file one by one, with their lines (layouts as for readQrels). */
export async function* readJudgments(path: string): AsyncGenerator<Judgment> {
  let first = true;
  for await (const { text, line } of readLines(path)) {
    const trimmed = text.trim();
    if (trimmed === '') continue;
    const fields = trimmed.split(/\s+/);
    const isFirst = first;
    first = false;
    if (isFirst && /^[A-Za-z_-]+$/.test(fields[fields.length - 1])) continue;
    let qid: string, docId: string, relText: string;
    if (fields.length === 3) [qid, docId, relText] = fields;
    else if (fields.length === 4) [qid, , docId, relText] = fields;
    else throw new InputError(`expected 3 fields (query-id corpus-id score) or 4 (qid iter docid rel), found ${fields.length}`, { file: path, line });
    if (!/^[+-]?\d+$/.test(relText)) throw new InputError(`relevance must be an integer, found ${JSON.stringify(relText)}`, { file: path, line, field: 'relevance' });
    yield { qid, docId, relevance: Number(relText), line };
  }
}

export async function readQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const { qid, docId, relevance, line } of readJudgments(path)) {
    let judged = qrels.get(qid);
    if (!judged) qrels.set(qid, (judged = new Map()));
    if (judged.has(docId)) throw new InputError(`query ${qid} judges document ${docId} twice`, { file: path, line });
    judged.set(docId, relevance);
  }
  return qrels;
}
