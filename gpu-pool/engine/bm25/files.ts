import { open, readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ANALYZER_ID } from './analyze.ts';
import type { Postings } from './postings.ts';

/**
 * On-disk layout (all in the shard directory, names prefixed `bm25.` so they sit beside other
 * methods' files):
 *
 *   bm25.json     header: format, version, analyzer, counts (below)
 *   bm25.terms    the sorted terms, UTF-8, one per line (analyzed terms never contain a newline)
 *   bm25.offsets  Uint32 × (termCount + 1)
 *   bm25.docs     Uint32 × postingCount
 *   bm25.tfs      Uint16 × postingCount
 *   bm25.doclens  Uint32 × docCount
 *
 * Binary files are raw little-endian arrays, so loading is one read per file and no parsing.
 * Every size follows from the header's counts; a file of another size is reported as truncated
 * or corrupt instead of being searched.
 */
export const BM25_FORMAT = 'edgesearch-bm25';
export const BM25_VERSION = 1;
export const BM25_FILES = {
  header: 'bm25.json',
  terms: 'bm25.terms',
  offsets: 'bm25.offsets',
  docs: 'bm25.docs',
  tfs: 'bm25.tfs',
  docLengths: 'bm25.doclens',
} as const;

const Header = z.object({
  format: z.literal(BM25_FORMAT),
  version: z.literal(BM25_VERSION),
  analyzer: z.string(),
  byteOrder: z.literal('LE'),
  docCount: z.number().int().nonnegative(),
  termCount: z.number().int().nonnegative(),
  postingCount: z.number().int().nonnegative(),
  termBytes: z.number().int().nonnegative(),
});
type Header = z.infer<typeof Header>;

export class Bm25FormatError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'Bm25FormatError';
  }
}

function requireLittleEndian(): void {
  // Typed arrays use the host's byte order; every platform we run on is little-endian.
  if (endianness() !== 'LE') throw new Error('BM25 index files are little-endian; this host is big-endian');
}

export async function writePostings(dir: string, p: Postings): Promise<string[]> {
  requireLittleEndian();
  const terms = Buffer.from(p.terms.join('\n'), 'utf8');
  const header: Header = {
    format: BM25_FORMAT,
    version: BM25_VERSION,
    analyzer: ANALYZER_ID,
    byteOrder: 'LE',
    docCount: p.docLengths.length,
    termCount: p.terms.length,
    postingCount: p.docs.length,
    termBytes: terms.length,
  };
  const files: [string, Uint8Array][] = [
    [BM25_FILES.terms, terms],
    [BM25_FILES.offsets, bytesOf(p.offsets)],
    [BM25_FILES.docs, bytesOf(p.docs)],
    [BM25_FILES.tfs, bytesOf(p.tfs)],
    [BM25_FILES.docLengths, bytesOf(p.docLengths)],
    // The header last: a directory with a header has all the files it describes.
    [BM25_FILES.header, Buffer.from(JSON.stringify(header, null, 2) + '\n')],
  ];
  for (const [name, data] of files) await writeSynced(join(dir, name), data);
  return files.map(([name]) => name);
}

export async function readPostings(dir: string): Promise<Postings> {
  requireLittleEndian();
  const headerFile = join(dir, BM25_FILES.header);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(headerFile, 'utf8'));
  } catch (err) {
    throw new Bm25FormatError(`cannot read BM25 header: ${(err as Error).message}`, headerFile);
  }
  const parsed = Header.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Bm25FormatError(`not a BM25 header this version reads (${issue.path.join('.') || 'header'}: ${issue.message})`, headerFile);
  }
  const h = parsed.data;
  if (h.analyzer !== ANALYZER_ID) {
    throw new Bm25FormatError(`built with analyzer "${h.analyzer}", this code analyzes queries with "${ANALYZER_ID}": rebuild the index`, headerFile);
  }

  const termsBytes = await readSized(join(dir, BM25_FILES.terms), h.termBytes);
  const offsets = new Uint32Array(arrayBuffer(await readSized(join(dir, BM25_FILES.offsets), (h.termCount + 1) * 4)));
  const docs = new Uint32Array(arrayBuffer(await readSized(join(dir, BM25_FILES.docs), h.postingCount * 4)));
  const tfs = new Uint16Array(arrayBuffer(await readSized(join(dir, BM25_FILES.tfs), h.postingCount * 2)));
  const docLengths = new Uint32Array(arrayBuffer(await readSized(join(dir, BM25_FILES.docLengths), h.docCount * 4)));

  const terms = h.termCount === 0 ? [] : new TextDecoder('utf-8', { fatal: true }).decode(termsBytes).split('\n');
  const termsFile = join(dir, BM25_FILES.terms);
  if (terms.length !== h.termCount) throw new Bm25FormatError(`${terms.length} terms, header says ${h.termCount}`, termsFile);
  for (let t = 1; t < terms.length; t++) {
    if (!(terms[t - 1] < terms[t])) throw new Bm25FormatError(`terms not strictly sorted at term ${t}`, termsFile);
  }
  // Structural checks, so search never indexes outside its arrays.
  const offsetsFile = join(dir, BM25_FILES.offsets);
  if (offsets[0] !== 0 || offsets[h.termCount] !== h.postingCount) throw new Bm25FormatError('offsets do not span the postings', offsetsFile);
  for (let t = 0; t < h.termCount; t++) {
    if (offsets[t + 1] < offsets[t]) throw new Bm25FormatError(`offsets decrease at term ${t}`, offsetsFile);
  }
  for (let p = 0; p < h.postingCount; p++) {
    if (docs[p] >= h.docCount) throw new Bm25FormatError(`posting ${p} names document ${docs[p]} of ${h.docCount}`, join(dir, BM25_FILES.docs));
  }
  return { terms, offsets, docs, tfs, docLengths };
}

async function readSized(file: string, expected: number): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw new Bm25FormatError(`cannot read: ${(err as Error).message}`, file);
  }
  if (data.length !== expected) {
    const what = data.length < expected ? 'truncated' : 'longer than expected';
    throw new Bm25FormatError(`${what}: ${data.length} bytes, the header implies ${expected}`, file);
  }
  return data;
}

/** The bytes as a standalone, aligned ArrayBuffer (Buffers may be slices of a shared pool). */
function arrayBuffer(data: Buffer): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data.buffer as ArrayBuffer;
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}

function bytesOf(a: Uint32Array | Uint16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function writeSynced(path: string, data: Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
