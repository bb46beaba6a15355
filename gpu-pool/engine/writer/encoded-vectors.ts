import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The output of the encode stage: one float32 row per document window, and for each row
 * the global ordinal of its document (position in the corpus stream).
 */
export const VECTORS_FILE = 'vectors.f32';
export const WINDOW_DOCS_FILE = 'window-docs.u32';

export interface EncodedVectors {
  dimension: number;
  vectors: Float32Array;
  windowDocs: Uint32Array;
}

async function readAligned(path: string): Promise<ArrayBuffer> {
  const buf = await readFile(path);
  const out = new ArrayBuffer(buf.byteLength);
  new Uint8Array(out).set(buf);
  return out;
}

export async function readEncoded(dir: string, dimension: number, windows: number): Promise<EncodedVectors> {
  const vpath = join(dir, VECTORS_FILE);
  const dpath = join(dir, WINDOW_DOCS_FILE);
  const [vs, ds] = [await stat(vpath), await stat(dpath)];
  if (vs.size < windows * dimension * 4 || ds.size < windows * 4) {
    throw new Error(`${dir}: encoded vectors are shorter than the checkpoint says (${windows} windows)`);
  }
  const vectors = new Float32Array(await readAligned(vpath), 0, windows * dimension);
  const windowDocs = new Uint32Array(await readAligned(dpath), 0, windows);
  return { dimension, vectors, windowDocs };
}

/** Append-only writer whose files can be cut back to the last checkpoint after a crash. */
export class EncodedWriter {
  private constructor(
    private readonly vectors: Awaited<ReturnType<typeof open>>,
    private readonly docs: Awaited<ReturnType<typeof open>>,
    private readonly dimension: number,
    private windows: number,
  ) {}

  static async open(dir: string, dimension: number, windows: number): Promise<EncodedWriter> {
    const vectors = await open(join(dir, VECTORS_FILE), 'a+');
    const docs = await open(join(dir, WINDOW_DOCS_FILE), 'a+');
    // Anything past the checkpoint was written by a run that died before recording it.
    await vectors.truncate(windows * dimension * 4);
    await docs.truncate(windows * 4);
    return new EncodedWriter(vectors, docs, dimension, windows);
  }

  get count(): number {
    return this.windows;
  }

  async append(vectors: Float32Array, windowDocs: Uint32Array): Promise<void> {
    if (vectors.length !== windowDocs.length * this.dimension) throw new Error('encoded rows and window docs disagree');
    await this.vectors.write(Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength));
    await this.docs.write(Buffer.from(windowDocs.buffer, windowDocs.byteOffset, windowDocs.byteLength));
    this.windows += windowDocs.length;
  }

  /** Make appended rows durable before the checkpoint that counts them is written. */
  async sync(): Promise<void> {
    await this.vectors.sync();
    await this.docs.sync();
  }

  async close(): Promise<void> {
    await this.vectors.close();
    await this.docs.close();
  }
}
