import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface FileChecksum {
  bytes: number;
  sha256: string;
}

/** Streams the file through sha256: indexes can be far larger than we want in the heap. */
export async function checksumFile(path: string): Promise<FileChecksum> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  const { size } = await stat(path);
  return { bytes: size, sha256: hash.digest('hex') };
}
