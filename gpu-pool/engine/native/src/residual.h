// ColBERTv2 residual compression: nearest-centroid assignment, residual encode/decode, exact
// MaxSim over compressed passages and PLAID-style candidate generation, all on the JS thread
// (synchronous) with OpenBLAS sgemm. The TypeScript side is gpu-pool/engine/index/residual.ts;
// the file format and codec training are gpu-pool/engine/colbert/.
#pragma once

#include <napi.h>

namespace fnode {

// assignCentroids(x: Float32Array, dim, centroids: Float32Array) -> Uint32Array(n)
Napi::Value AssignCentroids(const Napi::CallbackInfo& info);
// residualEncode(x, {dim, bits, centroids, cutoffs}) -> {codes: Uint32Array, residuals: Uint8Array}
Napi::Value ResidualEncode(const Napi::CallbackInfo& info);
// residualDecode({dim, bits, centroids, weights}, codes, residuals) -> Float32Array(n * dim)
Napi::Value ResidualDecode(const Napi::CallbackInfo& info);
// maxSimResidual(queries, store, ordinals) -> Float32Array(ordinals.length)
Napi::Value MaxSimResidual(const Napi::CallbackInfo& info);
// plaidCandidates(queries, store, nprobe, limit, threshold?, pruneKeep?)
//   -> {ordinals: Uint32Array, scores: Float32Array}
Napi::Value PlaidCandidates(const Napi::CallbackInfo& info);

}  // namespace fnode
