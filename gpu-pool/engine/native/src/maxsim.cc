// MaxSim (ColBERT late interaction):
//   score_j = sum over query tokens i of max over passage j's tokens t of dot(q_i, d_t)
//
// queries:    Float32Array, nq x dim, row-major (one query's token vectors)
// docTokens:  Float32Array, ntok x dim, row-major (all candidates' tokens, concatenated)
// docOffsets: Uint32Array, ndocs + 1 entries, docOffsets[0] = 0, non-decreasing,
//             docOffsets[ndocs] = ntok; passage j owns rows [docOffsets[j], docOffsets[j+1]).
//
// A passage with no tokens scores 0, not -Infinity (the max over an empty set):
// it has no token that matches anything, so it contributes no evidence, and a
// finite score keeps sorting and score fusion (min-max normalisation, weighted
// sums) free of -Infinity/NaN. With ColBERT's L2-normalised vectors a real
// passage can score below 0, so an empty one may outrank it; callers that care
// should drop empty passages before scoring. An empty query (nq = 0) scores
// every passage 0 (the empty sum).
//
// The doc tokens are processed in blocks: one cblas_sgemm gives the nq x block
// dot-product matrix, then a pass over it keeps, per query token, the running
// maximum of the current passage (passages may straddle blocks). BLAS runs
// single-threaded (addon.cc); the call is synchronous on the JS thread.
#include "maxsim.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common.h"

namespace fnode {
namespace {

constexpr int64_t kMaxDim = 65536;
constexpr int64_t kBlockRows = 4096;
// Cap on the nq x block score matrix (floats): 4 Mi floats = 16 MiB.
constexpr int64_t kMaxScoreFloats = int64_t{1} << 22;

Napi::TypedArrayOf<uint32_t> ArgUint32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    ThrowArg(info.Env(), std::string(name) + " must be a Uint32Array");
  return v.As<Napi::TypedArrayOf<uint32_t>>();
}

}  // namespace

Napi::Value MaxSim(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArrayOf<float> q = ArgFloat32(info, 0, "queries");
  const int64_t dim = ArgInt(info, 1, "dim", 1, kMaxDim);
  Napi::TypedArrayOf<float> d = ArgFloat32(info, 2, "docTokens");
  Napi::TypedArrayOf<uint32_t> off = ArgUint32(info, 3, "docOffsets");

  const int64_t qlen = static_cast<int64_t>(q.ElementLength());
  const int64_t dlen = static_cast<int64_t>(d.ElementLength());
  if (qlen % dim != 0)
    ThrowArg(env,
             "queries length " + std::to_string(qlen) + " is not a multiple of dim " + std::to_string(dim),
             false);
  if (dlen % dim != 0)
    ThrowArg(env,
             "docTokens length " + std::to_string(dlen) + " is not a multiple of dim " + std::to_string(dim),
             false);
  const int64_t nq = qlen / dim;
  const int64_t ntok = dlen / dim;
  if (nq > INT_MAX) ThrowArg(env, "queries holds more than 2^31-1 token vectors", false);

  const int64_t noff = static_cast<int64_t>(off.ElementLength());
  if (noff < 1) ThrowArg(env, "docOffsets must have at least one entry (ndocs + 1, starting with 0)", false);
  const uint32_t* o = off.Data();
  if (o[0] != 0) ThrowArg(env, "docOffsets[0] must be 0, got " + std::to_string(o[0]), false);
  for (int64_t j = 1; j < noff; ++j)
    if (o[j] < o[j - 1])
      ThrowArg(env,
               "docOffsets must be non-decreasing: docOffsets[" + std::to_string(j) + "] = " +
                   std::to_string(o[j]) + " < docOffsets[" + std::to_string(j - 1) + "] = " +
                   std::to_string(o[j - 1]),
               false);
  if (static_cast<int64_t>(o[noff - 1]) != ntok)
    ThrowArg(env,
             "docOffsets must end at the number of doc tokens (docTokens.length / dim = " +
                 std::to_string(ntok) + "), got " + std::to_string(o[noff - 1]),
             false);
  const int64_t ndocs = noff - 1;

  Napi::TypedArrayOf<float> out = Napi::TypedArrayOf<float>::New(env, static_cast<size_t>(ndocs));
  float* score = out.Data();
  std::fill(score, score + ndocs, 0.0f);
  if (nq == 0 || ntok == 0 || ndocs == 0) return out;

  const float* Q = q.Data();
  const float* D = d.Data();
  Guard(env, [&] {
    const int64_t block = std::max<int64_t>(1, std::min(kBlockRows, kMaxScoreFloats / nq));
    std::vector<float> C(static_cast<size_t>(nq * std::min(block, ntok)));
    const float kNegInf = -std::numeric_limits<float>::infinity();
    std::vector<float> best(static_cast<size_t>(nq), kNegInf);

    int64_t j = 0;  // current passage
    // Passages that end at row 0 are empty: score 0 (already set).
    while (j < ndocs && o[j + 1] == 0) ++j;
    for (int64_t r0 = 0; r0 < ntok; r0 += block) {
      const int64_t nb = std::min(block, ntok - r0);
      // C (nq x nb) = Q (nq x dim) * D[r0:r0+nb]^T (dim x nb)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(nq), static_cast<int>(nb),
                  static_cast<int>(dim), 1.0f, Q, static_cast<int>(dim), D + r0 * dim,
                  static_cast<int>(dim), 0.0f, C.data(), static_cast<int>(nb));
      int64_t pos = r0;
      const int64_t r1 = r0 + nb;
      while (pos < r1) {
        // Invariant: passage j is non-empty and contains row pos.
        const int64_t end = o[j + 1];
        const int64_t seg = std::min(end, r1);
        for (int64_t i = 0; i < nq; ++i) {
          const float* row = C.data() + i * nb;
          float m = best[i];
          for (int64_t c = pos - r0; c < seg - r0; ++c) m = std::max(m, row[c]);
          best[i] = m;
        }
        pos = seg;
        if (seg == end) {
          double s = 0;
          for (int64_t i = 0; i < nq; ++i) s += best[i];
          score[j] = static_cast<float>(s);
          std::fill(best.begin(), best.end(), kNegInf);
          ++j;
          while (j < ndocs && o[j + 1] == o[j]) ++j;  // empty passages keep 0
        }
      }
    }
    return 0;
  });
  return out;
}

}  // namespace fnode
