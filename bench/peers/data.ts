// What every peer child reads: the SciFact window vectors (the same float32 rows for every
// system), the 300 test query vectors and the exact top 10 of each query, written by
// bench/peers.ts into <work>/peers. Children print one JSON line per measurement.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const K = 10;

export interface PeerData {
  dir: string;
  n: number;
  d: number;
  nq: number;
  base: Float32Array;
  queries: Float32Array;
  /** Row numbers of each query's exact top 10 (inner product). */
  exact: number[][];
}

export async function readPeerData(dir: string): Promise<PeerData> {
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { n: number; d: number; nq: number };
  const floats = async (name: string) => {
    const buf = await readFile(join(dir, name));
    return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  };
  const exact = JSON.parse(await readFile(join(dir, 'exact10.json'), 'utf8')) as number[][];
  return { dir, ...meta, base: await floats('base.f32'), queries: await floats('queries.f32'), exact };
}

export const queryRow = (data: PeerData, i: number) => data.queries.subarray(i * data.d, (i + 1) * data.d);

/** Mean share of each query's exact top 10 found in its returned top 10. */
export function recallAt10(found: ArrayLike<number>[], exact: number[][]): number {
  let sum = 0;
  exact.forEach((truth, q) => {
    const got = new Set(Array.from(found[q]).slice(0, K));
    sum += truth.filter((id) => got.has(id)).length / truth.length;
  });
  return sum / exact.length;
}

export interface Measurement {
  system: string;
  version: string;
  index: string;
  params: string;
  threads: number;
  buildS?: number;
  bytesOnDisk?: number;
  recall10: number;
  /** ms per query, all queries in one call (when the system has batch search). */
  batchedMs?: number;
  /** ms per query, one call per query. */
  singleMs: number;
  /** Our binding only: ms per query, one searchSync call per query (no thread hand-off). */
  singleSyncMs?: number;
  /** Where the labels of every query's top 10 were written (int32, nq x 10), to compare systems. */
  labelsFile?: string;
}

export function emit(m: Measurement): void {
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

/** Fastest of `reps` runs of fn, in ms. */
export async function fastest(reps: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** The installed version of a peer package (read from node_modules: not every package exports its package.json). */
export function packageVersion(name: string): string {
  const file = fileURLToPath(new URL(`../../node_modules/${name}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
