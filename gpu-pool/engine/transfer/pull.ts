// `edgesearch index pull`: one published index version from object storage or HTTP(S) into a
// local directory. Downloads go to `<out>.partial` (kept across runs, so a rerun resumes),
// every file is checked against its manifest's sha256, and the directory is renamed into place
// only when all of them verified.
import { forEachConcurrently } from './concurrently.ts';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { z } from 'zod';
import {
  INDEX_MANIFEST_FILE,
  IndexManifest,
  SHARD_MANIFEST_FILE,
  ShardManifest,
  checkShardFiles,
  checksumFile,
  contentVersion,
  indexVersionOf,
  exists,
  publishDirectory,
} from '../shard/index.ts';
import { CorruptFileError, NotFoundError, TransferError } from './errors.ts';
import { lastSegment, parseLocation } from './location.ts';
import { openSource, type RemoteOptions } from './open-location.ts';
import { TransferProgress, mib } from './progress.ts';
import type { Source } from './remote.ts';

export interface PullOptions extends RemoteOptions {
  /** s3://bucket/prefix/<version>, https://host/path/<version>, http://127.0.0.1:port/path/<version>, file:///dir/<version>. */
  from: string;
  out: string;
  /** Replace an existing `out`. */
  force?: boolean;
  /** Retries of one file after a dropped connection or a server error (default 5). */
  retries?: number;
  /** First backoff before a retry, doubled each time up to 10 s (default 500 ms). */
  backoffMs?: number;
  /** Files downloaded at once (default 4). */
  concurrency?: number;
  log?: (line: string) => void;
  progressIntervalMs?: number;
  /** Instead of the location's own (tests). */
  source?: Source;
}

export interface PullResult {
  version: string;
  out: string;
  files: number;
  bytes: number;
  /** Bytes fetched in this run (files already complete in the partial directory are not fetched again). */
  downloaded: number;
  reused: number;
  retries: number;
  seconds: number;
}

const MAX_MANIFEST_BYTES = 64 << 20;

/** The partial directory of a pull into `out`: beside it, never mistaken for an index. */
export const partialDir = (out: string) => `${resolve(out)}.partial`;

