// The on-disk cache of token features: encoding SciFact's corpus with the frozen model takes
// minutes, training on it seconds, so a second run (other hyper-parameters, another --dim) must
// not encode again. Layout, one subdirectory per model (feature key):
//
//   <cache>/<key16>/<name>.json   {format, version, model, dim, dtype, bytes, items: [[textKey, rows], ...]}
//   <cache>/<key16>/<name>.f16    the items' rows one after another, float16 (host byte order:
//                                 little-endian on every machine this runs on)
//
// Items are keyed by a hash of their text (not by id or position), so a run with other queries,
// another mining depth or another split reuses whatever texts it shares with earlier runs. New
// items are appended: the data file first, then the index is replaced atomically (write + rename),
// so a run killed while encoding keeps everything appended before its last index write, and bytes
// past the index's `bytes` (a killed append) are cut off by the next append.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { createProgress } from '../../progress/index.ts';
import { fromHalf, toHalf, type FeatureStore } from './features.ts';

const FORMAT = 'edgesearch-colbert-features';
const VERSION = 1;

const CacheIndex = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  model: z.string(),
  dim: z.number().int().positive(),
  dtype: z.literal('f16'),
  /** Rows are L2-normalised before they are stored (see features.ts). */
  normalized: z.literal(true),
  bytes: z.number().int().nonnegative(),
  items: z.array(z.tuple([z.string(), z.number().int().nonnegative()])),
});
type CacheIndex = z.infer<typeof CacheIndex>;

/** A short stable key for a text (what the cache looks items up by). */
export function textKey(kind: string, ...parts: string[]): string {
  const h = createHash('sha256').update(kind);
  for (const p of parts) h.update('\u0000').update(p);
  return h.digest('hex').slice(0, 32);
}

export class FeatureCache {
  private readonly where = new Map<string, { offset: number; rows: number }>();
  private index: CacheIndex;

  private constructor(
    readonly dir: string,
    readonly name: string,
    index: CacheIndex,
  ) {
    this.index = index;
    let offset = 0;
    for (const [key, rows] of index.items) {
      this.where.set(key, { offset, rows });
      offset += rows * index.dim * 2;
    }
  }

