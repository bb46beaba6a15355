import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileChecksum {
  bytes: number;
  sha256: string;
}

/**
 * Streams the file through sha256: indexes can be far larger than we want in the heap. Read-only,
 * 1 MiB at a time, so each chunk is a short turn of the event loop (background re-verify runs
 * beside queries). `bytes` counts what was hashed, so size and digest describe the same read.
 */
export async function checksumFile(path: string, opts: { signal?: AbortSignal } = {}): Promise<FileChecksum> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { flags: 'r', highWaterMark: 1 << 20, signal: opts.signal })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
