import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileChecksum } from './checksum.ts';

export interface Passage {
  id: string;
  title: string;
  text: string;
}

export const PASSAGE_DATA_FILE = 'passages.bin';
export const PASSAGE_OFFSETS_FILE = 'passages.idx';

/** Read-only, and never through a symlink: the data file stays open for the life of the store (O_NOFOLLOW is 0 where the platform lacks it). */
const READ_NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/**
 * Appends passages as JSON records to `passages.bin` and their start offsets to
 * `passages.idx` (little-endian float64: exact up to 2^53 bytes). The offsets stay in a
 * growable typed array, never one JS object per passage.
 */
export class PassageStoreWriter {
  private offsets = new Float64Array(1024);
  private count = 0;
  private position = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  private constructor(
    private readonly dir: string,
    private readonly data: FileHandle,
  ) {}

  static async create(dir: string): Promise<PassageStoreWriter> {
    return new PassageStoreWriter(dir, await open(join(dir, PASSAGE_DATA_FILE), 'w'));
  }

  get size(): number {
    return this.count;
  }

  async append(passage: Passage): Promise<number> {
    const bytes = Buffer.from(JSON.stringify([passage.id, passage.title, passage.text]), 'utf8');
    if (this.count + 1 >= this.offsets.length) {
      const grown = new Float64Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    this.offsets[this.count] = this.position;
    this.count += 1;
    this.position += bytes.length;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= 1 << 20) await this.flush();
    return this.count - 1;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    await this.data.write(Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Writes the offsets (count + 1 entries: the last is the end of data) and closes. */
  async close(): Promise<string[]> {
    await this.flush();
    await this.data.sync();
    await this.data.close();
    this.offsets[this.count] = this.position;
    const idx = await open(join(this.dir, PASSAGE_OFFSETS_FILE), 'w');
    try {
      const view = this.offsets.subarray(0, this.count + 1);
      await idx.write(Buffer.from(view.buffer, view.byteOffset, view.byteLength));
      await idx.sync();
    } finally {
      await idx.close();
    }
    return [PASSAGE_DATA_FILE, PASSAGE_OFFSETS_FILE];
  }
}

/** Bytes of passage records kept in memory per store unless told otherwise. */
export const DEFAULT_PASSAGE_CACHE_BYTES = 16 * 1024 * 1024;

export interface PassageStoreOptions {
  /** Most bytes of passage records kept in memory (least recently used go first); 0: none. */
  cacheBytes?: number;
}

/**
 * Random access to passages by ordinal with positional reads: the corpus stays on disk, and
 * the passages most recently asked for stay in memory. Evidence is on every answer's path, and
 * a disk read is a trip through libuv's small thread pool, where it queues behind faiss searches.
 */
function parseRecord(buf: Buffer): Passage {
  const [id, title, text] = JSON.parse(buf.toString('utf8')) as [string, string, string];
  // Shared by every caller of a cached passage: nobody may edit it for the others.
  return Object.freeze({ id, title, text });
}

/** Offsets start at 0 and never decrease: every record is a whole, in-file byte range. */
function checkOffsets(offsets: Float64Array, path: string): void {
  if (offsets[0] !== 0) throw new Error(`${path}: corrupt passage offsets (the first is ${offsets[0]}, not 0)`);
  for (let i = 1; i < offsets.length; i++) {
    const o = offsets[i];
    if (!Number.isSafeInteger(o) || o < offsets[i - 1]) throw new Error(`${path}: corrupt passage offsets (entry ${i} is ${o} after ${offsets[i - 1]})`);
  }
}

export class PassageStore {
  /** Ordinal → its passage (or the read in progress), in least-recently-used order. */
  private readonly cache = new Map<number, { passage: Promise<Passage>; bytes: number }>();
  private cachedBytes = 0;

  private constructor(
    private readonly data: FileHandle,
    private readonly offsets: Float64Array,
    private readonly path: string,
    private readonly cacheBytes: number,
  ) {}

  static async open(dir: string, opts: PassageStoreOptions = {}): Promise<PassageStore> {
    const cacheBytes = opts.cacheBytes ?? DEFAULT_PASSAGE_CACHE_BYTES;
    if (!Number.isFinite(cacheBytes) || cacheBytes < 0) throw new RangeError(`cacheBytes must be a finite number >= 0, got ${cacheBytes}`);
    const idxPath = join(dir, PASSAGE_OFFSETS_FILE);
    const idx = await open(idxPath, READ_NO_FOLLOW);
    let offsets: Float64Array;
    try {
      const { size } = await idx.stat();
      if (size % 8 !== 0 || size < 8) throw new Error(`${idxPath}: corrupt passage offsets (${size} bytes)`);
      const buf = Buffer.alloc(size);
      await idx.read(buf, 0, size, 0);
      offsets = new Float64Array(buf.buffer, buf.byteOffset, size / 8);
    } finally {
      await idx.close();
    }
    checkOffsets(offsets, idxPath);
    const dataPath = join(dir, PASSAGE_DATA_FILE);
    const data = await open(dataPath, READ_NO_FOLLOW);
    const { size } = await data.stat();
    if (offsets[offsets.length - 1] !== size) {
      await data.close();
      throw new Error(`${dataPath}: passage data is ${size} bytes, offsets say ${offsets[offsets.length - 1]}`);
    }
    return new PassageStore(data, offsets, dataPath, cacheBytes);
  }

  get size(): number {
    return this.offsets.length - 1;
  }

  /** Device and inode of the open data file: re-verification checks whether the path still names it. */
  async identity(): Promise<{ dev: number; ino: number }> {
    const { dev, ino } = await this.data.stat();
    return { dev, ino };
  }

  /**
   * Checksum of the data file this store reads (through its open handle, whatever its path
   * names now), 1 MiB per read: what re-verification compares when the path was replaced.
   */
  async checksum(opts: { signal?: AbortSignal } = {}): Promise<FileChecksum> {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    let bytes = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      const { bytesRead } = await this.data.read(buf, 0, buf.length, bytes);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { bytes, sha256: hash.digest('hex') };
  }

  /** Bytes of passage records held in memory now. */
  get cachedSize(): number {
    return this.cachedBytes;
  }

  get(ordinal: number): Promise<Passage> {
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= this.size) {
      return Promise.reject(new RangeError(`passage ordinal ${ordinal} out of range [0, ${this.size})`));
    }
    const hit = this.cache.get(ordinal);
    if (hit) {
      this.cache.delete(ordinal); // re-insert: most recently used last
      this.cache.set(ordinal, hit);
      return hit.passage;
    }
    const bytes = this.offsets[ordinal + 1] - this.offsets[ordinal];
    const passage = this.read(ordinal);
    if (bytes > this.cacheBytes) return passage;
    // Concurrent asks for the same passage share one read; a failed read is not kept.
    const entry = { passage, bytes };
    this.cache.set(ordinal, entry);
    this.cachedBytes += bytes;
    passage.catch(() => {
      if (this.cache.get(ordinal) === entry) this.forget(ordinal);
    });
    for (const oldest of this.cache.keys()) {
      if (this.cachedBytes <= this.cacheBytes) break;
      this.forget(oldest);
    }
    return passage;
  }

  private forget(ordinal: number): void {
    const entry = this.cache.get(ordinal);
    if (!entry) return;
    this.cache.delete(ordinal);
    this.cachedBytes -= entry.bytes;
  }

  private async read(ordinal: number): Promise<Passage> {
    const start = this.offsets[ordinal];
    const length = this.offsets[ordinal + 1] - start;
    const buf = Buffer.alloc(length);
    await this.data.read(buf, 0, length, start);
    return parseRecord(buf);
  }

  /**
   * Every passage in ordinal order, for write-path operations that rewrite or map the whole
   * store: one sequential read of the file, past the cache that serves queries.
   */
  async readAll(): Promise<Passage[]> {
    const end = this.offsets[this.size];
    const buf = Buffer.alloc(end);
    await this.data.read(buf, 0, end, 0);
    return Array.from({ length: this.size }, (_, i) => parseRecord(buf.subarray(this.offsets[i], this.offsets[i + 1])));
  }

  async getMany(ordinals: ArrayLike<number>): Promise<Passage[]> {
    return Promise.all(Array.from(ordinals, (o) => this.get(o)));
  }

  async close(): Promise<void> {
    await this.data.close();
  }

  toString(): string {
    return `PassageStore(${this.path}, ${this.size})`;
  }
}
