// The one warning about too little training data. faiss would print its own for every k-means
// run that gets fewer than 39 points per centroid: once per PQ sub-quantizer per OPQ alternation,
// thousands of identical lines for an OPQ build over a small corpus. The binding silences those
// (gpu-pool/engine/native/src/structure.h, ClusteringWarningsOff) and FaissIndex.train says it once.
import type { TrainingClustering } from './native.ts';

/**
 * The warning for training on `points` vectors, or undefined when every clustering gets the
 * minimum faiss recommends (min_points_per_centroid × centroids, 39 × k by default).
 */
export function trainingDataWarning(points: number, clusterings: readonly TrainingClustering[]): string | undefined {
  const short = clusterings.filter((c) => points < c.centroids * c.minPointsPerCentroid);
  if (short.length === 0) return undefined;
  const need = (c: TrainingClustering) => c.centroids * c.minPointsPerCentroid;
  const worst = short.reduce((a, b) => (need(b) > need(a) ? b : a));
  const kinds = [...new Set(short.map((c) => `${c.what}: ${c.centroids} centroids`))].join('; ');
  const runs = short.reduce((sum, c) => sum + c.runs, 0);
  return (
    `training on ${points} vectors, fewer than the ${need(worst)} (${worst.minPointsPerCentroid} per centroid x ${worst.centroids} centroids) ` +
    `that faiss recommends for its k-means (${kinds}). With few points per centroid the codebooks fit the training sample ` +
    `too closely and recall loses a little; more training vectors help. (faiss's own warning for this, one per k-means run, ` +
    `would have been printed ${runs} times.)`
  );
}
