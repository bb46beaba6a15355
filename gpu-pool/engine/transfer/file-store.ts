// file:// locations: a directory on a mounted volume (or, in tests, a stand-in for a bucket).
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checksumFile } from '../shard/index.ts';
import { NotFoundError } from './errors.ts';
import type { Expected, RemoteRead, Sink, Source } from './remote.ts';

export class FileSource implements Source {
  constructor(private readonly dir: string) {}

  describe(key: string): string {
    return `file://${join(this.dir, key)}`;
  }

  async read(key: string, start: number): Promise<RemoteRead> {
    const path = join(this.dir, key);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new NotFoundError(this.describe(key));
    }
    const stream = createReadStream(path, { start: Math.min(start, size) });
    return { start: Math.min(start, size), total: size, body: stream, abort: () => stream.destroy() };
  }
}

export class FileSink implements Sink {
  constructor(private readonly dir: string) {}

  describe(key: string): string {
    return `file://${join(this.dir, key)}`;
  }

  async has(key: string, expected: Expected): Promise<boolean> {
    try {
      const c = await checksumFile(join(this.dir, key));
      return c.bytes === expected.bytes && c.sha256 === expected.sha256;
    } catch {
      return false;
    }
  }

  /** Copy beside, fsync, rename: a reader sees the whole file or none. */
  async put(key: string, path: string): Promise<void> {
    const target = join(this.dir, key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${key.split('/').pop()}.tmp-${process.pid}`);
    await copyFile(path, tmp);
    const handle = await open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  }
}
