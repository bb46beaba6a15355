// Read path of the token store: open a shard's compressed token vectors, generate candidates
// PLAID-style and score them exactly, all natively (gpu-pool/engine/index/residual.ts).
import type { TokenMatrix } from '../../encoders/index.ts';
import { maxSimResidual, plaidCandidates, type CentroidPassages, type ResidualTokens } from '../../index/index.ts';
import { CodecError, ResidualCodec } from '../codec/index.ts';
import { join } from 'node:path';
import {
  CENTROIDS_FILE,
  CODES_FILE,
  DOC_OFFSETS_FILE,
  IVF_DOCS_FILE,
  IVF_OFFSETS_FILE,
  RESIDUALS_FILE,
  STORE_META_FILE,
  TokenStoreError,
  checkBelow,
  checkOffsets,
  readF32,
  readMeta,
  readU32,
  readU8,
} from './files.ts';

export interface CandidateOptions {
  /** Centroids probed per query token (default DEFAULT_NPROBE). */
  nprobe?: number;
  /** Candidates returned, best approximate score first (default DEFAULT_LIMIT). */
  limit?: number;
  /**
   * PLAID's centroid pruning before the full centroid interaction (see plaidCandidates in
   * gpu-pool/engine/index): worth it on large shards, where the probed lists unite to tens of
   * thousands of passages. Its scale depends on the model's vectors (PLAID: 0.4–0.5 for
   * ColBERTv2), so there is no default.
   */
  threshold?: number;
  /** Passages the pruned pass keeps (default 4 × limit, as PLAID's ndocs / 4). */
  pruneKeep?: number;
}

/**
 * Recall of the exact MaxSim top 10 with these defaults (store.test.ts, and a one-off check on
 * use-lite token vectors): clustered synthetic 1.00; SciFact (400 docs, 90k 512-d tokens, 2 bits)
 * 0.995 (0.94 with limit 64); uniform random tokens, the worst case, 0.73 (limit 256 of 600).
 * PLAID's own defaults for k = 10 are 1 cell per query token and 256 stage-2 candidates; 4 cells
 * make the union robust to query tokens that fall between centroids, at a cost on large shards
 * (50k passages × 100 tokens, K = 16384, 32 query tokens: 3.5 ms with nprobe 1, 9 ms with 4;
 * `threshold` pruning brings the latter to 6 ms).
 */
export const DEFAULT_NPROBE = 4;
export const DEFAULT_LIMIT = 256;

export class TokenStore {
  readonly dir: string;
  readonly codec: ResidualCodec;
  readonly docs: number;
  readonly tokens: number;
  #tokens: ResidualTokens | undefined;
  #ivf: CentroidPassages | undefined;

  private constructor(dir: string, codec: ResidualCodec, tokens: ResidualTokens, ivf: CentroidPassages) {
    this.dir = dir;
    this.codec = codec;
    this.docs = tokens.docOffsets.length - 1;
    this.tokens = tokens.codes.length;
    this.#tokens = tokens;
    this.#ivf = ivf;
  }

  /**
   * Reads a store from `dir` and checks it against colbert.json: every file's size, offsets that
   * start at 0, never decrease and end at the token count, codes below K, IVF entries that are
   * passage ordinals. Content corruption beyond that is the shard checksums' job.
   * @throws TokenStoreError naming the file at fault.
   */
  static async open(dir: string): Promise<TokenStore> {
    const meta = await readMeta(dir);
    const metaPath = join(dir, STORE_META_FILE);
    const k = meta.codec.centroids;
    const dim = meta.codec.dim;
    const centroids = await readF32(dir, CENTROIDS_FILE, k * dim, `${k} centroids × ${dim} float32`);
    let codec: ResidualCodec;
    try {
      codec = ResidualCodec.fromParams(meta.codec, centroids);
    } catch (err) {
      if (err instanceof CodecError) throw new TokenStoreError(`codec: ${err.message}`, metaPath);
      throw err;
    }
    const codes = await readU32(dir, CODES_FILE, meta.tokens, `${meta.tokens} tokens × u32`);
    const residuals = await readU8(dir, RESIDUALS_FILE, meta.tokens * codec.residualBytes, `${meta.tokens} tokens × ${codec.residualBytes} bytes`);
    const docOffsets = await readU32(dir, DOC_OFFSETS_FILE, meta.docs + 1, `${meta.docs} passages + 1 × u32`);
    const ivfOffsets = await readU32(dir, IVF_OFFSETS_FILE, k + 1, `${k} centroids + 1 × u32`);
    const ivfDocs = await readU32(dir, IVF_DOCS_FILE, meta.ivfEntries, `${meta.ivfEntries} ivfEntries × u32`);

    checkOffsets(docOffsets, meta.tokens, join(dir, DOC_OFFSETS_FILE), 'passage', 'tokens');
    checkOffsets(ivfOffsets, meta.ivfEntries, join(dir, IVF_OFFSETS_FILE), 'centroid', 'ivfEntries');
    checkBelow(codes, k, join(dir, CODES_FILE), 'a centroid id', `${k} centroids`);
    checkBelow(ivfDocs, meta.docs, join(dir, IVF_DOCS_FILE), 'a passage ordinal', `${meta.docs} passages`);
    return new TokenStore(dir, codec, { codes, residuals, docOffsets }, { ivfOffsets, ivfDocs });
  }

