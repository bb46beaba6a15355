import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { fsyncPath } from '../shard/publish.ts';

export const CHECKPOINT_FILE = 'checkpoint.json';

export const Checkpoint = z.object({
  /** Digest of everything that determines the encoded rows; a different key means start over. */
  key: z.string(),
  dimension: z.number().int().positive(),
  /** Corpus documents consumed (all of them, in or out of this slice). */
  docsDone: z.number().int().nonnegative(),
  windowsDone: z.number().int().nonnegative(),
  complete: z.boolean(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

export async function readCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  try {
    const parsed = Checkpoint.safeParse(JSON.parse(await readFile(join(dir, CHECKPOINT_FILE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a temporary name and renamed, so a kill leaves the old or the new checkpoint. */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const tmp = join(dir, `${CHECKPOINT_FILE}.tmp`);
  await writeFile(tmp, JSON.stringify(checkpoint));
  await fsyncPath(tmp);
  await rename(tmp, join(dir, CHECKPOINT_FILE));
}
