// Dense float matrix product for the training loops of the engine (ColBERT's projection), on
// the JS thread, with OpenBLAS sgemm: JS loops over 512 x 128 projections of every token would
// cost minutes per epoch.
#pragma once

#include <napi.h>

namespace fnode {

// matmul(a: Float32Array, b: Float32Array, m, n, k, transA: boolean, transB: boolean)
//   -> Float32Array(m * n) = op(a) (m x k) * op(b) (k x n), row-major. See matmul.cc.
Napi::Value Matmul(const Napi::CallbackInfo& info);

}  // namespace fnode
