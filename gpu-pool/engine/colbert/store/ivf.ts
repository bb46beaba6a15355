// PLAID's inverted file: for each centroid, the passages that have at least one token there.
// Built once per store (write path), from the token codes; a posting list is ascending.
import type { CentroidPassages } from '../../index/index.ts';

export function buildIvf(codes: Uint32Array, docOffsets: Uint32Array, centroids: number): CentroidPassages {
  const docs = docOffsets.length - 1;
  // last[c] = the last passage counted at centroid c: a passage counts once per centroid.
  const last = new Int32Array(centroids).fill(-1);
  const counts = new Uint32Array(centroids + 1);
  for (let d = 0; d < docs; d++) {
    for (let t = docOffsets[d]; t < docOffsets[d + 1]; t++) {
      const c = codes[t];
      if (last[c] !== d) {
        last[c] = d;
        counts[c + 1]++;
      }
    }
  }
  const ivfOffsets = new Uint32Array(centroids + 1);
  for (let c = 0; c < centroids; c++) ivfOffsets[c + 1] = ivfOffsets[c] + counts[c + 1];
  const ivfDocs = new Uint32Array(ivfOffsets[centroids]);
  const fill = ivfOffsets.slice(0, centroids);
  last.fill(-1);
  for (let d = 0; d < docs; d++) {
    for (let t = docOffsets[d]; t < docOffsets[d + 1]; t++) {
      const c = codes[t];
      if (last[c] !== d) {
        last[c] = d;
        ivfDocs[fill[c]++] = d;
      }
    }
  }
  return { ivfOffsets, ivfDocs };
}
