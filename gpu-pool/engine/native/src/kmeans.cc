// k-means with faiss::Clustering on a libuv pool thread (training a codebook of thousands of
// centroids on a sample takes seconds to minutes: the event loop must stay free).
//
// Options: niter (default 20, ColBERTv2's), seed (default 1234), spherical (centroids
// L2-normalised after each update: what inner-product assignment of unit vectors wants),
// metric 'ip' | 'l2' (the assignment index: IndexFlatIP or IndexFlatL2), maxPointsPerCentroid
// (faiss subsamples above k * this, default faiss's 256).
//
// faiss prints a warning when n < k * min_points_per_centroid (39); the caller decides how
// many centroids a sample supports, so that field is set to 0 (no warning). n < k is an error.
#include "kmeans.h"

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>

#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "common.h"

namespace fnode {
namespace {

class KmeansWorker : public PromiseWorker {
 public:
  KmeansWorker(Napi::Env env, Napi::TypedArrayOf<float> x, int64_t d, int64_t n, int64_t k,
               faiss::ClusteringParameters cp, bool ip)
      : PromiseWorker(env), xref_(Napi::Persistent(x)), x_(x.Data()), d_(d), n_(n), k_(k), cp_(cp), ip_(ip) {}

 private:
  void Run() override {
    faiss::Clustering clus(static_cast<int>(d_), static_cast<int>(k_), cp_);
    std::unique_ptr<faiss::Index> index;
    if (ip_)
      index = std::make_unique<faiss::IndexFlatIP>(d_);
    else
      index = std::make_unique<faiss::IndexFlatL2>(d_);
    clus.train(n_, x_, *index);
    centroids_ = std::move(clus.centroids);
    objective_ = clus.iteration_stats.empty() ? 0.0 : clus.iteration_stats.back().obj;
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::TypedArrayOf<float> c = Napi::TypedArrayOf<float>::New(env, centroids_.size());
    std::copy(centroids_.begin(), centroids_.end(), c.Data());
    Napi::Object out = Napi::Object::New(env);
    out.Set("centroids", c);
    out.Set("objective", Napi::Number::New(env, objective_));
    return out;
  }

  Napi::Reference<Napi::TypedArrayOf<float>> xref_;  // keeps the input alive while faiss reads it
  const float* x_;
  int64_t d_, n_, k_;
  faiss::ClusteringParameters cp_;
  bool ip_;
  std::vector<float> centroids_;
  double objective_ = 0;
};

}  // namespace

Napi::Value Kmeans(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArrayOf<float> x = ArgFloat32(info, 0, "x");
  const int64_t d = ArgInt(info, 1, "d", 1, 65536);
  const int64_t k = ArgInt(info, 2, "k", 1, INT_MAX);
  const int64_t len = static_cast<int64_t>(x.ElementLength());
  if (len % d != 0)
    ThrowArg(env, "x length " + std::to_string(len) + " is not a multiple of d " + std::to_string(d), false);
  const int64_t n = len / d;
  // faiss would throw too, but its message names neither argument.
  if (n < k)
    ThrowArg(env, "k-means needs at least k = " + std::to_string(k) + " points, got " + std::to_string(n), false);

  faiss::ClusteringParameters cp;
  cp.niter = 20;
  cp.seed = 1234;
  cp.verbose = false;
  cp.min_points_per_centroid = 0;
  bool ip = false;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    if (!info[3].IsObject()) ThrowArg(env, "options must be an object");
    Napi::Object o = info[3].As<Napi::Object>();
    if (o.Has("niter") && !o.Get("niter").IsUndefined())
      cp.niter = static_cast<int>(ArgIntValue(env, o.Get("niter"), "niter", 1, 100000));
    if (o.Has("seed") && !o.Get("seed").IsUndefined())
      cp.seed = static_cast<int>(ArgIntValue(env, o.Get("seed"), "seed", INT_MIN, INT_MAX));
    if (o.Has("maxPointsPerCentroid") && !o.Get("maxPointsPerCentroid").IsUndefined())
      cp.max_points_per_centroid =
          static_cast<int>(ArgIntValue(env, o.Get("maxPointsPerCentroid"), "maxPointsPerCentroid", 1, INT_MAX));
    if (o.Has("spherical") && !o.Get("spherical").IsUndefined()) {
      if (!o.Get("spherical").IsBoolean()) ThrowArg(env, "spherical must be a boolean");
      cp.spherical = o.Get("spherical").As<Napi::Boolean>().Value();
    }
    if (o.Has("metric") && !o.Get("metric").IsUndefined()) {
      const Napi::Value m = o.Get("metric");
      const std::string s = m.IsString() ? m.As<Napi::String>().Utf8Value() : "";
      if (s != "ip" && s != "l2") ThrowArg(env, "metric must be 'ip' or 'l2'");
      ip = s == "ip";
    }
  }
  return (new KmeansWorker(env, x, d, n, k, cp, ip))->Queue();
}

}  // namespace fnode
