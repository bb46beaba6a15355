// ColBERTv2 residual compression (Santhanam et al., 2022) and PLAID candidate generation
// (Santhanam et al., 2022b), the hot loops of gpu-pool/engine/colbert.
//
// A token vector x is stored as the id of its nearest centroid c (inner product) and, per
// dimension k, a `bits`-bit bucket of the residual x_k - c_k: the number of cutoffs[k][*] below
// it (torch.bucketize, as ColBERTv2). Decoding gives c_k + weights[k][bucket], and the vector is
// re-normalised to unit length, as ColBERTv2's decompression does (the model's vectors are unit
// length, and MaxSim is a sum of cosines).
//
// Packing: a token's residual takes rowBytes = ceil(dim * bits / 8) bytes; dimension k sits in
// byte k / (8 / bits) at bit offset (k % (8 / bits)) * bits (least significant first).
//
// "store" objects (plain JS objects of typed arrays, borrowed for the call, never kept):
//   dim, bits (1|2|4), centroids (K x dim f32), weights (dim x 2^bits f32), cutoffs
//   (dim x (2^bits - 1) f32, encode only), codes (u32 per token), residuals (u8,
//   ntok x rowBytes), docOffsets (u32, ndocs + 1), ivfOffsets (u32, K + 1) and ivfDocs (u32):
//   centroid c's passages are ivfDocs[ivfOffsets[c] .. ivfOffsets[c+1]).
// Whole-array invariants (monotonic offsets, code < K everywhere) are the caller's to check once
// when a store is opened (gpu-pool/engine/colbert/store); every call still checks what it
// touches, so a bad array gives an error, never a read out of bounds.
#include "residual.h"

// The decode loops (table lookup + centroid + sum of squares) and the max scans must vectorise;
// -O2 in GCC 12 only does so for trivial loops.
#pragma GCC optimize("O3")

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common.h"

namespace fnode {
namespace {

constexpr int64_t kMaxDim = 65536;
// maxSimResidual decodes this many tokens, then scores them: 256 KiB of scratch at dim 128,
// so the decoded block is still in L2 when sgemm reads it.
constexpr int64_t kScoreBlockRows = 4096;
// Cap on a score block (floats): 4 Mi floats = 16 MiB.
constexpr int64_t kMaxScoreFloats = int64_t{1} << 22;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The decode and max loops are built for AVX-512, AVX2+FMA and plain x86-64, picked at load time
// (the addon is built without -march, so one binary serves every CI machine); the inlined
// helpers take the caller's instruction set. FMA changes the last bits of a sum of squares:
// tests compare scores with a tolerance.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FNODE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FNODE_CLONES
#endif
#define FNODE_INLINE inline __attribute__((always_inline))

template <class T>
Napi::TypedArrayOf<T> Typed(Napi::Env env, const Napi::Value& v, const char* name, napi_typedarray_type type,
                            const char* type_name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    ThrowArg(env, std::string(name) + " must be a " + type_name);
  return v.As<Napi::TypedArrayOf<T>>();
}
Napi::TypedArrayOf<float> F32(Napi::Env env, const Napi::Value& v, const char* name) {
  return Typed<float>(env, v, name, napi_float32_array, "Float32Array");
}
Napi::TypedArrayOf<uint32_t> U32(Napi::Env env, const Napi::Value& v, const char* name) {
  return Typed<uint32_t>(env, v, name, napi_uint32_array, "Uint32Array");
}
Napi::TypedArrayOf<uint8_t> U8(Napi::Env env, const Napi::Value& v, const char* name) {
  return Typed<uint8_t>(env, v, name, napi_uint8_array, "Uint8Array");
}

Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsObject() || info[i].IsTypedArray()) ThrowArg(info.Env(), std::string(name) + " must be an object");
  return info[i].As<Napi::Object>();
}

// The codec's parameters, borrowed from the JS arrays for one call.
struct Codec {
  int64_t dim = 0, bits = 0, per = 0, buckets = 0, row_bytes = 0, dim_pad = 0, k = 0;
  const float* centroids = nullptr;
  const float* weights = nullptr;
  const float* cutoffs = nullptr;
};

