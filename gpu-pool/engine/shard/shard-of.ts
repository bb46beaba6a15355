/**
 * Which shard a document lives in: FNV-1a of its id, so the assignment is stable across
 * corpus order, slices and rebuilds.
 */
export function shardOf(docId: string, shardCount: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < docId.length; i++) {
    h ^= docId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shardCount;
}
