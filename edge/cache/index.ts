// Caching of search answers: keys, the Cache API store, coalescing of identical misses and the
// index-version lease that keeps entries of an old index from being served.
export { cacheUrl, canonicalJson, contextDigest, requestKey, type KeyedQuery } from './cache-key.ts';
export { Coalescer } from './coalescer.ts';
export { ResultCache, type CacheLike, type CachedAnswer } from './result-cache.ts';
export { VersionLease } from './version-lease.ts';
