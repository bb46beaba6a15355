import { InputError } from './errors.ts';
import { readLines } from './lines.ts';

/** One training triple of ColBERT's `triples.tsv`, with the line it came from. */
export interface Triple {
  qid: string;
  /** The passage that answers the query. */
  positive: string;
  /** A passage that does not. */
  negative: string;
  /** 1-based line in the file, for messages that point at it. */
  line: number;
}

/**
 * ColBERT / MS MARCO training triples by id: `qid \t pid+ \t pid-` per line (the id form of
 * ColBERT's `triples.train.small.tsv`; the texts themselves come from collection.tsv and
 * queries.tsv, read with readCorpus/readQueries). Blank lines are skipped; any other line must
 * have exactly three non-empty tab-separated fields, else an InputError names file and line.
 * Whether the ids exist is the caller's question (it has the collection and the queries).
 */
export async function* readTriples(file: string): AsyncGenerator<Triple> {
  for await (const { text, line } of readLines(file)) {
    if (text.trim() === '') continue;
    const fields = text.split('\t').map((f) => f.trim());
    if (fields.length !== 3) {
      throw new InputError(`expected 3 tab-separated ids (qid, positive pid, negative pid), found ${fields.length} field${fields.length === 1 ? '' : 's'}`, { file, line });
    }
    const names = ['qid', 'positive pid', 'negative pid'];
    fields.forEach((f, i) => {
      if (f === '') throw new InputError(`empty ${names[i]}`, { file, line, field: names[i] });
    });
    const [qid, positive, negative] = fields;
    if (positive === negative) throw new InputError(`passage ${JSON.stringify(positive)} is both the positive and the negative`, { file, line });
    yield { qid, positive, negative, line };
  }
}
