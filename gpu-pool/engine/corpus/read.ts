import { stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { readBeirCorpus, readBeirQueries } from './beir.ts';
import { detectCorpusFormat, resolveCorpusFile } from './detect.ts';
import { asInputError } from './lines.ts';
import { readSquadCorpus, readSquadQueries } from './squad-json.ts';
import { readTsvCorpus, readTsvQueries } from './tsv.ts';
import type { CorpusFormat, Doc, Query } from './types.ts';

/**
 * Documents of a corpus, streamed in file order with constant memory (apart from the set of ids
 * seen, kept to reject duplicates). The format is detected from the path when not given.
 */
export async function* readCorpus(path: string, format?: CorpusFormat): AsyncGenerator<Doc> {
  const fmt = format ?? (await detectCorpusFormat(path));
  const file = await resolveCorpusFile(path, fmt);
  switch (fmt) {
    case 'beir':
      yield* readBeirCorpus(file);
      break;
    case 'tsv':
      yield* readTsvCorpus(file);
      break;
    case 'densephrases':
    case 'squad':
      yield* readSquadCorpus(file);
      break;
  }
}

/**
 * Queries: a BEIR directory (its queries.jsonl) or `*.jsonl` file (`_id`, `text`); a `*.json`
 * file in DensePhrases (`data[].{id, question}`) or SQuAD (`data[].paragraphs[].qas[]`) layout;
 * anything else is read as TSV `qid \t text`.
 */
export async function* readQueries(path: string): AsyncGenerator<Query> {
  let file = path;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, 'queries.jsonl');
  } catch (err) {
    throw asInputError(err, path);
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl') yield* readBeirQueries(file);
  else if (ext === '.json') yield* readSquadQueries(file);
  else yield* readTsvQueries(file);
}
