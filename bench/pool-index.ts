// The index the pool benchmarks serve: SciFact encoded by use-lite, 4 shards of OPQ+IVF-PQ (16x)
// with BM25, built once in the work directory and reused by later runs (bench:pool, bench:edge).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, SCIFACT_DIR, requireShared } from '../test/fixtures.ts';

const cli = join(REPO_ROOT, 'bin', 'edgesearch.js');

function run(args: string[]): void {
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`edgesearch ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** Builds (when missing) and returns the 4-shard pool index in `work`. */
export function poolIndex(work: string, factory: string, log: (m: string) => void): string {
  requireShared(SCIFACT_DIR);
  const slice = join(work, 'slice');
  const index = join(work, `pool-4shards-${factory.replace(/[^A-Za-z0-9]+/g, '_')}`);
  if (!existsSync(join(slice, 'slice.json'))) {
    log('encoding SciFact (index build --slice 0/1)');
    run(['index', 'build', '--corpus', SCIFACT_DIR, '--model', join(REPO_ROOT, 'models', 'use-lite'), '--slice', '0/1', '--out', slice, '--threads', '2']);
  }
  if (!existsSync(join(index, 'index.json'))) {
    log(`assembling the 4-shard ${factory} index`);
    run(['index', 'merge', slice, '--out', index, '--shards', '4', '--bm25', '--factory', factory]);
  }
  return index;
}