Codec ParseCodec(Napi::Env env, const Napi::Object& o, bool need_weights, bool need_cutoffs) {
  Codec c;
  c.dim = ArgIntValue(env, o.Get("dim"), "dim", 1, kMaxDim);
  c.bits = ArgIntValue(env, o.Get("bits"), "bits", 1, 4);
  if (c.bits == 3) ThrowArg(env, "bits must be 1, 2 or 4, got 3", false);
  c.per = 8 / c.bits;
  c.buckets = int64_t{1} << c.bits;
  c.row_bytes = (c.dim + c.per - 1) / c.per;
  c.dim_pad = c.row_bytes * c.per;
  Napi::TypedArrayOf<float> cent = F32(env, o.Get("centroids"), "centroids");
  const int64_t clen = static_cast<int64_t>(cent.ElementLength());
  if (clen == 0 || clen % c.dim != 0)
    ThrowArg(env, "centroids length " + std::to_string(clen) + " is not a positive multiple of dim " + std::to_string(c.dim),
             false);
  c.k = clen / c.dim;
  if (c.k > static_cast<int64_t>(UINT32_MAX)) ThrowArg(env, "more than 2^32 - 1 centroids", false);
  c.centroids = cent.Data();
  if (need_weights) {
    Napi::TypedArrayOf<float> w = F32(env, o.Get("weights"), "weights");
    if (static_cast<int64_t>(w.ElementLength()) != c.dim * c.buckets)
      ThrowArg(env, "weights length " + std::to_string(w.ElementLength()) + ", expected dim * 2^bits = " +
                        std::to_string(c.dim * c.buckets), false);
    c.weights = w.Data();
  }
  if (need_cutoffs) {
    Napi::TypedArrayOf<float> cu = F32(env, o.Get("cutoffs"), "cutoffs");
    if (static_cast<int64_t>(cu.ElementLength()) != c.dim * (c.buckets - 1))
      ThrowArg(env, "cutoffs length " + std::to_string(cu.ElementLength()) + ", expected dim * (2^bits - 1) = " +
                        std::to_string(c.dim * (c.buckets - 1)), false);
    c.cutoffs = cu.Data();
  }
  return c;
}

// Compressed tokens and passage boundaries, borrowed for one call.
struct Tokens {
  const uint32_t* codes = nullptr;
  const uint8_t* residuals = nullptr;
  int64_t ntok = 0;
  const uint32_t* off = nullptr;
  int64_t ndocs = 0;
};

void ParseCodesResiduals(Napi::Env env, const Napi::Value& codes_v, const Napi::Value& res_v, const Codec& c,
                         Tokens& t) {
  Napi::TypedArrayOf<uint32_t> codes = U32(env, codes_v, "codes");
  Napi::TypedArrayOf<uint8_t> res = U8(env, res_v, "residuals");
  t.ntok = static_cast<int64_t>(codes.ElementLength());
  if (static_cast<int64_t>(res.ElementLength()) != t.ntok * c.row_bytes)
    ThrowArg(env, "residuals length " + std::to_string(res.ElementLength()) + ", expected codes.length * " +
                      std::to_string(c.row_bytes) + " = " + std::to_string(t.ntok * c.row_bytes), false);
  t.codes = codes.Data();
  t.residuals = res.Data();
}

Tokens ParseTokens(Napi::Env env, const Napi::Object& o, const Codec& c) {
  Tokens t;
  ParseCodesResiduals(env, o.Get("codes"), o.Get("residuals"), c, t);
  Napi::TypedArrayOf<uint32_t> off = U32(env, o.Get("docOffsets"), "docOffsets");
  const int64_t noff = static_cast<int64_t>(off.ElementLength());
  if (noff < 1) ThrowArg(env, "docOffsets must have ndocs + 1 entries", false);
  t.off = off.Data();
  t.ndocs = noff - 1;
  if (t.off[0] != 0 || static_cast<int64_t>(t.off[noff - 1]) != t.ntok)
    ThrowArg(env, "docOffsets must start at 0 and end at codes.length (" + std::to_string(t.ntok) + ")", false);
  return t;
}

// Rows [t0, t1) of passage `doc`, checked against the token count.
inline void DocRange(const Tokens& t, int64_t doc, int64_t& t0, int64_t& t1) {
  if (doc < 0 || doc >= t.ndocs)
    throw ArgError("ordinal " + std::to_string(doc) + " is out of range (" + std::to_string(t.ndocs) + " passages)");
  t0 = t.off[doc];
  t1 = t.off[doc + 1];
  if (t0 > t1 || t1 > t.ntok)
    throw ArgError("docOffsets are inconsistent at passage " + std::to_string(doc) + " (" + std::to_string(t0) + ", " +
                   std::to_string(t1) + ")");
}