  get dim(): number {
    return this.codec.dim;
  }

  /** Stored bytes per token: centroid id (4) + packed residual (ceil(dim · bits / 8)); offsets and IVF come on top. */
  get bytesPerToken(): number {
    return this.codec.bytesPerToken;
  }

  /** Tokens of one passage. */
  tokenCount(ordinal: number): number {
    const t = this.#open();
    this.#checkOrdinal(ordinal);
    return t.docOffsets[ordinal + 1] - t.docOffsets[ordinal];
  }

  /** Candidate passages for a query (see candidatesScored), best approximate score first. */
  candidates(query: TokenMatrix, opts: CandidateOptions = {}): Uint32Array {
    return this.candidatesScored(query, opts).ordinals;
  }

  /**
   * PLAID-style: the `nprobe` best centroids of each query token, the union of their passages,
   * ranked by centroid-only MaxSim (each passage token replaced by its centroid); the `limit`
   * best with those approximate scores (ties: lower ordinal first). Passages without tokens never
   * appear (no centroid lists them).
   */
  candidatesScored(query: TokenMatrix, opts: CandidateOptions = {}): { ordinals: Uint32Array; scores: Float32Array } {
    const t = this.#open();
    const nprobe = opts.nprobe ?? DEFAULT_NPROBE;
    const limit = opts.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(nprobe) || nprobe < 1) throw new TokenStoreError(`candidates: nprobe must be an integer ≥ 1, got ${nprobe}`);
    if (!Number.isInteger(limit) || limit < 0) throw new TokenStoreError(`candidates: limit must be an integer ≥ 0, got ${limit}`);
    if (opts.threshold !== undefined && !Number.isFinite(opts.threshold)) throw new TokenStoreError(`candidates: threshold must be a finite number, got ${opts.threshold}`);
    if (opts.pruneKeep !== undefined && (!Number.isInteger(opts.pruneKeep) || opts.pruneKeep < 0)) {
      throw new TokenStoreError(`candidates: pruneKeep must be an integer ≥ 0, got ${opts.pruneKeep}`);
    }
    return plaidCandidates(this.#queryData('candidates', query), this.codec, t, this.#ivf!, {
      nprobe,
      limit,
      threshold: opts.threshold,
      pruneKeep: opts.pruneKeep,
    });
  }

  /** Exact MaxSim of the query against these passages' decompressed tokens (native; 0 for a passage without tokens). */
  maxSim(query: TokenMatrix, ordinals: Uint32Array): Float32Array {
    const t = this.#open();
    if (!(ordinals instanceof Uint32Array)) throw new TokenStoreError('maxSim: ordinals must be a Uint32Array');
    return maxSimResidual(this.#queryData('maxSim', query), this.codec, t, ordinals);
  }

  /** Decompressed (unit-length) tokens of one passage. */
  tokensOf(ordinal: number): TokenMatrix {
    const t = this.#open();
    this.#checkOrdinal(ordinal);
    const t0 = t.docOffsets[ordinal];
    const t1 = t.docOffsets[ordinal + 1];
    const rb = this.codec.residualBytes;
    const data = this.codec.decode(t.codes.subarray(t0, t1), t.residuals.subarray(t0 * rb, t1 * rb));
    return { rows: t1 - t0, dim: this.dim, data };
  }

  /** The compressed arrays themselves (read-only by convention), for TokenStoreWriter.fromStore and tools. */
  compressed(): Readonly<ResidualTokens> {
    return this.#open();
  }

  /** Drops the arrays; later calls throw. */
  async close(): Promise<void> {
    this.#tokens = undefined;
    this.#ivf = undefined;
  }

  #open(): ResidualTokens {
    if (!this.#tokens) throw new TokenStoreError(`the token store ${this.dir} is closed`);
    return this.#tokens;
  }

  #checkOrdinal(ordinal: number): void {
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= this.docs) {
      throw new TokenStoreError(`ordinal ${ordinal} is out of range (${this.docs} passages)`);
    }
  }

  #queryData(op: string, q: TokenMatrix): Float32Array {
    if (q.dim !== this.dim) throw new TokenStoreError(`${op}: the query has ${q.dim}-d token vectors, the store holds ${this.dim}-d ones`);
    if (!Number.isInteger(q.rows) || q.rows < 0 || q.data.length < q.rows * q.dim) {
      throw new TokenStoreError(`${op}: the query claims ${q.rows} rows of ${q.dim} but holds ${q.data.length} floats`);
    }
    return q.data.length === q.rows * q.dim ? q.data : q.data.subarray(0, q.rows * q.dim);
  }
}

/** offsets[0] = 0, non-decreasing, last = total. */
