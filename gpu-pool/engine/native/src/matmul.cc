// C = op(A) * op(B), row-major, single-threaded BLAS (addon.cc), synchronous on the JS thread.
// op(A) is m x k: A is stored m x k, or k x m when transA. op(B) is k x n: B is stored k x n,
// or n x k when transB. Every length is checked against the shape before BLAS sees a pointer.
#include "matmul.h"

#include <cblas.h>

#include <climits>
#include <cstdint>
#include <string>

#include "common.h"

namespace fnode {

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArrayOf<float> a = ArgFloat32(info, 0, "a");
  Napi::TypedArrayOf<float> b = ArgFloat32(info, 1, "b");
  const int64_t m = ArgInt(info, 2, "m", 0, INT_MAX);
  const int64_t n = ArgInt(info, 3, "n", 0, INT_MAX);
  const int64_t k = ArgInt(info, 4, "k", 0, INT_MAX);
  if (!info[5].IsBoolean()) ThrowArg(env, "transA must be a boolean");
  if (!info[6].IsBoolean()) ThrowArg(env, "transB must be a boolean");
  const bool ta = info[5].As<Napi::Boolean>().Value();
  const bool tb = info[6].As<Napi::Boolean>().Value();
  if (static_cast<int64_t>(a.ElementLength()) != m * k)
    ThrowArg(env, "a has " + std::to_string(a.ElementLength()) + " elements, m * k = " + std::to_string(m * k), false);
  if (static_cast<int64_t>(b.ElementLength()) != k * n)
    ThrowArg(env, "b has " + std::to_string(b.ElementLength()) + " elements, k * n = " + std::to_string(k * n), false);
  if (m * n > (int64_t{1} << 31)) ThrowArg(env, "the product would hold more than 2^31 floats", false);

  Napi::TypedArrayOf<float> out = Napi::TypedArrayOf<float>::New(env, static_cast<size_t>(m * n));
  float* c = out.Data();
  if (m == 0 || n == 0) return out;
  if (k == 0) {
    for (int64_t i = 0; i < m * n; ++i) c[i] = 0.0f;
    return out;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a.Data(), static_cast<int>(ta ? m : k), b.Data(),
              static_cast<int>(tb ? k : n), 0.0f, c, static_cast<int>(n));
  return out;
}

}  // namespace fnode
