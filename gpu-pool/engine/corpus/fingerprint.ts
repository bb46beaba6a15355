import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { detectCorpusFormat, resolveCorpusFile } from './detect.ts';
import { asInputError } from './lines.ts';
import type { CorpusFormat } from './types.ts';

export interface CorpusFingerprint {
  /** Absolute path of the file actually read (corpus.jsonl inside a BEIR directory). */
  path: string;
  bytes: number;
  mtimeMs: number;
}

/**
 * A cheap identity for resumable builds: if any of these differ, the corpus changed and work
 * derived from it must start over. (Not a content hash: hashing a large corpus costs a full read.)
 */
export async function corpusFingerprint(path: string, format?: CorpusFormat): Promise<CorpusFingerprint> {
  const file = resolve(await resolveCorpusFile(path, format ?? (await detectCorpusFormat(path))));
  try {
    const s = await stat(file);
    return { path: file, bytes: s.size, mtimeMs: s.mtimeMs };
  } catch (err) {
    throw asInputError(err, file);
  }
}
