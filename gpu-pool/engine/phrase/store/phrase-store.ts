// Read path of the phrase store: the start index finds the query's best phrase starts (MIPS),
// then, as DensePhrases does, each start takes the best end within maxPhraseTokens in the same
// passage; score = start · q_start + end · q_end, both from the stored int8 rows (exact for
// every candidate, whatever the index approximates).
import { join } from 'node:path';
import { FaissIndex } from '../../index/index.ts';
import { checkBelow, checkOffsets, readF32, readI8, readU32, readU8 } from '../../typed-files/index.ts';
import type { PhraseQueryVectors } from '../model/index.ts';
import {
  CAN_END,
  CAN_START,
  PHRASE_CHARS_FILE,
  PHRASE_DOC_OFFSETS_FILE,
  PHRASE_END_SCALES_FILE,
  PHRASE_ENDS_FILE,
  PHRASE_FILES,
  PHRASE_FLAGS_FILE,
  PHRASE_START_INDEX_FILE,
  PHRASE_START_ROWS_FILE,
  PHRASE_START_SCALES_FILE,
  PHRASE_STARTS_FILE,
  PhraseStoreError,
  readPhraseMeta,
  type PhraseStoreMeta,
} from './files.ts';
import { addRow, dotRow } from './int8-rows.ts';

/** Phrase starts taken from the index per query (DensePhrases' top_k start candidates). */
export const DEFAULT_PHRASE_STARTS = 100;

export interface PhraseSearchOptions {
  /** Starts taken from the index (default DEFAULT_PHRASE_STARTS). */
  starts?: number;
  nprobe?: number;
  efSearch?: number;
}

/** One scored phrase: tokens [startRow, endRow] of passage `ordinal`, text [charStart, charEnd) of its passage. */
export interface PhraseCandidate {
  ordinal: number;
  startRow: number;
  endRow: number;
  charStart: number;
  charEnd: number;
  score: number;
  startScore: number;
  endScore: number;
}

/** One passage's tokens as passageTokens gives them (scores are 0 where the flag is off). */
export interface PassageTokens {
  /** Token row of index 0. */
  from: number;
  startScores: Float32Array;
  endScores: Float32Array;
  charStart: Uint32Array;
  charEnd: Uint32Array;
  /** CAN_START | CAN_END bits per token. */
  flags: Uint8Array;
  maxPhraseTokens: number;
}

/** Best first; ties: lower ordinal, earlier, shorter. */
export function comparePhrases(a: PhraseCandidate, b: PhraseCandidate): number {
  return b.score - a.score || a.ordinal - b.ordinal || a.charStart - b.charStart || a.charEnd - b.charEnd;
}

interface Arrays {
  startRows: Uint32Array;
  docOffsets: Uint32Array;
  chars: Uint32Array;
  flags: Uint8Array;
  starts: Int8Array;
  startScales: Float32Array;
  ends: Int8Array;
  endScales: Float32Array;
}

export class PhraseStore {
  readonly dir: string;
  readonly meta: PhraseStoreMeta;
  #index: FaissIndex | undefined;
  readonly #a: Arrays;

  private constructor(dir: string, meta: PhraseStoreMeta, index: FaissIndex, arrays: Arrays) {
    this.dir = dir;
    this.meta = meta;
    this.#index = index;
    this.#a = arrays;
  }

  /**
   * Reads a store and checks it against phrase.json: sizes, offsets, start rows that are token
   * rows flagged as starts, an index of the right dimension holding one vector per start row.
   * @throws PhraseStoreError naming the file at fault.
   */
  static async open(dir: string): Promise<PhraseStore> {
    const meta = await readPhraseMeta(dir);
    const { tokens: T, dimension: d, docs, startable } = meta;
    const f = PHRASE_FILES;
    const arrays: Arrays = {
      startRows: await readU32(f, dir, PHRASE_START_ROWS_FILE, startable, `${startable} startable tokens × u32`),
      docOffsets: await readU32(f, dir, PHRASE_DOC_OFFSETS_FILE, docs + 1, `${docs} passages + 1 × u32`),
      chars: await readU32(f, dir, PHRASE_CHARS_FILE, 2 * T, `${T} tokens × 2 u32`),
      flags: await readU8(f, dir, PHRASE_FLAGS_FILE, T, `${T} tokens × 1 byte`),
      starts: await readI8(f, dir, PHRASE_STARTS_FILE, T * d, `${T} tokens × ${d} int8`),
      startScales: await readF32(f, dir, PHRASE_START_SCALES_FILE, T, `${T} tokens × f32`),
      ends: await readI8(f, dir, PHRASE_ENDS_FILE, T * d, `${T} tokens × ${d} int8`),
      endScales: await readF32(f, dir, PHRASE_END_SCALES_FILE, T, `${T} tokens × f32`),
    };
    checkOffsets(f, arrays.docOffsets, T, join(dir, PHRASE_DOC_OFFSETS_FILE), 'passage', 'tokens');
    checkBelow(f, arrays.startRows, T, join(dir, PHRASE_START_ROWS_FILE), 'a token row', `${T} tokens`);
    for (let i = 0; i < startable; i++) {
      if (!(arrays.flags[arrays.startRows[i]] & CAN_START))
        throw new PhraseStoreError(`entry ${i} names token ${arrays.startRows[i]}, which is not flagged as a phrase start`, join(dir, PHRASE_START_ROWS_FILE));
    }
    const indexPath = join(dir, PHRASE_START_INDEX_FILE);
    const index = await FaissIndex.readFile(indexPath);
    if (index.dimension !== d || index.ntotal !== startable) {
      const got = `${index.ntotal} ${index.dimension}-d vectors`;
      index.dispose();
      throw new PhraseStoreError(`holds ${got}; phrase.json says ${startable} ${d}-d start vectors`, indexPath);
    }
    return new PhraseStore(dir, meta, index, arrays);
  }

