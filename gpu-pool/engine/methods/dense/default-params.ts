import type { SearchParams } from '../../index/index.ts';

/** faiss's own defaults (nprobe 1, efSearch 16) lose most of the recall; these are the engine's. */
export const DEFAULT_HNSW_EF_SEARCH = 64;
/** Share of IVF lists probed when a query does not say: a quarter keeps ≥95% of exact quality on SciFact. */
export const DEFAULT_NPROBE_SHARE = 1 / 4;
/** Refine stage: candidates re-scored exactly per result (faiss's k_factor default, 1, only reorders the top k). */
export const DEFAULT_REFINE_FACTOR = 4;

/**
 * The search parameters used when a query names none, derived from the factory key
 * ("IVF256,PQ128np" probes 64 lists, "HNSW32_PQ64" searches with efSearch 64).
 */
export function defaultSearchParams(factoryKey: string): SearchParams {
  const params: SearchParams = {};
  const ivf = /IVF(\d+)/.exec(factoryKey);
  if (ivf) params.nprobe = Math.max(1, Math.round(Number(ivf[1]) * DEFAULT_NPROBE_SHARE));
  if (/HNSW/.test(factoryKey)) params.efSearch = DEFAULT_HNSW_EF_SEARCH;
  if (/,(RFlat|Refine\()/.test(factoryKey)) params.kFactor = DEFAULT_REFINE_FACTOR;
  return params;
}