  /**
   * The cache of `name` for the model identified by `model` (a hash: see colbert-train.ts) in
   * `root`. A missing, unreadable or foreign index starts empty (`reason` says why).
   */
  static async open(root: string, name: string, model: string, dim: number): Promise<{ cache: FeatureCache; reason?: string }> {
    const dir = join(root, model.slice(0, 16));
    await mkdir(dir, { recursive: true });
    const empty: CacheIndex = { format: FORMAT, version: VERSION, model, dim, dtype: 'f16', normalized: true, bytes: 0, items: [] };
    let reason: string | undefined;
    let index = empty;
    try {
      const parsed = CacheIndex.safeParse(JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')));
      if (!parsed.success) reason = 'its index is not one this version writes';
      else if (parsed.data.model !== model || parsed.data.dim !== dim) reason = 'it was made with another model';
      else {
        const size = await stat(join(dir, `${name}.f16`)).then((s) => s.size, () => -1);
        if (size < parsed.data.bytes) reason = `its data file holds ${size} bytes, the index says ${parsed.data.bytes}`;
        else index = parsed.data;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') reason = `its index cannot be read (${(err as Error).message})`;
    }
    return { cache: new FeatureCache(dir, name, index), reason };
  }

  get items(): number {
    return this.index.items.length;
  }

  get bytes(): number {
    return this.index.bytes;
  }

  has(key: string): boolean {
    return this.where.has(key);
  }

  /** Reads the items of `keys` (all present) into `store`, in order; returns their item indices there. */
  async read(keys: readonly string[], store: FeatureStore, onItem?: () => void): Promise<number[]> {
    const dim = this.index.dim;
    if (store.dim !== dim) throw new RangeError(`feature cache ${this.name}: ${dim}-d items, store is ${store.dim}-d`);
    const out: number[] = [];
    const handle = await open(join(this.dir, `${this.name}.f16`), 'r');
    try {
      let halves = new Uint16Array(0);
      let floats = new Float32Array(0);
      for (const key of keys) {
        const at = this.where.get(key);
        if (!at) throw new Error(`feature cache ${this.name}: no item ${key}`);
        const n = at.rows * dim;
        if (halves.length < n) {
          halves = new Uint16Array(n * 2);
          floats = new Float32Array(n * 2);
        }
        const bytes = new Uint8Array(halves.buffer, 0, n * 2);
        const { bytesRead } = await handle.read(bytes, 0, n * 2, at.offset);
        if (bytesRead !== n * 2) throw new Error(`feature cache ${join(this.dir, this.name)}.f16: short read at byte ${at.offset}`);
        fromHalf(halves.subarray(0, n), floats);
        out.push(store.add(floats, at.rows));
        onItem?.();
      }
    } finally {
      await handle.close();
    }
    return out;
  }

  /**
   * Appends items (rows × dim floats each, already rounded to float16 precision: see roundToHalf)
   * and publishes them. Items already present are skipped.
   */
  async append(items: readonly { key: string; data: Float32Array; rows: number }[]): Promise<void> {
    const seen = new Set<string>();
    const fresh = items.filter((it) => !this.where.has(it.key) && !seen.has(it.key) && seen.add(it.key));
    if (fresh.length === 0) return;
    const dim = this.index.dim;
    const dataPath = join(this.dir, `${this.name}.f16`);
    // Bytes past the index are a killed append: cut them off first.
    await writeFile(dataPath, new Uint8Array(0), { flag: 'a' });
    await truncate(dataPath, this.index.bytes);
    const handle = await open(dataPath, 'r+');
    let offset = this.index.bytes;
    try {
      for (const it of fresh) {
        const n = it.rows * dim;
        const half = toHalf(it.data.subarray(0, n));
        await handle.write(new Uint8Array(half.buffer, half.byteOffset, n * 2), 0, n * 2, offset);
        this.where.set(it.key, { offset, rows: it.rows });
        offset += n * 2;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.index = { ...this.index, bytes: offset, items: [...this.index.items, ...fresh.map((it) => [it.key, it.rows] as [string, number])] };
    const indexPath = join(this.dir, `${this.name}.json`);
    const tmp = `${indexPath}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(this.index));
    await rename(tmp, indexPath);
  }
}

/**
 * Encodes the items the cache lacks (an item whose key repeats is encoded once) in batches of 32
 * with progress, appending every few batches so that a killed run keeps what it encoded.
 * `encode(indices)` gives, for those items, the rows to store, already in the cache's form.
 */
export async function fillFeatureCache(o: {
  cache: FeatureCache;
  keys: readonly string[];
  encode: (indices: number[]) => Promise<{ data: Float32Array; rows: number }[]>;
  what: string;
  progress: boolean;
}): Promise<{ /** Distinct items read from the cache. */ reused: number; /** Distinct items encoded. */ encoded: number }> {
  const missing: number[] = [];
  const seen = new Set<string>();
  let reused = 0;
  o.keys.forEach((k, i) => {
    if (seen.has(k)) return;
    seen.add(k);
    if (o.cache.has(k)) reused++;
    else missing.push(i);
  });
  if (missing.length > 0) {
    const progress = createProgress({ label: `encoding ${o.what}`, total: missing.length, unit: o.what, enabled: o.progress });
    const BATCH = 32;
    let pending: { key: string; data: Float32Array; rows: number }[] = [];
    for (let s = 0; s < missing.length; s += BATCH) {
      const idx = missing.slice(s, s + BATCH);
      (await o.encode(idx)).forEach((m, j) => pending.push({ key: o.keys[idx[j]], data: m.data, rows: m.rows }));
      progress.tick(idx.length);
      if (pending.length >= 512) {
        await o.cache.append(pending);
        pending = [];
      }
    }
    await o.cache.append(pending);
    progress.finish();
  }
  return { reused, encoded: missing.length };
}
