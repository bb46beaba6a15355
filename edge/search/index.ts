// Searching through the edge: cache, coalescing, micro-batched pool calls.
export { SearchService, type PoolAnswer, type SearchContext, type SearchServiceOptions } from './search-service.ts';
