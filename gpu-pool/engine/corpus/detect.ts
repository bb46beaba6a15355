import { stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InputError } from './errors.ts';
import { asInputError } from './lines.ts';
import type { CorpusFormat } from './types.ts';

/** The file a directory stands for, per format (BEIR and ColBERT layouts). */
const DIRECTORY_FILES: Partial<Record<CorpusFormat, string>> = {
  beir: 'corpus.jsonl',
  tsv: 'collection.tsv',
};

const EXTENSIONS: Record<string, CorpusFormat> = {
  '.jsonl': 'beir',
  '.tsv': 'tsv',
  '.json': 'densephrases',
};

/**
 * A BEIR directory (with corpus.jsonl) → beir; a directory with collection.tsv → tsv;
 * otherwise by extension: *.jsonl → beir, *.tsv → tsv, *.json → densephrases (SQuAD layout).
 */
export async function detectCorpusFormat(path: string): Promise<CorpusFormat> {
  if (await isDirectory(path)) {
    for (const [format, name] of Object.entries(DIRECTORY_FILES)) {
      if (await isFile(join(path, name))) return format as CorpusFormat;
    }
    throw new InputError(`directory has neither corpus.jsonl (BEIR) nor collection.tsv (ColBERT)`, { file: path });
  }
  const format = EXTENSIONS[extname(path).toLowerCase()];
  if (!format) {
    throw new InputError(`cannot tell the corpus format from the name: expected *.jsonl (BEIR), *.tsv or *.json (DensePhrases/SQuAD), or pass a format`, { file: path });
  }
  return format;
}

/** The file to read for `path` in `format`: the path itself, or the format's file inside a directory. */
export async function resolveCorpusFile(path: string, format: CorpusFormat): Promise<string> {
  if (!(await isDirectory(path))) return path;
  const name = DIRECTORY_FILES[format];
  if (!name) throw new InputError(`a ${format} corpus is a file, not a directory`, { file: path });
  return join(path, name);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    throw asInputError(err, path);
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
