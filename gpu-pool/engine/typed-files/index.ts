// Fixed-size arrays in files, as the per-method stores of a shard keep them (ColBERT's token
// store, the phrase store): read back with their size checked against what the store's meta file
// implies, and written with an fsync (the caller publishes the directory by renaming it).
// Little-endian on every platform we run on. No dependencies: the shard module loads the stores.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** How a store reports a bad file: its own error class, naming the file. */
export interface ArrayFiles {
  /** The meta file whose counts imply the sizes (named in size errors). */
  metaFile: string;
  error(message: string, path: string): Error;
}

export async function readBytes(files: ArrayFiles, dir: string, name: string): Promise<Buffer> {
  const path = join(dir, name);
  try {
    return await readFile(path);
  } catch (err) {
    throw files.error(`cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, path);
  }
}

/** The file's bytes, which must number exactly `bytes` (what the meta file implies). */
async function readSized(files: ArrayFiles, dir: string, name: string, bytes: number, what: string): Promise<Buffer> {
  const buf = await readBytes(files, dir, name);
  if (buf.byteLength !== bytes) {
    throw files.error(`size ${buf.byteLength} bytes, ${files.metaFile} implies ${bytes} (${what})${buf.byteLength < bytes ? ': truncated' : ''}`, join(dir, name));
  }
  return buf;
}

/** Words of a buffer: a view when it starts on a `size`-byte boundary, else an aligned copy. */
function aligned(buf: Buffer, size: number): { buffer: ArrayBuffer; offset: number; length: number } {
  if (buf.byteOffset % size === 0) return { buffer: buf.buffer as ArrayBuffer, offset: buf.byteOffset, length: buf.byteLength / size };
  const out = new ArrayBuffer(buf.byteLength);
  new Uint8Array(out).set(buf);
  return { buffer: out, offset: 0, length: buf.byteLength / size };
}

export async function readU32(files: ArrayFiles, dir: string, name: string, count: number, what: string): Promise<Uint32Array> {
  const w = aligned(await readSized(files, dir, name, count * 4, what), 4);
  return new Uint32Array(w.buffer, w.offset, w.length);
}

export async function readF32(files: ArrayFiles, dir: string, name: string, count: number, what: string): Promise<Float32Array> {
  const w = aligned(await readSized(files, dir, name, count * 4, what), 4);
  return new Float32Array(w.buffer, w.offset, w.length);
}

export async function readU8(files: ArrayFiles, dir: string, name: string, count: number, what: string): Promise<Uint8Array> {
  const buf = await readSized(files, dir, name, count, what);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export async function readI8(files: ArrayFiles, dir: string, name: string, count: number, what: string): Promise<Int8Array> {
  const buf = await readSized(files, dir, name, count, what);
  return new Int8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Writes a typed array's bytes and fsyncs. */
export async function writeArray(path: string, values: ArrayBufferView): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Offsets that start at 0, never decrease and end at `total` (else files.error naming the file). */
export function checkOffsets(files: ArrayFiles, off: Uint32Array, total: number, path: string, what: string, totalName: string): void {
  if (off[0] !== 0) throw files.error(`the first offset is ${off[0]}, not 0`, path);
  for (let i = 1; i < off.length; i++) {
    if (off[i] < off[i - 1]) throw files.error(`offsets decrease at ${what} ${i - 1} (${off[i - 1]} → ${off[i]})`, path);
  }
  if (off[off.length - 1] !== total) throw files.error(`the last offset is ${off[off.length - 1]}, ${files.metaFile} says ${totalName} = ${total}`, path);
}

/** Every value below `bound`. */
export function checkBelow(files: ArrayFiles, values: Uint32Array, bound: number, path: string, what: string, of: string): void {
  for (let i = 0; i < values.length; i++) {
    if (values[i] >= bound) throw files.error(`entry ${i} = ${values[i]} is not ${what} (${of})`, path);
  }
}
