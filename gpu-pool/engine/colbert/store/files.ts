// The token store's files in a shard directory, and reading them back checked.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CodecParams } from '../codec/index.ts';

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

async function readBytes(dir: string, name: string): Promise<Buffer> {
  const path = join(dir, name);
  try {
    return await readFile(path);
  } catch (err) {
    throw new TokenStoreError(`cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, path);
  }
}

export async function readMeta(dir: string): Promise<StoreMeta> {
  const path = join(dir, STORE_META_FILE);
  const raw = (await readBytes(dir, STORE_META_FILE)).toString('utf8');
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

/** The file's bytes, which must number exactly `bytes` (what colbert.json implies). */
async function readSized(dir: string, name: string, bytes: number, what: string): Promise<Buffer> {
  const buf = await readBytes(dir, name);
  if (buf.byteLength !== bytes) {
    throw new TokenStoreError(
      `size ${buf.byteLength} bytes, ${STORE_META_FILE} implies ${bytes} (${what})${buf.byteLength < bytes ? ': truncated' : ''}`,
      join(dir, name),
    );
  }
  return buf;
}

/** 4-byte words of a buffer: a view when it starts on a 4-byte boundary, else an aligned copy. */
function words(buf: Buffer): { buffer: ArrayBuffer; offset: number; length: number } {
  if (buf.byteOffset % 4 === 0) return { buffer: buf.buffer as ArrayBuffer, offset: buf.byteOffset, length: buf.byteLength / 4 };
  const out = new ArrayBuffer(buf.byteLength);
  new Uint8Array(out).set(buf);
  return { buffer: out, offset: 0, length: buf.byteLength / 4 };
}

export async function readU32(dir: string, name: string, count: number, what: string): Promise<Uint32Array> {
  const w = words(await readSized(dir, name, count * 4, what));
  return new Uint32Array(w.buffer, w.offset, w.length);
}

export async function readF32(dir: string, name: string, count: number, what: string): Promise<Float32Array> {
  const w = words(await readSized(dir, name, count * 4, what));
  return new Float32Array(w.buffer, w.offset, w.length);
}

export async function readU8(dir: string, name: string, count: number, what: string): Promise<Uint8Array> {
  const buf = await readSized(dir, name, count, what);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Writes a typed array's bytes (little-endian on every platform we run on) and fsyncs: the
 * caller publishes the directory by renaming it. Own helper rather than the shard module's, which
 * will load token stores itself.
 */
export async function writeArray(path: string, values: Uint8Array | Uint32Array | Float32Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    await handle.sync();
  } finally {
    await handle.close();
  }
}
