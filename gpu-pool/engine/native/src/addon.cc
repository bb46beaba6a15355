// faiss_node: node-addon-api binding to the system faiss library.
// Module surface: Index (class, not constructible from JS), create(),
// readFile(), fromBuffer(), setThreads(), getThreads(), maxSim(), matmul(), kmeans(),
// assignCentroids(), residualEncode(), residualDecode(), maxSimResidual(), plaidCandidates(),
// faissVersion.
#include <napi.h>

#include <faiss/Index.h>
#include <omp.h>

#include "common.h"
#include "index_wrap.h"
#include "kmeans.h"
#include "matmul.h"
#include "maxsim.h"
#include "residual.h"

// OpenBLAS's own thread pool fights faiss's OpenMP threads (training slows
// to a crawl), so BLAS runs single-threaded and faiss parallelises above it.
extern "C" void openblas_set_num_threads(int num_threads);

namespace fnode {
namespace {

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int64_t n = ArgInt(info, 0, "threads", 1, 1024);
  g_threads.store(static_cast<int>(n));
  omp_set_num_threads(static_cast<int>(n));  // the JS thread (clone, reconstruct)
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), g_threads.load());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  openblas_set_num_threads(1);
  g_threads.store(omp_get_max_threads());  // honours OMP_NUM_THREADS

  exports.Set("Index", IndexWrap::Define(env));
  exports.Set("create", Napi::Function::New(env, CreateIndex, "create"));
  exports.Set("readFile", Napi::Function::New(env, ReadIndexFile, "readFile"));
  exports.Set("fromBuffer", Napi::Function::New(env, ReadIndexBuffer, "fromBuffer"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("maxSim", Napi::Function::New(env, MaxSim, "maxSim"));
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("kmeans", Napi::Function::New(env, Kmeans, "kmeans"));
  exports.Set("assignCentroids", Napi::Function::New(env, AssignCentroids, "assignCentroids"));
  exports.Set("residualEncode", Napi::Function::New(env, ResidualEncode, "residualEncode"));
  exports.Set("residualDecode", Napi::Function::New(env, ResidualDecode, "residualDecode"));
  exports.Set("maxSimResidual", Napi::Function::New(env, MaxSimResidual, "maxSimResidual"));
  exports.Set("plaidCandidates", Napi::Function::New(env, PlaidCandidates, "plaidCandidates"));
  exports.Set("faissVersion", Napi::String::New(env, std::to_string(FAISS_VERSION_MAJOR) + "." +
                                                         std::to_string(FAISS_VERSION_MINOR) + "." +
                                                         std::to_string(FAISS_VERSION_PATCH)));
  return exports;
}

}  // namespace
}  // namespace fnode

static Napi::Object InitFaissNode(Napi::Env env, Napi::Object exports) { return fnode::Init(env, exports); }

NODE_API_MODULE(faiss_node, InitFaissNode)
