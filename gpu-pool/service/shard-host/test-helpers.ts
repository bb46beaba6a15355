// Versions of a small real index under one index root, for the swap and re-verify tests:
// v1 (a build), v2 (v1 less some documents, through `index delete`: v1 is in its lineage) and
// `other` (an unrelated build of the same model). Copies, so a test may edit them in place.
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvidenceFrame, ShardSearchFrame } from '../../../shared/protocol/index.ts';
import { fixtureIndex } from '../../../test/index-fixture.ts';
import { deleteDocuments } from '../../engine/writer/index.ts';
import { closeIndex, openIndex, readIndexManifest, type IndexManifest } from '../../engine/shard/index.ts';

export interface Versions {
  root: string;
  v1: string;
  v2: string;
  other: string;
  m1: IndexManifest;
  m2: IndexManifest;
  mOther: IndexManifest;
  /** Shard directory names (the same in every version). */
  dirs: string[];
  /** Documents of v1 that v2 no longer has. */
  deleted: string[];
}

export async function indexVersions(): Promise<Versions> {
  const root = await mkdtemp(join(tmpdir(), 'es-swap-root-'));
  const v1 = join(root, 'v1');
  const other = join(root, 'other');
  await cp(await fixtureIndex({ limit: 120, shards: 2 }), v1, { recursive: true });
  await cp(await fixtureIndex({ limit: 80, shards: 2 }), other, { recursive: true });
  // Every 10th document of each shard: both shards change.
  const deleted: string[] = [];
  const loaded = await openIndex(v1);
  try {
    for (const shard of loaded.shards) (await shard.passages.readAll()).forEach((p, i) => i % 10 === 1 && deleted.push(p.id));
  } finally {
    await closeIndex(loaded);
  }
  const v2 = join(root, 'v2');
  await deleteDocuments({ index: v1, ids: deleted, out: v2 }, { log: () => {} });
  const [m1, m2, mOther] = await Promise.all([readIndexManifest(v1), readIndexManifest(v2), readIndexManifest(other)]);
  return { root, v1, v2, other, m1, m2, mOther, dirs: m1.shards.map((s) => s.dir), deleted };
}

export const bm25Search = (shard: number, text = 'cells proteins expression'): ShardSearchFrame => ({
  v: 1,
  type: 'shard-search',
  batchId: `b-${shard}`,
  deadline: Date.now() + 10_000,
  shard,
  queries: [{ id: 'q', mode: 'bm25', k: 5, text }],
});

export const evidence = (shard: number, ordinals: number[] = [0]): EvidenceFrame => ({ v: 1, type: 'evidence', batchId: `e-${shard}`, shard, ordinals });
