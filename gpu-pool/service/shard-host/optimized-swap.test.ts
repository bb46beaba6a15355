import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { optimizeIndex } from '../../engine/optimize/index.ts';
import { readIndexManifest } from '../../engine/shard/index.ts';
import { SCIFACT_DIR } from '../../../test/fixtures.ts';
import { fixtureIndex } from '../../../test/index-fixture.ts';
import { ShardHost } from './index.ts';

// What `index optimize` publishes is a new version a serving node can swap to, shard by shard.
let work: string | undefined;
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

it('a node serving an index swaps to its optimized version, shard by shard', async () => {
  const index = await fixtureIndex({ limit: 200, shards: 2, factory: 'IVF4,PQ16x4np', bm25: false, keepVectors: true });
  work = await mkdtemp(join(tmpdir(), 'es-optimized-swap-'));
  const out = join(work, 'optimized');
  await optimizeIndex(
    { index, queries: join(SCIFACT_DIR, 'queries.train.jsonl'), qrels: join(SCIFACT_DIR, 'qrels', 'train.tsv'), out, unknown: 'skip', epochs: 1, negatives: 20, validFraction: 0 },
    { log: () => {} },
  );
  const manifest = await readIndexManifest(out);
  // The optimized version is written in another temporary directory: let swaps reach it.
  const host = await ShardHost.open(index, [0, 1], { swapRoot: tmpdir() });
  try {
    for (const entry of manifest.shards) {
      const s = Number(entry.dir.slice('shard-'.length));
      expect(await host.swap(s, join(out, entry.dir))).toEqual({ from: (await readIndexManifest(index)).shards[s].version, to: entry.version });
    }
  } finally {
    await host.close();
  }
}, 180_000);
