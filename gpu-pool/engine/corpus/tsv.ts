import { InputError } from './errors.ts';
import { readLines } from './lines.ts';
import { IdSet } from './records.ts';
import type { Doc, Query } from './types.ts';

/**
 * ColBERT / MS MARCO `collection.tsv`: `pid \t text`, or `pid \t text \t title`. Fields are taken
 * verbatim (no CSV quoting). A first line that names the columns (`id|pid \t text|passage ...`,
 * as in DPR's psgs_w100.tsv) is skipped; blank lines are skipped.
 */
export async function* readTsvCorpus(file: string): AsyncGenerator<Doc> {
  const ids = new IdSet();
  for await (const { text, line } of readLines(file)) {
    if (text === '') continue;
    const fields = text.split('\t');
    if (line === 1 && isHeader(fields)) continue;
    if (fields.length < 2 || fields.length > 3) {
      throw new InputError(`expected 2 or 3 tab-separated columns (id, text[, title]), found ${fields.length}`, { file, line });
    }
    const id = fields[0].trim();
    if (id === '') throw new InputError('empty id', { file, line, field: 'id' });
    ids.add(id, file, line, 'id');
    yield { id, title: fields[2] ?? '', text: fields[1] };
  }
}

/** `qid \t text` per line (MS MARCO / ColBERT queries.tsv). */
export async function* readTsvQueries(file: string): AsyncGenerator<Query> {
  const ids = new IdSet();
  for await (const { text, line } of readLines(file)) {
    if (text === '') continue;
    const tab = text.indexOf('\t');
    if (tab === -1) throw new InputError('expected `qid<TAB>text`, found no tab', { file, line });
    const id = text.slice(0, tab).trim();
    if (id === '') throw new InputError('empty id', { file, line, field: 'id' });
    if (line === 1 && isHeader(text.split('\t'))) continue;
    ids.add(id, file, line, 'id');
    yield { id, text: text.slice(tab + 1) };
  }
}

function isHeader(fields: string[]): boolean {
  return fields.length >= 2 && /^(p|q)?id$/i.test(fields[0].trim()) && /^(text|passage|query)$/i.test(fields[1].trim());
}