  get docs(): number {
    return this.meta.docs;
  }

  get tokens(): number {
    return this.meta.tokens;
  }

  get dimension(): number {
    return this.meta.dimension;
  }

  /** Token rows [start, end) of passage `ordinal`. */
  passageRows(ordinal: number): [number, number] {
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= this.docs) throw new PhraseStoreError(`passage ${ordinal} is out of range (${this.docs} passages)`);
    return [this.#a.docOffsets[ordinal], this.#a.docOffsets[ordinal + 1]];
  }

  /** Whether a phrase may start at token `row` (and its start is in the index). */
  canStart(row: number): boolean {
    return (this.#a.flags[row] & CAN_START) !== 0;
  }

  /** The passage that owns token `row`. */
  ordinalOfRow(row: number): number {
    const off = this.#a.docOffsets;
    let lo = 0;
    let hi = off.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (off[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    // Empty passages share an offset with the next: the owner is the last passage starting at or before the row.
    while (lo + 1 < off.length - 1 && off[lo + 1] <= row) lo++;
    return lo;
  }

  /**
   * Every token of passage `ordinal` scored against the query: start and end scores, character
   * offsets and flags, index i of each array being token row `from + i`. What a reader of the
   * whole passage needs (phrase search reads its BM25 passages this way).
   */
  passageTokens(q: PhraseQueryVectors, ordinal: number): PassageTokens {
    const [from, to] = this.passageRows(ordinal);
    const a = this.#a;
    const n = to - from;
    const out: PassageTokens = {
      from,
      startScores: new Float32Array(n),
      endScores: new Float32Array(n),
      charStart: new Uint32Array(n),
      charEnd: new Uint32Array(n),
      flags: a.flags.subarray(from, to),
      maxPhraseTokens: this.meta.maxPhraseTokens,
    };
    for (let i = 0; i < n; i++) {
      const r = from + i;
      const f = a.flags[r];
      if (f & CAN_START) out.startScores[i] = dotRow(q.start, a.starts, a.startScales, r);
      if (f & CAN_END) out.endScores[i] = dotRow(q.end, a.ends, a.endScales, r);
      out.charStart[i] = a.chars[2 * r];
      out.charEnd[i] = a.chars[2 * r + 1];
    }
    return out;
  }

  /** v · (start vector of token `row`), or of its end vector: the scores phrase search adds up. */
  dotStart(v: Float32Array, row: number): number {
    return dotRow(v, this.#a.starts, this.#a.startScales, row);
  }

  dotEnd(v: Float32Array, row: number): number {
    return dotRow(v, this.#a.ends, this.#a.endScales, row);
  }

  /** out += c · (start vector of token `row`), as stored (query-side training's gradient). */
  addStart(row: number, c: number, out: Float32Array): void {
    addRow(this.#a.starts, this.#a.startScales, row, c, out);
  }

  addEnd(row: number, c: number, out: Float32Array): void {
    addRow(this.#a.ends, this.#a.endScales, row, c, out);
  }

  /** The best phrase starting at token `row` (its best end within maxPhraseTokens, same passage), or undefined when none may end there. */
  phraseAt(q: PhraseQueryVectors, row: number, ordinal = this.ordinalOfRow(row)): PhraseCandidate | undefined {
    const a = this.#a;
    const startScore = dotRow(q.start, a.starts, a.startScales, row);
    const last = Math.min(a.docOffsets[ordinal + 1], row + this.meta.maxPhraseTokens) - 1;
    let best = -1;
    let bestEnd = -Infinity;
    for (let j = row; j <= last; j++) {
      if (!(a.flags[j] & CAN_END)) continue;
      const e = dotRow(q.end, a.ends, a.endScales, j);
      if (e > bestEnd) {
        bestEnd = e;
        best = j;
      }
    }
    if (best < 0) return undefined;
    const charStart = a.chars[2 * row];
    return { ordinal, startRow: row, endRow: best, charStart, charEnd: a.chars[2 * best + 1], score: startScore + bestEnd, startScore, endScore: bestEnd };
  }

  /** The best phrases for each query (one per start found), best first. */
  async search(queries: PhraseQueryVectors[], opts: PhraseSearchOptions = {}): Promise<PhraseCandidate[][]> {
    const index = this.#open();
    const d = this.dimension;
    for (const q of queries)
      if (q.start.length !== d || q.end.length !== d)
        throw new PhraseStoreError(`query vectors are ${q.start.length}-d / ${q.end.length}-d, the phrase store's ${d}-d`);
    if (queries.length === 0) return [];
    if (this.meta.startable === 0) return queries.map(() => []);
    const k = Math.min(opts.starts ?? DEFAULT_PHRASE_STARTS, this.meta.startable);
    const batch = new Float32Array(queries.length * d);
    queries.forEach((q, i) => batch.set(q.start, i * d));
    const { labels } = await index.search(batch, k, { nprobe: opts.nprobe, efSearch: opts.efSearch });
    return queries.map((q, i) => {
      const out: PhraseCandidate[] = [];
      for (let r = 0; r < k; r++) {
        const label = labels[i * k + r];
        if (label < 0n) continue;
        const p = this.phraseAt(q, this.#a.startRows[Number(label)]);
        if (p) out.push(p);
      }
      return out.sort(comparePhrases);
    });
  }

  async close(): Promise<void> {
    this.#index?.dispose();
    this.#index = undefined;
  }

  #open(): FaissIndex {
    if (!this.#index) throw new PhraseStoreError(`the phrase store ${this.dir} is closed`);
    return this.#index;
  }
}