export async function pullIndex(opts: PullOptions): Promise<PullResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loc = parseLocation(opts.from, { purpose: 'pull' });
  const wanted = lastSegment(loc);
  if (!wanted) throw new TransferError(`${opts.from}: the URL must end with the index version to pull (e.g. s3://bucket/indexes/<version>)`);
  const out = resolve(opts.out);
  if ((await exists(out)) && !opts.force) throw new TransferError(`output directory already exists: ${out} (choose a new directory or pass --force)`);
  const source = opts.source ?? openSource(loc, opts);
  const retries = opts.retries ?? 5;
  const backoff = opts.backoffMs ?? 500;
  let retried = 0;

  /** Runs `fn` again after an error a retry may fix, with exponential backoff, a bounded number of times. */
  const withRetry = async <T>(what: string, fn: () => Promise<T>, onRetry?: () => Promise<string>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof TransferError) throw err;
        if (attempt >= retries) throw new TransferError(`${what}: gave up after ${attempt + 1} attempts: ${(err as Error).message}`);
        const delay = Math.min(10_000, backoff * 2 ** attempt);
        const where = onRetry ? await onRetry() : '';
        retried++;
        log(`pull: ${what}: ${(err as Error).message}; retry ${attempt + 1}/${retries} in ${delay} ms${where}`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };

  const fetchJson = async <T>(key: string, schema: z.ZodType<T>, notFound: string): Promise<{ raw: Buffer; value: T }> => {
    const raw = await withRetry(source.describe(key), async () => {
      const r = await source.read(key, 0);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of r.body) {
        size += chunk.length;
        if (size > MAX_MANIFEST_BYTES) {
          r.abort();
          throw new TransferError(`${source.describe(key)}: larger than ${mib(MAX_MANIFEST_BYTES)} MiB, not a manifest`);
        }
        chunks.push(Buffer.from(chunk));
      }
      return Buffer.concat(chunks);
    }).catch((err) => {
      throw err instanceof NotFoundError ? new TransferError(notFound) : err;
    });
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new TransferError(`${source.describe(key)}: not valid JSON: ${(err as Error).message}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TransferError(`${source.describe(key)}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    return { raw, value: parsed.data };
  };

  try {
    // 1. index.json: which version, which shards.
    const index = await fetchJson(INDEX_MANIFEST_FILE, IndexManifest, `no index version "${wanted}" at ${opts.from}: ${source.describe(INDEX_MANIFEST_FILE)} not found (404)`);
    if (index.value.version !== wanted) throw new TransferError(`${source.describe(INDEX_MANIFEST_FILE)} is version ${index.value.version}, but the URL names version ${wanted}`);
    const expectedVersion = indexVersionOf(index.value.shards, index.value.fusion);
    if (index.value.version !== expectedVersion) throw new TransferError(`${source.describe(INDEX_MANIFEST_FILE)}: version ${index.value.version} does not match its shards (${expectedVersion}): the manifest is corrupted`);
    if (new Set(index.value.shards.map((s) => s.dir)).size !== index.value.shards.length) throw new TransferError(`${source.describe(INDEX_MANIFEST_FILE)}: a shard directory is listed twice`);

    // 2. The partial directory: kept from an interrupted pull of the same version, else started afresh.
    const partial = partialDir(out);
    const previous = await readFile(join(partial, INDEX_MANIFEST_FILE)).catch(() => undefined);
    if (previous && !previous.equals(index.raw)) {
      log(`pull: ${partial} holds another version; starting afresh`);
      await rm(partial, { recursive: true, force: true });
    } else if (previous) {
      log(`pull: resuming into ${partial}`);
    }
    await mkdir(partial, { recursive: true });
    await writeFile(join(partial, INDEX_MANIFEST_FILE), index.raw);

    // 3. Every shard's manifest, checked against index.json and against its own file list.
    const shards: { dir: string; manifest: ShardManifest }[] = [];
    for (const entry of index.value.shards) {
      const key = `${entry.dir}/${SHARD_MANIFEST_FILE}`;
      const m = await fetchJson(key, ShardManifest, `${source.describe(key)}: not found (404): index.json lists shard ${entry.dir}, the source does not hold its manifest`);
      if (Object.hasOwn(m.value.files, SHARD_MANIFEST_FILE)) throw new TransferError(`${source.describe(key)}: lists ${SHARD_MANIFEST_FILE} among its files`);
      if (m.value.version !== entry.version) throw new TransferError(`${source.describe(key)}: version ${m.value.version}, index.json says ${entry.version}`);
      const own = contentVersion(m.value.files);
      if (own !== m.value.version) throw new TransferError(`${source.describe(key)}: version ${m.value.version} does not match its file checksums (${own}): the manifest is corrupted`);
      await mkdir(join(partial, entry.dir), { recursive: true });
      await writeFile(join(partial, entry.dir, SHARD_MANIFEST_FILE), m.raw);
      shards.push({ dir: entry.dir, manifest: m.value });
    }
    await removeUnlisted(partial, shards);

    // 4. Every listed file, resumed where a previous run stopped, verified, a few at a time.
    const tasks = shards.flatMap((s) => Object.entries(s.manifest.files).map(([name, expected]) => ({ key: `${s.dir}/${name}`, path: join(partial, s.dir, name), expected })));
    const totalBytes = tasks.reduce((n, t) => n + t.expected.bytes, 0);
    const progress = new TransferProgress('pull', tasks.length, totalBytes, log, opts.progressIntervalMs);
    log(`pull: index ${index.value.version} from ${opts.from}: ${shards.length} shard(s), ${tasks.length} files, ${mib(totalBytes)} MiB`);
    let reused = 0;

    const fetchFile = async (t: (typeof tasks)[number]): Promise<void> => {
      const url = source.describe(t.key);
      let size = await stat(t.path).then((s) => s.size, () => -1);
      if (size === t.expected.bytes) {
        const have = await checksumFile(t.path);
        if (have.sha256 === t.expected.sha256) {
          reused++;
          progress.bytes += t.expected.bytes;
          progress.fileDone();
          return;
        }
        log(`pull: ${t.key}: the copy in ${partial} does not verify; fetching it again`);
        size = 0;
        await rm(t.path, { force: true });
      } else if (size > t.expected.bytes) {
        size = 0;
        await rm(t.path, { force: true });
      }
      if (size > 0) log(`pull: ${t.key}: resuming from byte ${size} of ${t.expected.bytes}`);
      if (size < 0) size = 0;
      // Bytes of this file counted in the progress so far.
      let counted = size;
      progress.bytes += size;
      await withRetry(
        url,
        async () => {
          const from = await stat(t.path).then((s) => s.size, () => 0);
          const r = await source.read(t.key, from);
          if (r.start !== from) {
            // The server sent the whole file: start it over.
            await truncate(t.path, 0).catch(() => {});
            progress.bytes -= counted;
            counted = 0;
          }
          const file = createWriteStream(t.path, { flags: 'a' });
          try {
            let at = r.start;
            for await (const chunk of r.body) {
              at += chunk.length;
              if (!file.write(chunk)) await once(file, 'drain');
              progress.add(chunk.length);
              counted += chunk.length;
              if (at > t.expected.bytes) {
                r.abort();
                break;
              }
            }
          } finally {
            file.end();
            await once(file, 'close');
          }
        },
        async () => ` from byte ${await stat(t.path).then((s) => s.size, () => 0)}`,
      );
      const got = await checksumFile(t.path);
      if (got.bytes !== t.expected.bytes || got.sha256 !== t.expected.sha256) {
        await rm(t.path, { force: true });
        throw new CorruptFileError(t.key, url, t.expected, got);
      }
      progress.fileDone();
    };

    await forEachConcurrently(tasks, opts.concurrency ?? 4, fetchFile);

    // 5. What the loader will read is listed (and so verified); then publish in one rename.
    for (const s of shards) await checkShardFiles(join(partial, s.dir), s.manifest);
    await publishDirectory(partial, out, { replace: opts.force });
    log(progress.line());
    log(`pull: index ${index.value.version} published at ${out} (${tasks.length - reused} files fetched, ${reused} already complete, ${retried} retries)`);
    return { version: index.value.version, out, files: tasks.length, bytes: totalBytes, downloaded: progress.moved, reused, retries: retried, seconds: progress.seconds() };
  } finally {
    if (!opts.source) source.close?.();
  }
}

/** Anything in the partial directory that the manifests do not list would be published with it: removed. */
async function removeUnlisted(partial: string, shards: { dir: string; manifest: ShardManifest }[]): Promise<void> {
  const dirs = new Map(shards.map((s) => [s.dir, s.manifest]));
  for (const entry of await readdir(partial, { withFileTypes: true })) {
    if (entry.name === INDEX_MANIFEST_FILE && entry.isFile()) continue;
    const manifest = dirs.get(entry.name);
    if (!manifest || !entry.isDirectory()) {
      await rm(join(partial, entry.name), { recursive: true, force: true });
      continue;
    }
    for (const inner of await readdir(join(partial, entry.name), { withFileTypes: true })) {
      if (inner.isFile() && (inner.name === SHARD_MANIFEST_FILE || Object.hasOwn(manifest.files, inner.name))) continue;
      await rm(join(partial, entry.name, inner.name), { recursive: true, force: true });
    }
  }
}
