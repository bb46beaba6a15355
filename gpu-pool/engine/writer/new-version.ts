// The common frame of every maintenance operation (add, delete, optimize): a new index version
// built beside the output from the loaded source, shard by shard, then published atomically.
// The source is never written; shards an operation leaves alone are linked unchanged.
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  INDEX_MANIFEST_FILE,
  SHARD_MANIFEST_FILE,
  createStaging,
  exists,
  indexVersionOf,
  linkOrCopy,
  publishDirectory,
  removeStaleStaging,
  writeJson,
  type IndexManifest,
  type LoadedIndex,
  type LoadedShard,
  type ShardManifest,
} from '../shard/index.ts';

export interface NewVersionOptions {
  source: LoadedIndex;
  out: string;
  force?: boolean;
  /** Writes shard `s` into `dir` and returns its manifest, or undefined to keep it unchanged. */
  writeShard: (shard: LoadedShard, dir: string, s: number) => Promise<ShardManifest | undefined>;
  /** Index-level fields of the new version, asked for once every shard is written (counts are summed from the shards). */
  patch?: () => Partial<IndexManifest>;
}

/**
 * Refuses an output that is the source (indexes are never modified in place) or that exists
 * without `force`. publishNewVersion checks too; long operations call it before their work.
 */
export async function checkNewVersionOut(sourceDir: string, out: string, force = false): Promise<void> {
  const target = resolve(out);
  if (target === resolve(sourceDir)) throw new Error(`--out ${out} is the source index: indexes are never modified in place; write a new version and swap the pool to it`);
  if (!force && (await exists(target))) throw new Error(`output directory already exists: ${target} (choose a new directory or pass --force)`);
}

export async function publishNewVersion(opts: NewVersionOptions): Promise<IndexManifest> {
  const out = resolve(opts.out);
  await checkNewVersionOut(opts.source.dir, out, opts.force);
  await removeStaleStaging(out);
  const staging = await createStaging(out);
  try {
    const entries: IndexManifest['shards'] = [];
    for (let s = 0; s < opts.source.shards.length; s++) {
      const shard = opts.source.shards[s];
      const entry = opts.source.manifest.shards[s];
      const dir = join(staging, entry.dir);
      await mkdir(dir);
      const written = await opts.writeShard(shard, dir, s);
      if (!written) {
        for (const name of [SHARD_MANIFEST_FILE, ...Object.keys(shard.manifest.files)]) await linkOrCopy(join(shard.dir, name), join(dir, name));
        entries.push(entry);
      } else {
        await writeJson(join(dir, SHARD_MANIFEST_FILE), written);
        entries.push({ dir: entry.dir, version: written.version, docs: written.counts.docs, vectors: written.counts.vectors });
      }
    }
    const fields: IndexManifest = {
      ...opts.source.manifest,
      optimization: undefined,
      ...opts.patch?.(),
      // The pool swaps only forward along this: from the source to this version, never back.
      lineage: [...(opts.source.manifest.lineage ?? []), opts.source.manifest.version],
      createdAt: new Date().toISOString(),
      counts: { docs: entries.reduce((n, e) => n + e.docs, 0), vectors: entries.reduce((n, e) => n + e.vectors, 0) },
      shards: entries,
    };
    const manifest: IndexManifest = { ...fields, version: indexVersionOf(entries, fields.fusion) };
    await writeJson(join(staging, INDEX_MANIFEST_FILE), manifest);
    await publishDirectory(staging, out, { replace: opts.force });
    return manifest;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}