inline uint32_t CheckedCode(const Tokens& t, const Codec& c, int64_t row) {
  const uint32_t code = t.codes[row];
  if (code >= c.k)
    throw ArgError("codes[" + std::to_string(row) + "] = " + std::to_string(code) + " is not a centroid id (" +
                   std::to_string(c.k) + " centroids)");
  return code;
}

// A vector of Per floats (GCC vector extension); spelt out because GCC ignores a vector_size
// that depends on a template parameter.
template <int Per>
struct Lanes;
template <>
struct Lanes<2> {
  typedef float V __attribute__((vector_size(8)));
};
template <>
struct Lanes<4> {
  typedef float V __attribute__((vector_size(16)));
};
template <>
struct Lanes<8> {
  typedef float V __attribute__((vector_size(32)));
};

// Decoding through a table: for each residual byte position p and byte value v, the
// 8 / bits weights that byte stands for (256 * dim_pad floats: 128 KiB at dim 128). One table
// lookup per byte instead of a shift, mask and lookup per dimension.
class Decoder {
 public:
  explicit Decoder(const Codec& c) : c_(c), table_(static_cast<size_t>(c.row_bytes) * 256 * c.per, 0.0f) {
    const int mask = static_cast<int>(c.buckets - 1);
    for (int64_t p = 0; p < c.row_bytes; ++p)
      for (int v = 0; v < 256; ++v)
        for (int64_t s = 0; s < c.per; ++s) {
          const int64_t k = p * c.per + s;
          if (k >= c.dim) continue;  // padding bits of the last byte
          const int b = (v >> (s * c.bits)) & mask;
          table_[(static_cast<size_t>(p) * 256 + v) * c.per + s] = c.weights[k * c.buckets + b];
        }
  }

  // out: dim_pad floats; the first dim get centroid + residual, NOT yet normalised. Returns
  // 1 / norm (0 for a zero vector, which stays zero rather than NaN). maxSimResidual scales
  // the dot products instead of the vector (nq multiplications per token instead of dim).
  FNODE_INLINE float Row(uint32_t code, const uint8_t* r, float* out) const {
    const float* cen = c_.centroids + static_cast<size_t>(code) * c_.dim;
    float ss;
    switch (c_.per) {
      case 8: ss = Expand<8>(r, cen, out); break;
      case 4: ss = Expand<4>(r, cen, out); break;
      default: ss = Expand<2>(r, cen, out); break;
    }
    return ss > 0.0f ? 1.0f / std::sqrt(ss) : 0.0f;
  }

  // The unit-length decoded vector (ColBERTv2 re-normalises after decompression).
  void UnitRow(uint32_t code, const uint8_t* r, float* out) const {
    const float inv = Row(code, r, out);
    for (int64_t k = 0; k < c_.dim; ++k) out[k] *= inv;
  }

 private:
  // Table lookup + centroid, fused: one byte's Per floats form one vector (GCC vector
  // extension: SSE by default, AVX in the cloned callers), with four independent sums of
  // squares so that consecutive bytes do not wait on one another's add.
  template <int Per>
  FNODE_INLINE float Expand(const uint8_t* r, const float* cen, float* out) const {
    using V = typename Lanes<Per>::V;
    const float* tab = table_.data();
    const int64_t full = c_.dim / Per;  // bytes whose every slot is a real dimension
    // Byte p: table row (p, r[p]) + centroid slice p, written out, its squares added to acc.
    auto step = [&](int64_t p, V& acc) {
      V w, cv;
      std::memcpy(&w, tab + (static_cast<size_t>(p) * 256 + r[p]) * Per, sizeof(V));
      std::memcpy(&cv, cen + p * Per, sizeof(V));
      const V v = w + cv;
      std::memcpy(out + p * Per, &v, sizeof(V));
      acc += v * v;
    };
    V a0 = {}, a1 = {}, a2 = {}, a3 = {};
    int64_t p = 0;
    for (; p + 4 <= full; p += 4) {
      step(p, a0);
      step(p + 1, a1);
      step(p + 2, a2);
      step(p + 3, a3);
    }
    for (; p < full; ++p) step(p, a0);
    const V sum = (a0 + a1) + (a2 + a3);
    float ss = 0.0f;
    for (int s = 0; s < Per; ++s) ss += sum[s];
    for (int64_t k = full * Per; k < c_.dim; ++k) {  // the last, partly used byte
      const int64_t p = k / Per;
      const float v = tab[(static_cast<size_t>(p) * 256 + r[p]) * Per + (k % Per)] + cen[k];
      out[k] = v;
      ss += v * v;
    }
    return ss;
  }

