// Where tests and benchmarks find the shared data and models (never copied into the repo).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readQueries } from '../gpu-pool/engine/corpus/index.ts';
import { readQrels } from '../gpu-pool/engine/eval/index.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_DIR = resolve(process.env.EDGESEARCH_SHARED ?? join(REPO_ROOT, '..', 'shared'));
export const USE_LITE_DIR = join(SHARED_DIR, 'models', 'use-lite');
export const STATIC128_DIR = join(SHARED_DIR, 'models', 'use-lite-static128-derived');
export const SCIFACT_DIR = join(SHARED_DIR, 'data', 'scifact', 'beir');
export const SQUAD_DEV = join(SHARED_DIR, 'data', 'squad-v1.1-dev');
export const DENSEPHRASES_SAMPLE = join(SHARED_DIR, 'data', 'densephrases-sample');

export function requireShared(path: string): string {
  if (!existsSync(path)) throw new Error(`shared test data missing: ${path} (set EDGESEARCH_SHARED)`);
  return path;
}

/** SciFact test queries that have judgements, in file order. */
export async function scifactTestQueries(limit?: number): Promise<{ id: string; text: string }[]> {
  const qrels = await readQrels(join(requireShared(SCIFACT_DIR), 'qrels', 'test.tsv'));
  const out: { id: string; text: string }[] = [];
  for await (const q of readQueries(join(SCIFACT_DIR, 'queries.test.jsonl'))) {
    if (qrels.has(q.id)) out.push(q);
    if (limit && out.length >= limit) break;
  }
  return out;
}
