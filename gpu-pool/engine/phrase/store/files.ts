// The phrase store's files in a shard directory (DensePhrases' phrase index for one shard), and
// reading them back checked.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ArrayFiles } from '../../typed-files/index.ts';

/** Dimension, limits and counts (JSON). */
export const PHRASE_META_FILE = 'phrase.json';
/** faiss index over the start vectors of the tokens a phrase may start at (DensePhrases: IVF-OPQ). */
export const PHRASE_START_INDEX_FILE = 'phrase-starts.faiss';
/** One u32 per faiss id: the token row it stands for. */
export const PHRASE_START_ROWS_FILE = 'phrase-start-rows.u32';
/** docs + 1 u32: passage j owns token rows [offsets[j], offsets[j+1]). */
export const PHRASE_DOC_OFFSETS_FILE = 'phrase-doc-offsets.u32';
/** Two u32 per token: [charStart, charEnd) in its passage's text. */
export const PHRASE_CHARS_FILE = 'phrase-chars.u32';
/** One byte per token: bit 0 a phrase may start here, bit 1 one may end here. */
export const PHRASE_FLAGS_FILE = 'phrase-flags.u8';
/** dimension int8 per token and one float32 scale per token: start vectors, for exact scores. */
export const PHRASE_STARTS_FILE = 'phrase-starts.i8';
export const PHRASE_START_SCALES_FILE = 'phrase-start-scales.f32';
/** The same for end vectors. */
export const PHRASE_ENDS_FILE = 'phrase-ends.i8';
export const PHRASE_END_SCALES_FILE = 'phrase-end-scales.f32';

export const PHRASE_STORE_FILES: readonly string[] = Object.freeze([
  PHRASE_META_FILE,
  PHRASE_START_INDEX_FILE,
  PHRASE_START_ROWS_FILE,
  PHRASE_DOC_OFFSETS_FILE,
  PHRASE_CHARS_FILE,
  PHRASE_FLAGS_FILE,
  PHRASE_STARTS_FILE,
  PHRASE_START_SCALES_FILE,
  PHRASE_ENDS_FILE,
  PHRASE_END_SCALES_FILE,
]);

export const CAN_START = 1;
export const CAN_END = 2;

export const PHRASE_STORE_FORMAT = 'edgesearch-phrase-store';
export const PHRASE_STORE_FORMAT_VERSION = 1;

export const PhraseStoreMeta = z.object({
  format: z.literal(PHRASE_STORE_FORMAT),
  formatVersion: z.literal(PHRASE_STORE_FORMAT_VERSION),
  dimension: z.number().int().positive().max(65536),
  maxPhraseTokens: z.number().int().positive().max(128),
  docs: z.number().int().nonnegative().max(0xfffffffe),
  tokens: z.number().int().nonnegative().max(0xffffffff),
  /** Tokens in the start index (those a phrase may start at, filter passed). */
  startable: z.number().int().nonnegative().max(0xffffffff),
  /** The start index's faiss factory key. */
  factoryKey: z.string().min(1),
  /** Start / end likelihood below which a token was left out of the index (absent: no filter). */
  filterThreshold: z.number().optional(),
});
export type PhraseStoreMeta = z.infer<typeof PhraseStoreMeta>;

/** A phrase store file that is missing, malformed, or disagrees with phrase.json. */
export class PhraseStoreError extends Error {
  override readonly name = 'PhraseStoreError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(file === undefined ? message : `${file}: ${message}`);
  }
}

export const PHRASE_FILES: ArrayFiles = { metaFile: PHRASE_META_FILE, error: (message, path) => new PhraseStoreError(message, path) };

export async function readPhraseMeta(dir: string): Promise<PhraseStoreMeta> {
  const path = join(dir, PHRASE_META_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new PhraseStoreError(`cannot read as JSON (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, path);
  }
  const parsed = PhraseStoreMeta.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PhraseStoreError(`field ${issue.path.join('.') || '(root)'}: ${issue.message}`, path);
  }
  return parsed.data;
}
