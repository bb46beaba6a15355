// Write path of the token store: passages' token matrices, in ordinal order, compressed with a
// given codec. A store for `index delete`/`index add` starts from an existing one
// (TokenStoreWriter.fromStore): the kept passages are copied compressed, bit for bit, and new
// ones are encoded with the same codec — no retraining, no drift of the old passages.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenMatrix } from '../../encoders/index.ts';
import type { ResidualCodec } from '../codec/index.ts';
import {
  CENTROIDS_FILE,
  CODES_FILE,
  DOC_OFFSETS_FILE,
  IVF_DOCS_FILE,
  IVF_OFFSETS_FILE,
  RESIDUALS_FILE,
  STORE_FORMAT,
  STORE_FORMAT_VERSION,
  STORE_META_FILE,
  TOKEN_STORE_FILES,
  TokenStoreError,
  type StoreMeta,
  writeArray,
} from './files.ts';
import { buildIvf } from './ivf.ts';
import type { TokenStore } from './token-store.ts';

/** A Uint32Array that grows by doubling. */
class U32Builder {
  #data = new Uint32Array(1024);
  length = 0;
  push(v: number): void {
    this.#reserve(1);
    this.#data[this.length++] = v;
  }
  append(v: Uint32Array): void {
    this.#reserve(v.length);
    this.#data.set(v, this.length);
    this.length += v.length;
  }
  view(): Uint32Array {
    return this.#data.subarray(0, this.length);
  }
  #reserve(n: number): void {
    if (this.length + n <= this.#data.length) return;
    let cap = this.#data.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint32Array(cap);
    next.set(this.view());
    this.#data = next;
  }
}

/** Indented JSON with the long number arrays (cutoffs, weights) on one line each. */
function metaJson(meta: StoreMeta): string {
  return `${JSON.stringify(meta, null, 2).replace(/\[\s*(-?[0-9][^\][{}"]*?)\s*\]/g, (_, body: string) => `[${body.split(/,\s*/).join(', ')}]`)}\n`;
}

/** Residual bytes go to the file as they come (the largest part of the store), in 4 MiB writes. */
const RESIDUAL_CHUNK = 4 << 20;

export class TokenStoreWriter {
  readonly dir: string;
  readonly codec: ResidualCodec;
  /** Centroid ids of every token so far: the codes file and the IVF are built from them at finish. */
  readonly #codes = new U32Builder();
  readonly #offsets = new U32Builder();
  #fd: number | undefined;
  #pending: Uint8Array;
  #pendingBytes = 0;
  #state: 'open' | 'finished' | 'aborted' = 'open';

  /** Writes into `dir` (an existing, normally staging, directory); files appear as passages are added. */
  constructor(dir: string, codec: ResidualCodec) {
    this.dir = dir;
    this.codec = codec;
    this.#offsets.push(0);
    this.#pending = new Uint8Array(Math.max(RESIDUAL_CHUNK, codec.residualBytes));
  }

  /**
   * A writer whose first passages are `keep`'s passages of `source` (default: all, in order), in
   * that order: ordinal i of the new store is source ordinal keep[i]. They are copied compressed;
   * add() then appends new passages encoded with the source's codec.
   */
  static fromStore(source: TokenStore, dir: string, opts: { keep?: Uint32Array | readonly number[] } = {}): TokenStoreWriter {
    const w = new TokenStoreWriter(dir, source.codec);
    const { codes, residuals, docOffsets } = source.compressed();
    const rb = source.codec.residualBytes;
    const keep = opts.keep ?? Uint32Array.from({ length: source.docs }, (_, i) => i);
    for (let i = 0; i < keep.length; i++) {
      const d = keep[i];
      if (!Number.isInteger(d) || d < 0 || d >= source.docs) {
        w.abort();
        throw new TokenStoreError(`fromStore: keep[${i}] = ${d} is not an ordinal of the source store (${source.docs} passages)`);
      }
      const t0 = docOffsets[d];
      const t1 = docOffsets[d + 1];
      w.#append(codes.subarray(t0, t1), residuals.subarray(t0 * rb, t1 * rb));
    }
    return w;
  }

