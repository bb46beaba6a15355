// Write path of the phrase store: passages in ordinal order, then finish() writes the files of
// one shard (the caller checksums and publishes the directory).
import { join } from 'node:path';
import type { FaissIndex } from '../../index/index.ts';
import { writeArray } from '../../typed-files/index.ts';
import type { PassagePhrases } from '../model/index.ts';
import {
  CAN_END,
  CAN_START,
  PHRASE_CHARS_FILE,
  PHRASE_DOC_OFFSETS_FILE,
  PHRASE_END_SCALES_FILE,
  PHRASE_ENDS_FILE,
  PHRASE_FLAGS_FILE,
  PHRASE_META_FILE,
  PHRASE_START_INDEX_FILE,
  PHRASE_START_ROWS_FILE,
  PHRASE_START_SCALES_FILE,
  PHRASE_STARTS_FILE,
  PHRASE_STORE_FILES,
  PHRASE_STORE_FORMAT,
  PHRASE_STORE_FORMAT_VERSION,
  PhraseStoreError,
  type PhraseStoreMeta,
} from './files.ts';
import { quantizeRows } from './int8-rows.ts';

export interface PhraseStoreWriterOptions {
  dimension: number;
  maxPhraseTokens: number;
  /** An empty faiss index for the start vectors (trained, when its type needs training); the writer disposes it. */
  startIndex: FaissIndex;
  factoryKey: string;
  /** Tokens whose `filter` score is below this are not indexed as starts (see PassagePhrases.filter). */
  filterThreshold?: number;
}

/** One passage's phrase data; `filter` (per token, optional) is the start likelihood the threshold applies to. */
export type PhrasePassage = PassagePhrases & { filter?: Float32Array };

export class PhraseStoreWriter {
  readonly #dir: string;
  readonly #o: PhraseStoreWriterOptions;
  #passages: PhrasePassage[] = [];
  #tokens = 0;
  #done = false;

  constructor(dir: string, opts: PhraseStoreWriterOptions) {
    if (opts.startIndex.dimension !== opts.dimension)
      throw new PhraseStoreError(`the start index is ${opts.startIndex.dimension}-d, the phrase vectors ${opts.dimension}-d`);
    this.#dir = dir;
    this.#o = opts;
  }

  get docs(): number {
    return this.#passages.length;
  }

  /** Appends the next passage (ordinal = passages added so far). */
  add(p: PhrasePassage): void {
    if (this.#done) throw new PhraseStoreError('add() after finish()');
    const d = this.#o.dimension;
    const n = p.tokens;
    const b = p.boundaries;
    if (p.starts.length !== n * d || p.ends.length !== n * d)
      throw new PhraseStoreError(`passage ${this.docs}: ${n} tokens need ${n * d} start and end floats, got ${p.starts.length} and ${p.ends.length}`);
    if (b.charStart.length !== n || b.charEnd.length !== n || b.canStart.length !== n || b.canEnd.length !== n || (p.filter && p.filter.length !== n))
      throw new PhraseStoreError(`passage ${this.docs}: boundaries do not cover its ${n} tokens`);
    this.#passages.push(p);
    this.#tokens += n;
  }

  /** Writes every file; returns their names. */
  async finish(): Promise<string[]> {
    if (this.#done) throw new PhraseStoreError('finish() called twice');
    this.#done = true;
    const { dimension: d, filterThreshold } = this.#o;
    const index = this.#o.startIndex;
    try {
      const T = this.#tokens;
      const docOffsets = new Uint32Array(this.#passages.length + 1);
      const chars = new Uint32Array(2 * T);
      const flags = new Uint8Array(T);
      const starts = new Int8Array(T * d);
      const startScales = new Float32Array(T);
      const ends = new Int8Array(T * d);
      const endScales = new Float32Array(T);
      const startRows: number[] = [];
      // The index holds the float start vectors (exact scores come from the int8 rows), gathered in the same pass.
      const startable: Float32Array[] = [];
      let row = 0;
      this.#passages.forEach((p, j) => {
        docOffsets[j] = row;
        const b = p.boundaries;
        for (let t = 0; t < p.tokens; t++) {
          chars[2 * (row + t)] = b.charStart[t];
          chars[2 * (row + t) + 1] = b.charEnd[t];
          const start = b.canStart[t] === 1 && (filterThreshold === undefined || !p.filter || p.filter[t] >= filterThreshold);
          flags[row + t] = (start ? CAN_START : 0) | (b.canEnd[t] === 1 ? CAN_END : 0);
          if (start) {
            startRows.push(row + t);
            startable.push(p.starts.subarray(t * d, (t + 1) * d));
          }
        }
        quantizeRows(p.starts, d, starts, startScales, row);
        quantizeRows(p.ends, d, ends, endScales, row);
        row += p.tokens;
      });
      docOffsets[this.#passages.length] = row;
      const vectors = new Float32Array(startRows.length * d);
      startable.forEach((v, i) => vectors.set(v, i * d));
      if (startRows.length > 0) await index.add(vectors);
      await index.writeFile(join(this.#dir, PHRASE_START_INDEX_FILE));
      const dir = this.#dir;
      await writeArray(join(dir, PHRASE_START_ROWS_FILE), Uint32Array.from(startRows));
      await writeArray(join(dir, PHRASE_DOC_OFFSETS_FILE), docOffsets);
      await writeArray(join(dir, PHRASE_CHARS_FILE), chars);
      await writeArray(join(dir, PHRASE_FLAGS_FILE), flags);
      await writeArray(join(dir, PHRASE_STARTS_FILE), starts);
      await writeArray(join(dir, PHRASE_START_SCALES_FILE), startScales);
      await writeArray(join(dir, PHRASE_ENDS_FILE), ends);
      await writeArray(join(dir, PHRASE_END_SCALES_FILE), endScales);
      const meta: PhraseStoreMeta = {
        format: PHRASE_STORE_FORMAT,
        formatVersion: PHRASE_STORE_FORMAT_VERSION,
        dimension: d,
        maxPhraseTokens: this.#o.maxPhraseTokens,
        docs: this.#passages.length,
        tokens: T,
        startable: startRows.length,
        factoryKey: this.#o.factoryKey,
        ...(filterThreshold !== undefined ? { filterThreshold } : {}),
      };
      await writeArray(join(dir, PHRASE_META_FILE), Buffer.from(`${JSON.stringify(meta, null, 2)}\n`));
      this.#passages = [];
      return [...PHRASE_STORE_FILES];
    } finally {
      index.dispose();
    }
  }

  /** Drops what was added and releases the index. */
  abort(): void {
    if (this.#done) return;
    this.#done = true;
    this.#passages = [];
    this.#o.startIndex.dispose();
  }
}
