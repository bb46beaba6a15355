// A small real index for tests: the first documents of SciFact, encoded by the fast static
// 128-d model (same tokenizer as use-lite), built through the real build path.
import { createReadStream } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { addDocuments, buildIndex, deleteDocuments } from '../gpu-pool/engine/writer/index.ts';
import { REPO_ROOT, SCIFACT_DIR, requireShared } from './fixtures.ts';

export const STATIC128_MODEL = join(REPO_ROOT, 'models', 'use-lite-static128');
export const USE_LITE_MODEL = join(REPO_ROOT, 'models', 'use-lite');
/** use-lite's token outputs, untrained for late interaction (512-d token vectors): ColBERT fixtures. */
export const USE_LITE_TOKENS_MODEL = join(REPO_ROOT, 'models', 'use-lite-tokens');

export interface FixtureOptions {
  limit?: number;
  shards?: number;
  factory?: string;
  bm25?: boolean;
  model?: string;
  /** Store the float vectors in the shards (for `index optimize`). */
  keepVectors?: boolean;
  /** colbert: a compressed token store instead of a faiss index (model: a token model); phrase: a phrase store (model: a phrase model). */
  method?: 'dense' | 'colbert' | 'phrase';
  /** colbert: codec centroids (few keep fixture builds quick) and residual bits. */
  centroids?: number;
  bits?: 1 | 2 | 4;
}

const cache = new Map<string, Promise<string>>();

/** Builds (once per test process and option set) and returns the index directory. */
export function fixtureIndex(opts: FixtureOptions = {}): Promise<string> {
  const colbert = opts.method === 'colbert';
  const o = { limit: 200, shards: 2, factory: 'Flat', bm25: true, model: colbert ? USE_LITE_TOKENS_MODEL : STATIC128_MODEL, keepVectors: false, ...(colbert ? { centroids: 64, bits: 2 as const } : {}), ...opts };
  const key = JSON.stringify(o);
  let dir = cache.get(key);
  if (!dir) {
    dir = (async () => {
      const out = join(await mkdtemp(join(tmpdir(), 'es-fixture-')), 'index');
      await buildIndex(
        { corpus: requireShared(SCIFACT_DIR), limit: o.limit, model: o.model, method: o.method, centroids: o.centroids, bits: o.bits, factory: o.factory, shards: o.shards, bm25: o.bm25, keepVectors: o.keepVectors, out, threads: 1 },
        { log: () => {} },
      );
      return out;
    })();
    cache.set(key, dir);
  }
  return dir;
}

/**
 * A newer version of the index `base`, written beside it as `name` (so under the same index root,
 * with `base` in its lineage: a pool serving `base` may swap to it). It holds base's documents
 * plus SciFact's documents [from, from + count) (`add`), or without the ids in `remove`.
 */
export async function newerFixture(base: string, name: string, change: { add: { from: number; count: number } } | { remove: string[] }): Promise<string> {
  const out = join(dirname(base), name);
  if ('remove' in change) {
    await deleteDocuments({ index: base, ids: change.remove, out }, { log: () => {} });
    return out;
  }
  const lines: string[] = [];
  const reader = createInterface({ input: createReadStream(join(requireShared(SCIFACT_DIR), 'corpus.jsonl')) });
  for await (const line of reader) {
    if (lines.length >= change.add.from + change.add.count) break;
    lines.push(line);
  }
  reader.close();
  const corpus = join(dirname(base), `${name}.corpus.jsonl`);
  await writeFile(corpus, `${lines.slice(change.add.from).join('\n')}\n`);
  await addDocuments({ index: base, corpus, out, threads: 1 }, { log: () => {} });
  return out;
}
