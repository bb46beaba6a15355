// A small real index for tests: the first documents of SciFact, encoded by the fast static
// 128-d model (same tokenizer as use-lite), built through the real build path.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIndex } from '../gpu-pool/build/index.ts';
import { REPO_ROOT, SCIFACT_DIR, requireShared } from './fixtures.ts';

export const STATIC128_MODEL = join(REPO_ROOT, 'models', 'use-lite-static128');
export const USE_LITE_MODEL = join(REPO_ROOT, 'models', 'use-lite');

export interface FixtureOptions {
  limit?: number;
  shards?: number;
  factory?: string;
  bm25?: boolean;
  model?: string;
  /** Store the float vectors in the shards (for `index optimize`). */
  keepVectors?: boolean;
}

const cache = new Map<string, Promise<string>>();

/** Builds (once per test process and option set) and returns the index directory. */
export function fixtureIndex(opts: FixtureOptions = {}): Promise<string> {
  const o = { limit: 200, shards: 2, factory: 'Flat', bm25: true, model: STATIC128_MODEL, keepVectors: false, ...opts };
  const key = JSON.stringify(o);
  let dir = cache.get(key);
  if (!dir) {
    dir = (async () => {
      const out = join(await mkdtemp(join(tmpdir(), 'es-fixture-')), 'index');
      await buildIndex({ corpus: requireShared(SCIFACT_DIR), limit: o.limit, model: o.model, factory: o.factory, shards: o.shards, bm25: o.bm25, keepVectors: o.keepVectors, out, threads: 1 }, { log: () => {} });
      return out;
    })();
    cache.set(key, dir);
  }
  return dir;
}
