import { copyFile, link, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const FAISS_FILE = 'index.faiss';
/** vector id → shard-local document ordinal (a document has one vector per window). */
export const VECTOR_DOCS_FILE = 'vector-docs.u32';
/**
 * The float vectors the codes were made from (n × d float32, row = vector id), kept when the
 * index is built with --keep-vectors: `index optimize` starts from them instead of from the
 * lossy reconstructions. Search never reads them.
 */
export const TARGETS_FILE = 'vectors.f32';

export async function writeU32(path: string, values: Uint32Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.write(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A file of 4-byte values, copied into an aligned buffer: Node's pooled Buffers may start at odd offsets. */
async function readWords(path: string): Promise<ArrayBuffer> {
  const buf = await readFile(path);
  if (buf.byteLength % 4 !== 0) throw new Error(`${path}: size ${buf.byteLength} is not a multiple of 4`);
  const out = new ArrayBuffer(buf.byteLength);
  new Uint8Array(out).set(buf);
  return out;
}

export async function readVectorDocs(dir: string): Promise<Uint32Array> {
  return new Uint32Array(await readWords(join(dir, VECTOR_DOCS_FILE)));
}

/** Float32 rows from a file. */
export async function readF32(path: string): Promise<Float32Array> {
  return new Float32Array(await readWords(path));
}

export async function writeF32(path: string, values: Float32Array): Promise<void> {
  await writeFile(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** An unchanged file in a new version: a hard link when the filesystem allows (shards are never modified in place), else a copy. */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}
