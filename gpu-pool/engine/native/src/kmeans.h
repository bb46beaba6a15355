// k-means (faiss::Clustering) for codebooks the engine trains itself: ColBERT's residual-codec
// centroids. An IVF's coarse centroids cannot be read back through the Index binding.
#pragma once

#include <napi.h>

namespace fnode {

// kmeans(x: Float32Array, d, k, {niter, seed, spherical, metric, maxPointsPerCentroid})
//   -> Promise<{centroids: Float32Array(k * d), objective: number}>. See kmeans.cc.
Napi::Value Kmeans(const Napi::CallbackInfo& info);

}  // namespace fnode