  /** Passages added so far (the next one gets this ordinal). */
  get docs(): number {
    return this.#offsets.length - 1;
  }

  get tokens(): number {
    return this.#codes.length;
  }

  /** Compresses and appends one passage's tokens (0 rows allowed); returns its ordinal. */
  add(tokens: TokenMatrix): number {
    if (tokens.dim !== this.codec.dim) {
      throw new TokenStoreError(`add: passage ${this.docs} has ${tokens.dim}-d token vectors, the codec is ${this.codec.dim}-d`);
    }
    if (!Number.isInteger(tokens.rows) || tokens.rows < 0 || tokens.data.length < tokens.rows * tokens.dim) {
      throw new TokenStoreError(`add: passage ${this.docs} claims ${tokens.rows} rows of ${tokens.dim} but holds ${tokens.data.length} floats`);
    }
    const enc = this.codec.encode(tokens.data.subarray(0, tokens.rows * tokens.dim));
    const ordinal = this.docs;
    this.#append(enc.codes, enc.residuals);
    return ordinal;
  }

  #append(codes: Uint32Array, residuals: Uint8Array): void {
    if (this.#state !== 'open') throw new TokenStoreError(`the writer is ${this.#state}`);
    if (this.tokens + codes.length > 0xffffffff) throw new TokenStoreError('a token store holds at most 2^32 − 1 tokens');
    this.#codes.append(codes);
    this.#offsets.push(this.#codes.length);
    this.#writeResiduals(residuals);
  }

  #writeResiduals(bytes: Uint8Array): void {
    let o = 0;
    while (o < bytes.length) {
      const n = Math.min(bytes.length - o, this.#pending.length - this.#pendingBytes);
      this.#pending.set(bytes.subarray(o, o + n), this.#pendingBytes);
      this.#pendingBytes += n;
      o += n;
      if (this.#pendingBytes === this.#pending.length) this.#flush();
    }
  }

  #flush(): void {
    this.#fd ??= openSync(join(this.dir, RESIDUALS_FILE), 'w');
    let o = 0;
    while (o < this.#pendingBytes) o += writeSync(this.#fd, this.#pending, o, this.#pendingBytes - o);
    this.#pendingBytes = 0;
  }

  /** Writes the remaining files; returns the names of all the store's files (TOKEN_STORE_FILES). */
  async finish(): Promise<string[]> {
    if (this.#state !== 'open') throw new TokenStoreError(`the writer is ${this.#state}`);
    this.#flush();
    fsyncSync(this.#fd!);
    closeSync(this.#fd!);
    this.#fd = undefined;
    this.#state = 'finished';
    const codec = this.codec;
    const codes = this.#codes.view();
    const offsets = this.#offsets.view();
    const ivf = buildIvf(codes, offsets, codec.centroidCount);
    await writeArray(join(this.dir, CENTROIDS_FILE), codec.centroids);
    await writeArray(join(this.dir, CODES_FILE), codes);
    await writeArray(join(this.dir, DOC_OFFSETS_FILE), offsets);
    await writeArray(join(this.dir, IVF_OFFSETS_FILE), ivf.ivfOffsets);
    await writeArray(join(this.dir, IVF_DOCS_FILE), ivf.ivfDocs);
    const meta: StoreMeta = {
      format: STORE_FORMAT,
      formatVersion: STORE_FORMAT_VERSION,
      docs: this.docs,
      tokens: this.tokens,
      ivfEntries: ivf.ivfDocs.length,
      codec: codec.params(),
    };
    await writeArray(join(this.dir, STORE_META_FILE), new TextEncoder().encode(metaJson(meta)));
    return [...TOKEN_STORE_FILES];
  }

  /** Gives up: closes the residual file (what was written stays; the caller drops the staging dir). */
  abort(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    if (this.#state === 'open') this.#state = 'aborted';
  }
}
