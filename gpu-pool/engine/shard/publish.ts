import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * A staging directory beside the target: same filesystem, so the final rename is atomic.
 * Its name never matches what readers look for, so a crash leaves nothing that loads.
 */
export async function createStaging(target: string): Promise<string> {
  const abs = resolve(target);
  await mkdir(dirname(abs), { recursive: true });
  const staging = join(dirname(abs), `.${basename(abs)}.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging, { recursive: true });
  return staging;
}

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync every file and directory below `dir` (depth-first), then `dir` itself. */
export async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(path);
    else if (entry.isFile()) await fsyncPath(path);
  }
  await fsyncPath(dir);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Publish a fully written staging directory as `target`: fsync, then rename.
 * An existing target is replaced only with `replace`, and is moved aside first so that
 * readers see either the old or the new directory, never a mixture.
 */
export async function publishDirectory(staging: string, target: string, opts: { replace?: boolean } = {}): Promise<void> {
  const abs = resolve(target);
  await fsyncTree(staging);
  if (await exists(abs)) {
    if (!opts.replace) {
      throw new Error(`output directory already exists: ${abs} (choose a new directory or pass --force)`);
    }
    const aside = `${abs}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
    await rename(abs, aside);
    await rename(staging, abs);
    await rm(aside, { recursive: true, force: true });
  } else {
    await rename(staging, abs);
  }
  await fsyncPath(dirname(abs));
}

/** Staging directories of runs that were killed: never loadable, safe to remove. */
export async function removeStaleStaging(out: string): Promise<void> {
  const prefix = `.${basename(out)}.staging-`;
  let entries: string[] = [];
  try {
    entries = await readdir(dirname(out));
  } catch {
    return;
  }
  for (const name of entries) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid !== process.pid;
    } catch {
      alive = false;
    }
    if (!alive) await rm(join(dirname(out), name), { recursive: true, force: true });
  }
}