  const Codec& c_;
  std::vector<float> table_;
};

// Decodes tokens [row, row + n) into out (rows dim_pad apart) and their 1 / norm into inv. The
// codes must have been checked: nothing may throw here (GCC's clone dispatch does not unwind).
FNODE_CLONES void DecodeRun(const Decoder& dec, const Tokens& t, const Codec& c, int64_t row, int64_t n, float* out,
                            float* inv) noexcept {
  for (int64_t x = 0; x < n; ++x)
    inv[x] = dec.Row(t.codes[row + x], t.residuals + (row + x) * c.row_bytes, out + x * c.dim_pad);
}

// best[i] = max(best[i], max over r < n of C[i * ld + r] * inv[r]) for each of nq query tokens.
FNODE_CLONES void MaxOfScaled(const float* C, int64_t ld, const float* inv, int64_t n, int64_t nq,
                              float* best) noexcept {
  for (int64_t i = 0; i < nq; ++i) {
    const float* row = C + i * ld;
    float m = best[i];
    for (int64_t r = 0; r < n; ++r) {
      const float v = row[r] * inv[r];
      m = v > m ? v : m;
    }
    best[i] = m;
  }
}

// Nearest centroid (largest inner product; ties: lowest id) of n rows, blocks of rows in
// parallel (OpenMP), each a single-threaded sgemm against all centroids.
void Assign(const float* x, int64_t n, const Codec& c, uint32_t* out) {
  if (n == 0) return;
  const int64_t block = std::max<int64_t>(1, std::min<int64_t>(1024, (int64_t{1} << 21) / c.k));
  const int64_t nblocks = (n + block - 1) / block;
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), nblocks)));
  // Allocated here: an exception inside the parallel region would terminate the process.
  std::vector<std::vector<float>> bufs(threads, std::vector<float>(static_cast<size_t>(block * c.k)));
#pragma omp parallel for num_threads(threads) schedule(dynamic)
  for (int64_t b = 0; b < nblocks; ++b) {
    float* buf = bufs[omp_get_thread_num()].data();
    const int64_t r0 = b * block;
    const int64_t nb = std::min(block, n - r0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(nb), static_cast<int>(c.k),
                static_cast<int>(c.dim), 1.0f, x + r0 * c.dim, static_cast<int>(c.dim), c.centroids,
                static_cast<int>(c.dim), 0.0f, buf, static_cast<int>(c.k));
    for (int64_t i = 0; i < nb; ++i) {
      const float* row = buf + i * c.k;
      int64_t best = 0;
      float bv = row[0];
      for (int64_t j = 1; j < c.k; ++j)
        if (row[j] > bv) {
          bv = row[j];
          best = j;
        }
      out[r0 + i] = static_cast<uint32_t>(best);
    }
  }
}

int64_t RowsOf(Napi::Env env, const Napi::TypedArrayOf<float>& x, int64_t dim, const char* name) {
  const int64_t len = static_cast<int64_t>(x.ElementLength());
  if (len % dim != 0)
    ThrowArg(env, std::string(name) + " length " + std::to_string(len) + " is not a multiple of dim " + std::to_string(dim),
             false);
  return len / dim;
}

}  // namespace

