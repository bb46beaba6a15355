// ColBERT late interaction: MaxSim scoring of candidate passages against one
// query's token vectors, on the JS thread, with OpenBLAS sgemm.
#pragma once

#include <napi.h>

namespace fnode {

// maxSim(queries: Float32Array, dim, docTokens: Float32Array, docOffsets: Uint32Array)
//   -> Float32Array(ndocs). See maxsim.cc.
Napi::Value MaxSim(const Napi::CallbackInfo& info);

}  // namespace fnode
