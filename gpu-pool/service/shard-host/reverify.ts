// Re-verification of a served shard: files are verified when a shard is loaded, but one edited
// in place afterwards (passages.bin is read from disk on every evidence request) would be served
// under the unchanged version. This re-reads what the manifest lists and compares.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ManifestError, PASSAGE_DATA_FILE, checkShardFiles, verifyShardFiles, type LoadedShard } from '../../engine/shard/index.ts';

export interface ShardProblem {
  /** Short, without paths: for readiness output. */
  reason: string;
  /** Paths and checksums: for the operator's log. */
  detail: string;
}

/**
 * Why `shard`'s files no longer match its manifest, or undefined when they do. Streams every
 * listed file through sha256 (a same-size edit is caught). The passage file is read on every
 * evidence request through a handle opened at load: when its path names another file now, the
 * file behind the handle (still reachable through other hard links) is checksummed too.
 * Rejects only when `signal` aborts.
 */
export async function reverifyShard(shard: LoadedShard, signal?: AbortSignal): Promise<ShardProblem | undefined> {
  try {
    await checkShardFiles(shard.dir, shard.manifest);
    await verifyShardFiles(shard.dir, shard.manifest, { signal });
    const path = join(shard.dir, PASSAGE_DATA_FILE);
    const [served, named] = [await shard.passages.identity(), await stat(path)];
    if (served.dev === named.dev && served.ino === named.ino) return undefined;
    const expected = shard.manifest.files[PASSAGE_DATA_FILE];
    const actual = await shard.passages.checksum({ signal });
    if (actual.bytes === expected.bytes && actual.sha256 === expected.sha256) return undefined;
    return {
      reason: `${PASSAGE_DATA_FILE} changed since load`,
      detail: `${path}: the file served since load (inode ${served.ino}, no longer at this path) is ${actual.bytes} bytes, sha256 ${actual.sha256.slice(0, 12)}…; manifest says ${expected.bytes}, ${expected.sha256.slice(0, 12)}…`,
    };
  } catch (err) {
    if (signal?.aborted) throw err;
    if (err instanceof ManifestError) return { reason: `${basename(err.file)} changed since load`, detail: err.message };
    return { reason: 'shard files cannot be re-read', detail: `${shard.dir}: ${(err as Error).message}` };
  }
}
