import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface Passage {
  id: string;
  title: string;
  text: string;
}

export const PASSAGE_DATA_FILE = 'passages.bin';
export const PASSAGE_OFFSETS_FILE = 'passages.idx';

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

/** Random access to passages by ordinal with positional reads: the corpus stays on disk. */
export class PassageStore {
  private constructor(
    private readonly data: FileHandle,
    private readonly offsets: Float64Array,
    private readonly path: string,
  ) {}

  static async open(dir: string): Promise<PassageStore> {
    const idxPath = join(dir, PASSAGE_OFFSETS_FILE);
    const idx = await open(idxPath, 'r');
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
    const dataPath = join(dir, PASSAGE_DATA_FILE);
    const data = await open(dataPath, 'r');
    const { size } = await data.stat();
    if (offsets[offsets.length - 1] !== size) {
      await data.close();
      throw new Error(`${dataPath}: passage data is ${size} bytes, offsets say ${offsets[offsets.length - 1]}`);
    }
    return new PassageStore(data, offsets, dataPath);
  }

  get size(): number {
    return this.offsets.length - 1;
  }

  async get(ordinal: number): Promise<Passage> {
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= this.size) {
      throw new RangeError(`passage ordinal ${ordinal} out of range [0, ${this.size})`);
    }
    const start = this.offsets[ordinal];
    const length = this.offsets[ordinal + 1] - start;
    const buf = Buffer.alloc(length);
    await this.data.read(buf, 0, length, start);
    const [id, title, text] = JSON.parse(buf.toString('utf8')) as [string, string, string];
    return { id, title, text };
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