Napi::Value AssignCentroids(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArrayOf<float> x = ArgFloat32(info, 0, "x");
  Codec c;
  c.dim = ArgInt(info, 1, "dim", 1, kMaxDim);
  Napi::TypedArrayOf<float> cent = ArgFloat32(info, 2, "centroids");
  const int64_t clen = static_cast<int64_t>(cent.ElementLength());
  if (clen == 0 || clen % c.dim != 0)
    ThrowArg(env, "centroids length " + std::to_string(clen) + " is not a positive multiple of dim " + std::to_string(c.dim),
             false);
  c.k = clen / c.dim;
  if (c.k > static_cast<int64_t>(UINT32_MAX)) ThrowArg(env, "more than 2^32 - 1 centroids", false);
  c.centroids = cent.Data();
  const int64_t n = RowsOf(env, x, c.dim, "x");
  Napi::TypedArrayOf<uint32_t> out = Napi::TypedArrayOf<uint32_t>::New(env, static_cast<size_t>(n));
  Guard(env, [&] {
    Assign(x.Data(), n, c, out.Data());
    return 0;
  });
  return out;
}

Napi::Value ResidualEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArrayOf<float> x = ArgFloat32(info, 0, "x");
  const Codec c = ParseCodec(env, ArgObject(info, 1, "codec"), false, true);
  const int64_t n = RowsOf(env, x, c.dim, "x");
  Napi::TypedArrayOf<uint32_t> codes = Napi::TypedArrayOf<uint32_t>::New(env, static_cast<size_t>(n));
  Napi::TypedArrayOf<uint8_t> res = Napi::TypedArrayOf<uint8_t>::New(env, static_cast<size_t>(n * c.row_bytes));
  Guard(env, [&] {
    const float* X = x.Data();
    uint32_t* code = codes.Data();
    uint8_t* R = res.Data();
    Assign(X, n, c, code);
    const int64_t ncut = c.buckets - 1;
    for (int64_t t = 0; t < n; ++t) {
      const float* xr = X + t * c.dim;
      const float* cen = c.centroids + static_cast<size_t>(code[t]) * c.dim;
      uint8_t* out = R + t * c.row_bytes;
      std::memset(out, 0, static_cast<size_t>(c.row_bytes));
      for (int64_t k = 0; k < c.dim; ++k) {
        const float r = xr[k] - cen[k];
        const float* cut = c.cutoffs + k * ncut;
        int b = 0;
        for (int64_t j = 0; j < ncut; ++j) b += r > cut[j];  // bucketize: cutoffs below r
        out[k / c.per] |= static_cast<uint8_t>(b << ((k % c.per) * c.bits));
      }
    }
    return 0;
  });
  Napi::Object out = Napi::Object::New(env);
  out.Set("codes", codes);
  out.Set("residuals", res);
  return out;
}

Napi::Value ResidualDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Codec c = ParseCodec(env, ArgObject(info, 0, "codec"), true, false);
  Tokens t;
  ParseCodesResiduals(env, info[1], info[2], c, t);
  Napi::TypedArrayOf<float> out = Napi::TypedArrayOf<float>::New(env, static_cast<size_t>(t.ntok * c.dim));
  Guard(env, [&] {
    Decoder dec(c);
    std::vector<float> row(static_cast<size_t>(c.dim_pad));
    float* o = out.Data();
    for (int64_t r = 0; r < t.ntok; ++r) {
      dec.UnitRow(CheckedCode(t, c, r), t.residuals + r * c.row_bytes, row.data());
      std::memcpy(o + r * c.dim, row.data(), static_cast<size_t>(c.dim) * sizeof(float));
    }
    return 0;
  });
  return out;
}

