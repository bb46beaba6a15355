// `edgesearch index push`: a published index version up to object storage, under
// `<prefix>/<version>/`. The local copy is verified first (a corrupted index is never
// uploaded); data files go up first, then each shard's manifest.json, then index.json, so a
// reader that finds a manifest finds every file it lists. Objects already there with the same
// sha256 are skipped, so an interrupted push is finished by running it again.
import { forEachConcurrently } from './concurrently.ts';
import { join, resolve } from 'node:path';
import {
  INDEX_MANIFEST_FILE,
  SHARD_MANIFEST_FILE,
  checkShardFiles,
  checksumFile,
  contentVersion,
  indexVersionOf,
  readIndexManifest,
  readShardManifest,
  verifyShardFiles,
} from '../shard/index.ts';
import { TransferError } from './errors.ts';
import { parseLocation } from './location.ts';
import { openSink, type RemoteOptions } from './open-location.ts';
import { TransferProgress, mib } from './progress.ts';
import type { Expected, Sink } from './remote.ts';

export interface PushOptions extends RemoteOptions {
  /** A published index directory. */
  index: string;
  /** s3://bucket/prefix or file:///dir: the version goes to `<to>/<version>/`. */
  to: string;
  /** Upload every file even when the destination already holds it. */
  force?: boolean;
  /** Files uploaded at once (default 4). */
  concurrency?: number;
  log?: (line: string) => void;
  progressIntervalMs?: number;
  /** Instead of the location's own (tests). */
  sink?: Sink;
}

export interface PushResult {
  version: string;
  /** The URL to pull it from. */
  url: string;
  files: number;
  bytes: number;
  uploaded: number;
  skipped: number;
  seconds: number;
}

export async function pushIndex(opts: PushOptions): Promise<PushResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loc = parseLocation(opts.to, { purpose: 'push' });
  const dir = resolve(opts.index);
  const index = await readIndexManifest(dir);
  const own = indexVersionOf(index.shards, index.fusion);
  if (own !== index.version) throw new TransferError(`${join(dir, INDEX_MANIFEST_FILE)}: version ${index.version} does not match its shards (${own})`);

  // The local copy must be whole and verified: a push publishes it for every node.
  log(`push: verifying ${dir} (index ${index.version}, ${index.shards.length} shard(s))`);
  const data: { key: string; path: string; expected: Expected }[] = [];
  const manifests: { key: string; path: string; expected: Expected }[] = [];
  for (const entry of index.shards) {
    const shardDir = join(dir, entry.dir);
    const manifest = await readShardManifest(shardDir);
    if (manifest.version !== entry.version) throw new TransferError(`${join(shardDir, SHARD_MANIFEST_FILE)}: version ${manifest.version}, index.json says ${entry.version}`);
    if (contentVersion(manifest.files) !== manifest.version) throw new TransferError(`${join(shardDir, SHARD_MANIFEST_FILE)}: version ${manifest.version} does not match its file checksums`);
    await checkShardFiles(shardDir, manifest);
    await verifyShardFiles(shardDir, manifest);
    for (const [name, expected] of Object.entries(manifest.files)) data.push({ key: `${entry.dir}/${name}`, path: join(shardDir, name), expected });
    const path = join(shardDir, SHARD_MANIFEST_FILE);
    manifests.push({ key: `${entry.dir}/${SHARD_MANIFEST_FILE}`, path, expected: await checksumFile(path) });
  }
  const indexPath = join(dir, INDEX_MANIFEST_FILE);
  const top = { key: INDEX_MANIFEST_FILE, path: indexPath, expected: await checksumFile(indexPath) };

  const sink = opts.sink ?? openSink(loc, index.version, opts);
  const url = loc.kind === 's3' ? `s3://${loc.bucket}/${loc.prefix ? `${loc.prefix}/` : ''}${index.version}` : `${loc.url.replace(/\/+$/, '')}/${index.version}`;
  try {
    const all = [...data, ...manifests, top];
    const totalBytes = all.reduce((n, f) => n + f.expected.bytes, 0);
    const progress = new TransferProgress('push', all.length, totalBytes, log, opts.progressIntervalMs);
    let skipped = 0;
    const upload = async (f: (typeof all)[number]) => {
      if (!opts.force && (await sink.has(f.key, f.expected))) {
        skipped++;
        progress.bytes += f.expected.bytes;
      } else {
        await sink.put(f.key, f.path, f.expected);
        progress.add(f.expected.bytes);
      }
      progress.fileDone();
    };
    const inParallel = (files: typeof all) => forEachConcurrently(files, opts.concurrency ?? 4, upload);
    log(`push: index ${index.version} to ${url}: ${all.length} files, ${mib(totalBytes)} MiB`);
    await inParallel(data);
    // Only once every data file is there: the manifests, index.json last.
    await inParallel(manifests);
    await upload(top);
    log(progress.line());
    log(`push: index ${index.version} at ${url} (${all.length - skipped} files uploaded, ${skipped} already there); pull it with: edgesearch index pull --from ${url} --out DIR`);
    return { version: index.version, url, files: all.length, bytes: totalBytes, uploaded: all.length - skipped, skipped, seconds: progress.seconds() };
  } finally {
    if (!opts.sink) sink.close?.();
  }
}
