// Walking the faiss index structure: per-call search parameters, the
// ParameterSpace fallback, reconstruct preparation, validation, description.
#pragma once

#include "common.h"

#include <memory>
#include <string>
#include <vector>

namespace faiss {
struct IndexIVF;
struct IndexHNSW;
struct IndexRefine;
struct ClusteringParameters;
struct OPQMatrix;
struct ProductQuantizer;
}  // namespace faiss

namespace fnode {

// Per-call search parameters; negative = not given (use the index's own).
struct SearchReq {
  int64_t nprobe = -1;
  int64_t efSearch = -1;
  // IndexRefine's k_factor: the base index returns k * kFactor candidates, re-scored exactly.
  double kFactor = -1;
  bool any() const { return nprobe > 0 || efSearch > 0 || kFactor > 0; }
};

// Full search with locking. Thread-safe path (read lock, faiss 1.7.3
// SearchParameters built by walking the structure) when every wrapper between
// the top and the tuned layer can forward parameters; otherwise the fallback
// path (write lock, ParameterSpace set / search / restore).
// Returns true when the fallback path was used.
bool SearchIndex(Holder& h, idx_t n, const float* x, idx_t k, float* D, idx_t* I,
                 const SearchReq& req);

// Whether a search with `req` would take the thread-safe path.
bool ParamsAreThreadSafe(const faiss::Index* ix, const SearchReq& req);

// The IVF layer reachable through PreTransform / IDMap(2) / Refine(base).
faiss::IndexIVF* FindIVF(faiss::Index* ix);
// The HNSW graph efSearch applies to: an IndexHNSW, or an IVF's HNSW quantizer.
faiss::IndexHNSW* FindHNSW(faiss::Index* ix);
// The refine layer kFactor applies to, reachable through PreTransform / IDMap(2).
faiss::IndexRefine* FindRefine(faiss::Index* ix);

// Reconstruct support. NeedsDirectMap returns the IVF whose direct map must be
// switched on (Hashtable) before reconstruct can work, or nullptr.
faiss::IndexIVF* NeedsDirectMap(faiss::Index* ix);
// True when an IVF inside has a Hashtable direct map (set by reconstruct): faiss
// then removes ids only through an IDSelectorArray.
bool HasHashtableDirectMap(const faiss::Index* ix);
// True when faiss itself validates the id (IDMap2 / IVF); otherwise ids are
// sequential and the caller must check 0 <= id < ntotal (faiss does not).
bool ReconstructChecksIds(const faiss::Index* ix);

// What the index would store for x, decoded again (n rows of d floats into
// out): the quantization round trip of its trained codec (OPQ/PCA chain, IVF
// assignment and residual, PQ/SQ codes). HNSW and IDMap wrappers are looked
// through to the storage they encode with. Throws for types without a codec.
void QuantizeRoundTrip(const faiss::Index* ix, idx_t n, const float* x, float* out);

// Reject structures that faiss 1.7.3 would assert()/abort on later.
void ValidateStructure(const faiss::Index* ix);
// Reject factory keys with parameters that abort later (IVF0, HNSW0/1).
void ValidateFactoryKey(const std::string& key);

// One kind of k-means run (faiss::Clustering) that training the index performs.
struct ClusteringInfo {
  std::string what;             // e.g. "PQ sub-quantizers", "IVF coarse quantizer"
  int64_t centroids = 0;        // k of each run
  int64_t min_points_per_centroid = 0;  // faiss's threshold for its warning
  int64_t runs = 0;             // how many such runs one train() makes
};

// The clusterings train() would run on the untrained parts of this index:
// IndexPreTransform (OPQMatrix), IndexIDMap(2), IndexRefine, IndexHNSW's
// storage, IVF coarse quantizers, IVF-PQ / IVF-PQR / PQ / PQ fast-scan
// codebooks, Index2Layer, MultiIndexQuantizer. Other types (additive
// quantizers, ...) are not listed and keep faiss's own warning.
std::vector<ClusteringInfo> TrainingClusterings(faiss::Index* ix);

// While alive, faiss prints no "WARNING clustering N points to K centroids:
// please provide at least M training points" during train(): in faiss 1.7.3,
// ClusteringParameters::min_points_per_centroid is read only by that warning
// (Clustering::train_encoded; subsampling uses max_points_per_centroid), so it
// is set to 0 on every clustering listed by TrainingClusterings. OPQMatrix
// trains a PQ of its own (d_out, M, 8 bits) that no caller can reach; we lend
// it an identical one (OPQMatrix::pq) with the threshold at 0. The destructor
// restores the thresholds and takes the lent PQ back.
class ClusteringWarningsOff {
 public:
  explicit ClusteringWarningsOff(faiss::Index* ix);
  ~ClusteringWarningsOff();
  ClusteringWarningsOff(const ClusteringWarningsOff&) = delete;
  ClusteringWarningsOff& operator=(const ClusteringWarningsOff&) = delete;

 private:
  void Restore();
  std::vector<std::pair<faiss::ClusteringParameters*, int>> saved_;
  std::vector<std::pair<faiss::OPQMatrix*, std::unique_ptr<faiss::ProductQuantizer>>> lent_;
};

// Human readable type chain, e.g.
// "IndexPreTransform[OPQMatrix] > IndexIVFPQ(nlist=64, M=16, nbits=8)".
std::string Describe(const faiss::Index* ix);

}  // namespace fnode