// score[j] = sum over query tokens i of max over passage ordinals[j]'s decoded tokens t of
// dot(q_i, d_t); a passage without tokens scores 0, as in maxsim.cc. The candidates' tokens are
// decoded into a scratch block (rows of dim_pad floats) and scored with one sgemm per block; a
// passage may straddle blocks, so per-(passage, query token) maxima live in `best`.
Napi::Value MaxSimResidual(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArrayOf<float> q = ArgFloat32(info, 0, "queries");
  Napi::Object store = ArgObject(info, 1, "store");
  const Codec c = ParseCodec(env, store, true, false);
  const Tokens t = ParseTokens(env, store, c);
  Napi::TypedArrayOf<uint32_t> ord = U32(env, info[2], "ordinals");
  const int64_t nq = RowsOf(env, q, c.dim, "queries");
  if (nq > INT_MAX) ThrowArg(env, "queries holds more than 2^31-1 token vectors", false);
  const int64_t nsel = static_cast<int64_t>(ord.ElementLength());

  Napi::TypedArrayOf<float> out = Napi::TypedArrayOf<float>::New(env, static_cast<size_t>(nsel));
  float* score = out.Data();
  std::fill(score, score + nsel, 0.0f);
  const uint32_t* sel = ord.Data();
  Guard(env, [&] {
    for (int64_t j = 0; j < nsel; ++j) {  // validate before any work
      int64_t a, b;
      DocRange(t, sel[j], a, b);
      for (; a < b; ++a) CheckedCode(t, c, a);
    }
    if (nq == 0 || nsel == 0) return 0;
    const Decoder dec(c);
    const int64_t block = std::max<int64_t>(1, std::min(kScoreBlockRows, kMaxScoreFloats / nq));
    // Kept per thread between calls: fresh multi-megabyte buffers cost a page fault per 4 KiB
    // on every query, which on a VM is a large share of a re-rank.
    thread_local std::vector<float> scratch, C, inv, best;
    scratch.resize(static_cast<size_t>(block * c.dim_pad));
    C.resize(static_cast<size_t>(nq * block));
    inv.resize(static_cast<size_t>(block));  // 1 / norm of each scratch row
    best.assign(static_cast<size_t>(nsel * nq), kNegInf);
    struct Segment {
      int64_t j, row, count;
    };
    std::vector<Segment> segs;
    int64_t fill = 0;
    const float* Q = q.Data();

    auto flush = [&] {
      if (fill == 0) return;
      // C (nq x fill) = Q (nq x dim) * scratch[0:fill]^T; scratch rows are dim_pad apart.
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(nq), static_cast<int>(fill),
                  static_cast<int>(c.dim), 1.0f, Q, static_cast<int>(c.dim), scratch.data(),
                  static_cast<int>(c.dim_pad), 0.0f, C.data(), static_cast<int>(fill));
      for (const Segment& s : segs)
        MaxOfScaled(C.data() + s.row, fill, inv.data() + s.row, s.count, nq, best.data() + s.j * nq);
      segs.clear();
      fill = 0;
    };

    for (int64_t j = 0; j < nsel; ++j) {
      int64_t r, end;
      DocRange(t, sel[j], r, end);
      while (r < end) {
        const int64_t take = std::min(end - r, block - fill);
        DecodeRun(dec, t, c, r, take, scratch.data() + fill * c.dim_pad, inv.data() + fill);
        segs.push_back({j, fill, take});
        fill += take;
        r += take;
        if (fill == block) flush();
      }
    }
    flush();
    for (int64_t j = 0; j < nsel; ++j) {
      if (t.off[sel[j]] == t.off[sel[j] + 1]) continue;  // empty passage: 0
      double s = 0;
      for (int64_t i = 0; i < nq; ++i) s += best[j * nq + i];
      score[j] = static_cast<float>(s);
    }
    return 0;
  });
  return out;
}

