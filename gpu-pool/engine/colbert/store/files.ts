// The token store's files in a shard directory, and reading them back checked.
import { join } from 'node:path';
import { z } from 'zod';
import { CodecParams } from '../codec/index.ts';
import {
  checkBelow as checkBelowOf,
  checkOffsets as checkOffsetsOf,
  readBytes,
  readF32 as readF32Of,
  readU32 as readU32Of,
  readU8 as readU8Of,
  writeArray,
  type ArrayFiles,
} from '../../typed-files/index.ts';

/** Codec parameters and counts (JSON). */
export const STORE_META_FILE = 'colbert.json';
/** K × dim float32: the codec's centroids. */
export const CENTROIDS_FILE = 'colbert-centroids.f32';
/** One u32 per token: its centroid id. */
export const CODES_FILE = 'colbert-codes.u32';
/** ceil(dim · bits / 8) bytes per token: the packed residual buckets. */
export const RESIDUALS_FILE = 'colbert-residuals.u8';
/** docs + 1 u32: passage j owns tokens [offsets[j], offsets[j+1]). */
export const DOC_OFFSETS_FILE = 'colbert-doc-offsets.u32';
/** K + 1 u32: centroid c's passages are ivf-docs[offsets[c] .. offsets[c+1]). */
export const IVF_OFFSETS_FILE = 'colbert-ivf-offsets.u32';
/** The passages (ordinals, ascending, each once) having a token at each centroid, concatenated. */
export const IVF_DOCS_FILE = 'colbert-ivf-docs.u32';

/** The file names a store writes (all of them, always), for the shard manifest and its checksums. */
export const TOKEN_STORE_FILES: readonly string[] = Object.freeze([
  STORE_META_FILE,
  CENTROIDS_FILE,
  CODES_FILE,
  RESIDUALS_FILE,
  DOC_OFFSETS_FILE,
  IVF_OFFSETS_FILE,
  IVF_DOCS_FILE,
]);

export const STORE_FORMAT = 'edgesearch-colbert-store';
export const STORE_FORMAT_VERSION = 1;

export const StoreMeta = z.object({
  format: z.literal(STORE_FORMAT),
  formatVersion: z.literal(STORE_FORMAT_VERSION),
  docs: z.number().int().nonnegative().max(0xfffffffe),
  tokens: z.number().int().nonnegative().max(0xffffffff),
  /** Length of the IVF passage lists together. */
  ivfEntries: z.number().int().nonnegative().max(0xffffffff),
  codec: CodecParams,
});
export type StoreMeta = z.infer<typeof StoreMeta>;

/** A token store file that is missing, malformed, or disagrees with colbert.json. */
export class TokenStoreError extends Error {
  override readonly name = 'TokenStoreError';
  constructor(
    message: string,
    /** The file at fault, when there is one. */
    readonly file?: string,
  ) {
    super(file === undefined ? message : `${file}: ${message}`);
  }
}

export async function readMeta(dir: string): Promise<StoreMeta> {
  const path = join(dir, STORE_META_FILE);
  const raw = (await readBytes(FILES, dir, STORE_META_FILE)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new TokenStoreError(`not valid JSON: ${(err as Error).message}`, path);
  }
  const parsed = StoreMeta.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TokenStoreError(`field ${issue.path.join('.') || '(root)'}: ${issue.message}`, path);
  }
  return parsed.data;
}

const FILES: ArrayFiles = { metaFile: STORE_META_FILE, error: (message, path) => new TokenStoreError(message, path) };

export const readU32 = (dir: string, name: string, count: number, what: string) => readU32Of(FILES, dir, name, count, what);
export const readF32 = (dir: string, name: string, count: number, what: string) => readF32Of(FILES, dir, name, count, what);
export const readU8 = (dir: string, name: string, count: number, what: string) => readU8Of(FILES, dir, name, count, what);
export const checkOffsets = (off: Uint32Array, total: number, path: string, what: string, totalName: string) => checkOffsetsOf(FILES, off, total, path, what, totalName);
export const checkBelow = (values: Uint32Array, bound: number, path: string, what: string, of: string) => checkBelowOf(FILES, values, bound, path, what, of);
export { writeArray };
