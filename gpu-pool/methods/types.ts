import { z } from 'zod';

export const MethodName = z.enum(['dense', 'bm25', 'hybrid']);
export type MethodName = z.infer<typeof MethodName>;

export const QueryParams = z
  .object({
    /** IVF lists probed (dense). */
    nprobe: z.number().int().min(1).max(65536).optional(),
    /** HNSW search breadth (dense). */
    efSearch: z.number().int().min(1).max(65536).optional(),
    /** Windows fetched per wanted document, since a document has several windows (dense). */
    windowFactor: z.number().int().min(1).max(64).optional(),
    /** Reciprocal-rank-fusion constant (hybrid). */
    rrfK: z.number().min(0).max(10000).optional(),
    /** Per-branch weights (hybrid). */
    weights: z.object({ dense: z.number().min(0).max(100).optional(), bm25: z.number().min(0).max(100).optional() }).optional(),
    /** Candidates taken from each branch before fusion (hybrid). */
    depth: z.number().int().min(1).max(10000).optional(),
    /** BM25 parameters. */
    k1: z.number().min(0).max(10).optional(),
    b: z.number().min(0).max(1).optional(),
  })
  .strict();
export type QueryParams = z.infer<typeof QueryParams>;

export interface MethodQuery {
  id: string;
  text: string;
  k: number;
  params?: QueryParams;
}

export interface BranchScore {
  score: number;
  /** 1-based rank within the branch. */
  rank: number;
}

export interface Hit {
  docId: string;
  score: number;
  shard: number;
  /** Shard-local document ordinal: where the evidence passage is stored. */
  ordinal: number;
  branches?: Partial<Record<'dense' | 'bm25', BranchScore>>;
}

/** The read interface every retrieval method implements; one result list per query, best first. */
export interface RetrievalMethod {
  readonly name: MethodName;
  search(queries: MethodQuery[]): Promise<Hit[][]>;
}

/** Best first; equal scores in a fixed order so results never depend on timing. */
export function compareHits(a: Hit, b: Hit): number {
  return b.score - a.score || a.shard - b.shard || a.ordinal - b.ordinal;
}

/** Exact top-k merge of per-shard lists (each already top-k of its shard). */
export function mergeTopK(lists: Hit[][], k: number): Hit[] {
  return lists.flat().sort(compareHits).slice(0, k);
}