// PLAID candidate generation (stages 1-3 of Santhanam et al., "PLAID", 2022):
//  1. S = centroids · queriesᵀ (K x nq): every centroid's score against every query token.
//  2. The nprobe best centroids of each query token; their passages (ivf lists), united.
//  3. Optional (threshold given): pruned centroid interaction, only tokens whose centroid
//     reaches `threshold` for some query token count; the best max(limit, pruneKeep) go on.
//  4. Approximate score: centroid-only MaxSim, Σ_i max_t S[code_t, i] (rows of S are contiguous
//     per centroid, so each token costs one pass over nq floats); the `limit` best (ties: lower
//     ordinal first), best first. Exact scoring of those is maxSimResidual's (PLAID stage 4).
Napi::Value PlaidCandidates(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArrayOf<float> q = ArgFloat32(info, 0, "queries");
  Napi::Object store = ArgObject(info, 1, "store");
  const Codec c = ParseCodec(env, store, false, false);
  Tokens t;
  {
    Napi::TypedArrayOf<uint32_t> codes = U32(env, store.Get("codes"), "codes");
    t.codes = codes.Data();
    t.ntok = static_cast<int64_t>(codes.ElementLength());
    Napi::TypedArrayOf<uint32_t> off = U32(env, store.Get("docOffsets"), "docOffsets");
    if (off.ElementLength() < 1) ThrowArg(env, "docOffsets must have ndocs + 1 entries", false);
    t.off = off.Data();
    t.ndocs = static_cast<int64_t>(off.ElementLength()) - 1;
    if (t.off[0] != 0 || static_cast<int64_t>(t.off[t.ndocs]) != t.ntok)
      ThrowArg(env, "docOffsets must start at 0 and end at codes.length (" + std::to_string(t.ntok) + ")", false);
  }
  Napi::TypedArrayOf<uint32_t> ivf_off_a = U32(env, store.Get("ivfOffsets"), "ivfOffsets");
  Napi::TypedArrayOf<uint32_t> ivf_docs_a = U32(env, store.Get("ivfDocs"), "ivfDocs");
  if (static_cast<int64_t>(ivf_off_a.ElementLength()) != c.k + 1)
    ThrowArg(env, "ivfOffsets length " + std::to_string(ivf_off_a.ElementLength()) + ", expected centroids + 1 = " +
                      std::to_string(c.k + 1), false);
  const uint32_t* ivf_off = ivf_off_a.Data();
  const uint32_t* ivf_docs = ivf_docs_a.Data();
  const int64_t nivf = static_cast<int64_t>(ivf_docs_a.ElementLength());
  if (ivf_off[0] != 0 || static_cast<int64_t>(ivf_off[c.k]) != nivf)
    ThrowArg(env, "ivfOffsets must start at 0 and end at ivfDocs.length (" + std::to_string(nivf) + ")", false);
  const int64_t nprobe = std::min<int64_t>(ArgInt(info, 2, "nprobe", 1, INT_MAX), c.k);
  const int64_t limit = ArgInt(info, 3, "limit", 0, INT_MAX);
  // Optional pruned first pass: threshold (a number; -Infinity or absent = no pruning) and how
  // many passages it keeps for the full centroid interaction.
  float threshold = kNegInf;
  int64_t prune_keep = 0;
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    if (!info[4].IsNumber()) ThrowArg(env, "threshold must be a number");
    const double th = info[4].As<Napi::Number>().DoubleValue();
    if (std::isnan(th)) ThrowArg(env, "threshold must not be NaN", false);
    threshold = static_cast<float>(th);
    prune_keep = ArgInt(info, 5, "pruneKeep", 0, INT_MAX);
  }
  const bool prune = threshold > kNegInf;
  const int64_t nq = RowsOf(env, q, c.dim, "queries");
  if (nq > INT_MAX) ThrowArg(env, "queries holds more than 2^31-1 token vectors", false);

  std::vector<uint32_t> picked;
  std::vector<float> picked_scores;
  Guard(env, [&] {
    if (nq == 0 || limit == 0 || t.ndocs == 0) return 0;
    std::vector<float> S(static_cast<size_t>(c.k * nq));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(c.k), static_cast<int>(nq),
                static_cast<int>(c.dim), 1.0f, c.centroids, static_cast<int>(c.dim), q.Data(),
                static_cast<int>(c.dim), 0.0f, S.data(), static_cast<int>(nq));

    // Per query token, the nprobe best centroids, kept sorted ascending (slot 0 = the worst kept):
    // one pass over S in memory order; an insertion is rare once the lists fill.
    std::vector<float> topv(static_cast<size_t>(nq * nprobe), kNegInf);
    std::vector<int64_t> topi(static_cast<size_t>(nq * nprobe), -1);
    for (int64_t k = 0; k < c.k; ++k) {
      const float* row = S.data() + k * nq;
      for (int64_t i = 0; i < nq; ++i) {
        const float v = row[i];
        float* tv = topv.data() + i * nprobe;
        if (!(v > tv[0]) && topi[i * nprobe] >= 0) continue;
        int64_t* ti = topi.data() + i * nprobe;
        int64_t p = 0;
        while (p + 1 < nprobe && (v > tv[p + 1] || ti[p + 1] < 0)) {
          tv[p] = tv[p + 1];
          ti[p] = ti[p + 1];
          ++p;
        }
        tv[p] = v;
        ti[p] = k;
      }
    }
    // PLAID's centroid pruning: a centroid below `threshold` for every query token is "dead".
    std::vector<uint8_t> live;
    if (prune) {
      live.assign(static_cast<size_t>(c.k), 0);
      for (int64_t k = 0; k < c.k; ++k) {
        const float* row = S.data() + k * nq;
        float m = kNegInf;
        for (int64_t i = 0; i < nq; ++i) m = row[i] > m ? row[i] : m;
        live[k] = m >= threshold;
      }
    }
    std::vector<uint8_t> probe(static_cast<size_t>(c.k), 0);
    for (int64_t x = 0; x < nq * nprobe; ++x)
      if (topi[x] >= 0) probe[topi[x]] = 1;

    std::vector<uint8_t> seen(static_cast<size_t>(t.ndocs), 0);
    std::vector<uint32_t> cand;
    for (int64_t k = 0; k < c.k; ++k) {
      if (!probe[k]) continue;
      const int64_t a = ivf_off[k], b = ivf_off[k + 1];
      if (a > b || b > nivf) throw ArgError("ivfOffsets are inconsistent at centroid " + std::to_string(k));
      for (int64_t p = a; p < b; ++p) {
        const uint32_t d = ivf_docs[p];
        if (d >= t.ndocs)
          throw ArgError("ivfDocs[" + std::to_string(p) + "] = " + std::to_string(d) + " is not a passage ordinal (" +
                         std::to_string(t.ndocs) + " passages)");
        if (!seen[d]) {
          seen[d] = 1;
          cand.push_back(d);
        }
      }
    }

    // Centroid-only MaxSim of one passage. Pruned (PLAID stage 2): only tokens whose centroid
    // scores at least `threshold` against some query token count, and an empty max is 0.
    std::vector<float> best(static_cast<size_t>(nq));
    auto approx_score = [&](uint32_t doc, bool pruned) {
      int64_t r, end;
      DocRange(t, doc, r, end);
      if (r == end) return 0.0f;
      std::fill(best.begin(), best.end(), pruned ? 0.0f : kNegInf);
      for (; r < end; ++r) {
        const uint32_t code = t.codes[r];
        if (code >= c.k)
          throw ArgError("codes[" + std::to_string(r) + "] = " + std::to_string(code) + " is not a centroid id (" +
                         std::to_string(c.k) + " centroids)");
        if (pruned && !live[code]) continue;
        const float* row = S.data() + static_cast<size_t>(code) * nq;
        for (int64_t i = 0; i < nq; ++i) best[i] = row[i] > best[i] ? row[i] : best[i];
      }
      float s = 0.0f;
      for (int64_t i = 0; i < nq; ++i) s += best[i];
      return s;
    };
    // The n best of `docs` by `score` (ties: lower ordinal), best first; both reordered in place.
    auto keep_best = [](std::vector<uint32_t>& docs, std::vector<float>& score, size_t n) {
      std::vector<uint32_t> idx(docs.size());
      for (size_t j = 0; j < idx.size(); ++j) idx[j] = static_cast<uint32_t>(j);
      n = std::min(n, idx.size());
      std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), [&](uint32_t a, uint32_t b) {
        if (score[a] != score[b]) return score[a] > score[b];
        return docs[a] < docs[b];
      });
      std::vector<uint32_t> d(n);
      std::vector<float> sc(n);
      for (size_t j = 0; j < n; ++j) {
        d[j] = docs[idx[j]];
        sc[j] = score[idx[j]];
      }
      docs.swap(d);
      score.swap(sc);
    };

    std::vector<float> approx(cand.size());
    if (prune) {
      for (size_t j = 0; j < cand.size(); ++j) approx[j] = approx_score(cand[j], true);
      keep_best(cand, approx, static_cast<size_t>(std::max(limit, prune_keep)));
    }
    for (size_t j = 0; j < cand.size(); ++j) approx[j] = approx_score(cand[j], false);
    keep_best(cand, approx, static_cast<size_t>(limit));
    picked.swap(cand);
    picked_scores.swap(approx);
    return 0;
  });
  Napi::TypedArrayOf<uint32_t> ords = Napi::TypedArrayOf<uint32_t>::New(env, picked.size());
  std::copy(picked.begin(), picked.end(), ords.Data());
  Napi::TypedArrayOf<float> scores = Napi::TypedArrayOf<float>::New(env, picked_scores.size());
  std::copy(picked_scores.begin(), picked_scores.end(), scores.Data());
  Napi::Object out = Napi::Object::New(env);
  out.Set("ordinals", ords);
  out.Set("scores", scores);
  return out;
}

}  // namespace fnode
