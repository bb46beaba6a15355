#include "structure.h"

#include <faiss/AutoTune.h>
#include <faiss/Clustering.h>
#include <faiss/Index2Layer.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFPQFastScan.h>
#include <faiss/IndexIVFPQR.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexPQFastScan.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <faiss/VectorTransform.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/ProductQuantizer.h>

#include <cxxabi.h>

#include <algorithm>
#include <limits>

#include <cstdlib>
#include <memory>
#include <regex>
#include <typeinfo>
#include <vector>

namespace fnode {

namespace {

// Owns the SearchParameters objects of one call (they point at each other).
struct ParamStore {
  std::vector<std::unique_ptr<faiss::SearchParameters>> owned;
  template <class T>
  T* make() {
    auto p = std::make_unique<T>();
    T* raw = p.get();
    owned.push_back(std::move(p));
    return raw;
  }
};

// faiss 1.7.3 forwarding, checked against the library:
//  - IndexIVF::search takes SearchParametersIVF (nprobe, max_codes) and passes
//    quantizer_params to the quantizer's search (so efSearch reaches an HNSW
//    coarse quantizer, "IVFx_HNSWy").
//  - IndexHNSW::search takes SearchParametersHNSW (efSearch).
//  - IndexPreTransform::search takes SearchParametersPreTransform and passes
//    index_params to the sub-index (OPQ / PCA / ... prefixes).
//  - IndexIDMap / IndexIDMap2::search throw "search params not supported for
//    this index" for any non-null params: we search the sub-index ourselves
//    with the params and translate labels through id_map, exactly what
//    IndexIDMap::search does.
//  - IndexRefine (",RFlat" / ",Refine(...)") rejects params too: on top (or
//    under IDMaps) we search its base index with the params for k * kFactor
//    candidates and re-score them ourselves, as IndexRefine::search does;
//    anywhere else, fallback.
//
// Returns false when `ix` cannot receive the requested parameters per call.
bool BuildParams(const faiss::Index* ix, const SearchReq& req, ParamStore& st,
                 faiss::SearchParameters*& out) {
  out = nullptr;
  if (auto pt = dynamic_cast<const faiss::IndexPreTransform*>(ix)) {
    faiss::SearchParameters* inner = nullptr;
    if (!BuildParams(pt->index, req, st, inner)) return false;
    if (!inner) return true;
    auto* p = st.make<faiss::SearchParametersPreTransform>();
    p->index_params = inner;
    out = p;
    return true;
  }
  if (auto ivf = dynamic_cast<const faiss::IndexIVF*>(ix)) {
    faiss::SearchParametersIVF* p = nullptr;
    if (auto ivfpq = dynamic_cast<const faiss::IndexIVFPQ*>(ix)) {
      auto* q = st.make<faiss::IVFPQSearchParameters>();
      q->scan_table_threshold = ivfpq->scan_table_threshold;
      q->polysemous_ht = ivfpq->polysemous_ht;
      p = q;
    } else {
      p = st.make<faiss::SearchParametersIVF>();
    }
    p->nprobe = req.nprobe > 0 ? static_cast<size_t>(req.nprobe) : ivf->nprobe;
    p->max_codes = ivf->max_codes;
    if (req.efSearch > 0) {
      if (auto qh = dynamic_cast<const faiss::IndexHNSW*>(ivf->quantizer)) {
        auto* hp = st.make<faiss::SearchParametersHNSW>();
        hp->efSearch = static_cast<int>(req.efSearch);
        hp->check_relative_distance = qh->hnsw.check_relative_distance;
        p->quantizer_params = hp;
      }
    }
    out = p;
    return true;
  }
  if (auto hn = dynamic_cast<const faiss::IndexHNSW*>(ix)) {
    if (req.efSearch <= 0) return true;
    auto* p = st.make<faiss::SearchParametersHNSW>();
    p->efSearch = static_cast<int>(req.efSearch);
    p->check_relative_distance = hn->hnsw.check_relative_distance;
    out = p;
    return true;
  }
  // Leaf (Flat, PQ, SQ, ...) or a wrapper we cannot forward through. A
  // parameter that has no layer to act on is ignored (nprobe on Flat).
  auto* mix = const_cast<faiss::Index*>(ix);
  bool tunable = (req.nprobe > 0 && FindIVF(mix)) || (req.efSearch > 0 && FindHNSW(mix)) ||
                 (req.kFactor > 0 && FindRefine(mix));
  return !tunable;
}

// The index SearchRec hands parameters to: below the IDMaps and refine layers it searches itself.
const faiss::Index* PeelSearchWrappers(const faiss::Index* ix) {
  for (;;) {
    if (auto im = dynamic_cast<const faiss::IndexIDMap*>(ix)) {
      ix = im->index;
    } else if (auto rf = dynamic_cast<const faiss::IndexRefine*>(ix)) {
      ix = rf->base_index;
    } else {
      return ix;
    }
  }
}

void SearchRec(const faiss::Index* ix, idx_t n, const float* x, idx_t k, float* D, idx_t* I,
               const SearchReq& req);

// An HNSW graph searched directly (through pre-transforms), not as an IVF's coarse quantizer.
bool HnswGraphOnTop(const faiss::Index* ix) {
  while (auto pt = dynamic_cast<const faiss::IndexPreTransform*>(ix)) ix = pt->index;
  return dynamic_cast<const faiss::IndexHNSW*>(ix) != nullptr;
}

// IndexRefine::search with per-call parameters: k * kFactor candidates from the base index
// (searched with req), their exact scores from the refine index, the best k kept.
void SearchRefine(const faiss::IndexRefine* rf, idx_t n, const float* x, idx_t k, float* D, idx_t* I,
                  const SearchReq& req) {
  const double factor = req.kFactor > 0 ? req.kFactor : rf->k_factor;
  const idx_t kBase = std::max<idx_t>(k, static_cast<idx_t>(static_cast<double>(k) * factor));
  std::vector<float> bd(static_cast<size_t>(n * kBase));
  std::vector<idx_t> bl(static_cast<size_t>(n * kBase));
  SearchRec(rf->base_index, n, x, kBase, bd.data(), bl.data(), req);
  // The refine index is addressed by the base's labels: ids an IDMap below the refine layer
  // assigned are not positions in it (faiss only assert()s this).
  for (const idx_t label : bl)
    if (label >= rf->refine_index->ntotal)
      throw std::runtime_error("refine: the base index returned label " + std::to_string(label) +
                               ", not a position in the refine index (" + std::to_string(rf->refine_index->ntotal) +
                               " vectors): an id map inside a refine index is not supported");
  const bool ip = rf->metric_type == faiss::METRIC_INNER_PRODUCT;
  if (!ip && rf->metric_type != faiss::METRIC_L2) throw std::runtime_error("refine: metric type not supported");
#pragma omp parallel if (n > 1)
  {
    std::unique_ptr<faiss::DistanceComputer> dc(rf->refine_index->get_distance_computer());
    std::vector<std::pair<float, idx_t>> cand;
#pragma omp for
    for (idx_t i = 0; i < n; i++) {
      dc->set_query(x + i * rf->d);
      cand.clear();
      for (idx_t j = 0; j < kBase; j++) {
        const idx_t label = bl[i * kBase + j];
        if (label >= 0) cand.emplace_back((*dc)(label), label);
      }
      const size_t keep = std::min<size_t>(cand.size(), static_cast<size_t>(k));
      // Best first: largest inner product or smallest L2; ties by label, so results are stable.
      std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(), [ip](const auto& a, const auto& b) {
        if (a.first != b.first) return ip ? a.first > b.first : a.first < b.first;
        return a.second < b.second;
      });
      for (idx_t j = 0; j < k; j++) {
        const bool has = static_cast<size_t>(j) < keep;
        D[i * k + j] = has ? cand[j].first : (ip ? -std::numeric_limits<float>::max() : std::numeric_limits<float>::max());
        I[i * k + j] = has ? cand[j].second : -1;
      }
    }
  }
}

void SearchRec(const faiss::Index* ix, idx_t n, const float* x, idx_t k, float* D, idx_t* I,
               const SearchReq& req) {
  if (auto rf = dynamic_cast<const faiss::IndexRefine*>(ix)) return SearchRefine(rf, n, x, k, D, I, req);
  if (auto im = dynamic_cast<const faiss::IndexIDMap*>(ix)) {
    SearchRec(im->index, n, x, k, D, I, req);
    const auto& map = im->id_map;
    const size_t total = static_cast<size_t>(n) * static_cast<size_t>(k);
    for (size_t i = 0; i < total; i++) {
      idx_t l = I[i];
      if (l < 0) continue;
      if (static_cast<size_t>(l) >= map.size())
        throw std::runtime_error("IDMap: sub-index returned label " + std::to_string(l) +
                                 " outside id_map (size " + std::to_string(map.size()) + ")");
      I[i] = map[l];
    }
    return;
  }
  ParamStore st;
  faiss::SearchParameters* p = nullptr;
  if (req.any() && !BuildParams(ix, req, st, p))
    throw std::logic_error("internal: search parameters cannot be forwarded");
  // faiss 1.7.3's HNSW::search sizes its candidate queue with the index's own efSearch,
  // max(hnsw.efSearch, k); SearchParametersHNSW only decides when to stop. So a per-call efSearch
  // above the index's searches no wider. Asking for max(k, efSearch) results sizes the queue as
  // the index's own efSearch would: the traversal does not depend on k otherwise, so the first k
  // of those are exactly what faiss returns with hnsw.efSearch set (what Python faiss does).
  const idx_t kWide = req.efSearch > k && HnswGraphOnTop(ix) ? static_cast<idx_t>(req.efSearch) : k;
  if (kWide == k) return ix->search(n, x, k, D, I, p);
  std::vector<float> wd(static_cast<size_t>(n * kWide));
  std::vector<idx_t> wi(static_cast<size_t>(n * kWide));
  ix->search(n, x, kWide, wd.data(), wi.data(), p);
  for (idx_t i = 0; i < n; i++) {
    std::copy_n(wd.data() + i * kWide, k, D + i * k);
    std::copy_n(wi.data() + i * kWide, k, I + i * k);
  }
}

std::string TypeName(const void* obj, const std::type_info& ti) {
  (void)obj;
  int status = 0;
  char* dm = abi::__cxa_demangle(ti.name(), nullptr, nullptr, &status);
  std::string s = (status == 0 && dm) ? dm : ti.name();
  std::free(dm);
  const std::string ns = "faiss::";
  for (size_t pos; (pos = s.find(ns)) != std::string::npos;) s.erase(pos, ns.size());
  if (s == "IndexIDMapTemplate<Index>") return "IndexIDMap";
  if (s == "IndexIDMap2Template<Index>") return "IndexIDMap2";
  return s;
}

// A clustering that training runs, and where its warning threshold lives:
// `cp`, or for an OPQMatrix without a PQ of its own, the OPQ (see
// ClusteringWarningsOff).
struct ClusteringSite {
  ClusteringInfo info;
  faiss::ClusteringParameters* cp = nullptr;
  faiss::OPQMatrix* opq = nullptr;
};

void AddPQ(std::vector<ClusteringSite>& out, const char* what, faiss::ProductQuantizer& pq, int64_t repeats = 1) {
  // Train_shared runs one clustering over all sub-vectors; otherwise one per sub-quantizer.
  const int64_t per_train = pq.train_type == faiss::ProductQuantizer::Train_shared ? 1 : static_cast<int64_t>(pq.M);
  out.push_back({{what, static_cast<int64_t>(pq.ksub), pq.cp.min_points_per_centroid, per_train * repeats}, &pq.cp, nullptr});
}

void WalkClusterings(faiss::Index* ix, std::vector<ClusteringSite>& out);

// Level1Quantizer::train_q1 in faiss 1.7.3: nothing when the quantizer already
// holds nlist centroids, the quantizer's own train() when it "trains alone"
// (e.g. a MultiIndexQuantizer), else one clustering with `cp`.
void AddLevel1(std::vector<ClusteringSite>& out, faiss::Level1Quantizer& l1) {
  faiss::Index* q = l1.quantizer;
  if (q && q->is_trained && q->ntotal == static_cast<idx_t>(l1.nlist)) return;
  if (l1.quantizer_trains_alone == 1) return WalkClusterings(q, out);
  out.push_back({{"IVF coarse quantizer", static_cast<int64_t>(l1.nlist), l1.cp.min_points_per_centroid, 1}, &l1.cp, nullptr});
}

void WalkClusterings(faiss::Index* ix, std::vector<ClusteringSite>& out) {
  if (!ix || ix->is_trained) return;  // every wrapper below reports false while a part is untrained
  if (auto pt = dynamic_cast<faiss::IndexPreTransform*>(ix)) {
    for (faiss::VectorTransform* vt : pt->chain) {
      auto* opq = dynamic_cast<faiss::OPQMatrix*>(vt);
      if (!opq || opq->is_trained) continue;
      const int64_t runs = static_cast<int64_t>(opq->niter) * opq->M;  // one PQ training per alternation
      if (opq->pq) {
        AddPQ(out, "OPQ rotation's PQ", *opq->pq, opq->niter);
      } else {
        // OPQMatrix::train uses a local ProductQuantizer(d_out, M, 8) with default parameters.
        out.push_back({{"OPQ rotation's PQ", 256, faiss::ClusteringParameters().min_points_per_centroid, runs}, nullptr, opq});
      }
    }
    return WalkClusterings(pt->index, out);
  }
  if (auto im = dynamic_cast<faiss::IndexIDMap*>(ix)) return WalkClusterings(im->index, out);
  if (auto rf = dynamic_cast<faiss::IndexRefine*>(ix)) {
    WalkClusterings(rf->base_index, out);
    return WalkClusterings(rf->refine_index, out);
  }
  if (auto hn = dynamic_cast<faiss::IndexHNSW*>(ix)) return WalkClusterings(hn->storage, out);
  if (auto ivf = dynamic_cast<faiss::IndexIVF*>(ix)) {
    AddLevel1(out, *ivf);
    if (auto r = dynamic_cast<faiss::IndexIVFPQR*>(ix)) {
      AddPQ(out, "PQ sub-quantizers", r->pq);
      AddPQ(out, "refinement PQ sub-quantizers", r->refine_pq);
    } else if (auto p = dynamic_cast<faiss::IndexIVFPQ*>(ix)) {
      AddPQ(out, "PQ sub-quantizers", p->pq);
    } else if (auto fs = dynamic_cast<faiss::IndexIVFPQFastScan*>(ix)) {
      AddPQ(out, "PQ sub-quantizers", fs->pq);
    }
    return;
  }
  if (auto l2 = dynamic_cast<faiss::Index2Layer*>(ix)) {
    AddLevel1(out, l2->q1);
    return AddPQ(out, "PQ sub-quantizers", l2->pq);
  }
  if (auto p = dynamic_cast<faiss::IndexPQ*>(ix)) return AddPQ(out, "PQ sub-quantizers", p->pq);
  if (auto p = dynamic_cast<faiss::IndexPQFastScan*>(ix)) return AddPQ(out, "PQ sub-quantizers", p->pq);
  if (auto p = dynamic_cast<faiss::MultiIndexQuantizer*>(ix)) return AddPQ(out, "multi-index quantizer", p->pq);
}

}  // namespace

bool ParamsAreThreadSafe(const faiss::Index* ix, const SearchReq& req) {
  if (!req.any()) return true;
  ParamStore st;
  faiss::SearchParameters* p = nullptr;
  return BuildParams(PeelSearchWrappers(ix), req, st, p);
}

namespace {
// The layer below a wrapper the search walks through: a pre-transform's or id map's index, and
// with `throughRefine` a refine layer's base index; nullptr below anything else.
faiss::Index* InnerLayer(faiss::Index* ix, bool throughRefine) {
  if (auto pt = dynamic_cast<faiss::IndexPreTransform*>(ix)) return pt->index;
  if (auto im = dynamic_cast<faiss::IndexIDMap*>(ix)) return im->index;
  if (auto rf = dynamic_cast<faiss::IndexRefine*>(ix)) return throughRefine ? rf->base_index : nullptr;
  return nullptr;
}
}  // namespace

faiss::IndexIVF* FindIVF(faiss::Index* ix) {
  for (; ix; ix = InnerLayer(ix, true))
    if (auto ivf = dynamic_cast<faiss::IndexIVF*>(ix)) return ivf;
  return nullptr;
}

faiss::IndexRefine* FindRefine(faiss::Index* ix) {
  for (; ix; ix = InnerLayer(ix, false))
    if (auto rf = dynamic_cast<faiss::IndexRefine*>(ix)) return rf;
  return nullptr;
}

faiss::IndexHNSW* FindHNSW(faiss::Index* ix) {
  for (; ix; ix = InnerLayer(ix, true)) {
    if (auto hn = dynamic_cast<faiss::IndexHNSW*>(ix)) return hn;
    if (auto ivf = dynamic_cast<faiss::IndexIVF*>(ix)) return dynamic_cast<faiss::IndexHNSW*>(ivf->quantizer);
  }
  return nullptr;
}

bool SearchIndex(Holder& h, idx_t n, const float* x, idx_t k, float* D, idx_t* I,
                 const SearchReq& req) {
  {
    ReadLock lk(h);
    const faiss::Index* ix = h.index.get();
    if (!ix->is_trained) throw NotTrainedError("index is not trained: call train() before search()");
    if (n == 0) return false;
    if (ParamsAreThreadSafe(ix, req)) {
      SearchRec(ix, n, x, k, D, I, req);
      return false;
    }
  }

  // Fallback: a wrapper faiss 1.7.3 cannot forward SearchParameters through
  // (IndexRefine, an IDMap below a PreTransform, ...). Set the index-wide
  // values with ParameterSpace under the exclusive lock, search, restore.
  WriteLock lk(h);
  faiss::Index* ix = h.index.get();
  faiss::ParameterSpace ps;
  faiss::IndexIVF* ivf = req.nprobe > 0 ? FindIVF(ix) : nullptr;
  faiss::IndexHNSW* hn = req.efSearch > 0 ? FindHNSW(ix) : nullptr;
  faiss::IndexRefine* rf = req.kFactor > 0 ? FindRefine(ix) : nullptr;
  const size_t old_nprobe = ivf ? ivf->nprobe : 0;
  const int old_ef = hn ? hn->hnsw.efSearch : 0;
  const float old_k_factor = rf ? rf->k_factor : 1;

  auto set_nprobe = [&](size_t v) {
    try {
      ps.set_index_parameter(ix, "nprobe", static_cast<double>(v));
    } catch (const faiss::FaissException&) {
    }
    ivf->nprobe = v;  // whatever ParameterSpace did, the layer we found gets it
  };
  auto set_ef = [&](int v) {
    try {
      ps.set_index_parameter(ix, "efSearch", static_cast<double>(v));
    } catch (const faiss::FaissException&) {
    }
    hn->hnsw.efSearch = v;
  };
  auto restore = [&]() {
    if (ivf) set_nprobe(old_nprobe);
    if (hn) set_ef(old_ef);
    if (rf) rf->k_factor = old_k_factor;
  };

  if (ivf) set_nprobe(static_cast<size_t>(req.nprobe));
  if (hn) set_ef(static_cast<int>(req.efSearch));
  if (rf) rf->k_factor = static_cast<float>(req.kFactor);
  try {
    ix->search(n, x, k, D, I);
  } catch (...) {
    restore();
    throw;
  }
  restore();
  return true;
}

faiss::IndexIVF* NeedsDirectMap(faiss::Index* ix) {
  while (ix) {
    if (auto ivf = dynamic_cast<faiss::IndexIVF*>(ix))
      return ivf->direct_map.type == faiss::DirectMap::NoMap ? ivf : nullptr;
    if (auto pt = dynamic_cast<faiss::IndexPreTransform*>(ix)) {
      ix = pt->index;
    } else if (auto im = dynamic_cast<faiss::IndexIDMap2*>(ix)) {
      ix = im->index;
    } else {
      return nullptr;
    }
  }
  return nullptr;
}

bool HasHashtableDirectMap(const faiss::Index* ix) {
  while (ix) {
    if (auto ivf = dynamic_cast<const faiss::IndexIVF*>(ix)) return ivf->direct_map.type == faiss::DirectMap::Hashtable;
    if (auto pt = dynamic_cast<const faiss::IndexPreTransform*>(ix)) {
      ix = pt->index;
    } else if (auto im = dynamic_cast<const faiss::IndexIDMap2*>(ix)) {
      ix = im->index;
    } else {
      return false;
    }
  }
  return false;
}

void QuantizeRoundTrip(const faiss::Index* ix, idx_t n, const float* x, float* out) {
  if (n == 0) return;
  if (auto* pt = dynamic_cast<const faiss::IndexPreTransform*>(ix)) {
    // Through the chain by hand: the inner index may be one (HNSW) whose own
    // sa_encode faiss does not implement.
    const float* xt = pt->apply_chain(n, x);
    std::unique_ptr<const float[]> del(xt == x ? nullptr : xt);
    std::vector<float> yt(static_cast<size_t>(n) * pt->index->d);
    QuantizeRoundTrip(pt->index, n, xt, yt.data());
    pt->reverse_chain(n, yt.data(), out);
    return;
  }
  if (auto* h = dynamic_cast<const faiss::IndexHNSW*>(ix)) return QuantizeRoundTrip(h->storage, n, x, out);
  if (auto* m = dynamic_cast<const faiss::IndexIDMap*>(ix)) return QuantizeRoundTrip(m->index, n, x, out);
  if (!ix->is_trained) throw faiss::FaissException("index is not trained: nothing to quantize with");
  std::vector<uint8_t> codes(static_cast<size_t>(n) * ix->sa_code_size());
  ix->sa_encode(n, x, codes.data());
  ix->sa_decode(n, codes.data(), out);
}

bool ReconstructChecksIds(const faiss::Index* ix) {
  while (ix) {
    if (dynamic_cast<const faiss::IndexIDMap*>(ix)) return true;  // IDMap2: rev_map.at; IDMap: throws
    if (dynamic_cast<const faiss::IndexIVF*>(ix)) return true;    // DirectMap::get checks
    if (auto pt = dynamic_cast<const faiss::IndexPreTransform*>(ix)) {
      ix = pt->index;
    } else {
      return false;
    }
  }
  return false;
}

void ValidateStructure(const faiss::Index* ix) {
  if (!ix) throw ArgError("null index");
  if (ix->d <= 0) throw ArgError("index has dimension " + std::to_string(ix->d));
  auto* mix = const_cast<faiss::Index*>(ix);
  if (auto ivf = FindIVF(mix)) {
    if (ivf->nlist < 1) throw ArgError("IVF with nlist = 0 is not usable (faiss would abort on add)");
  }
  if (auto hn = FindHNSW(mix)) {
    const auto& cum = hn->hnsw.cum_nneighbor_per_level;
    if (cum.size() < 2 || cum[1] - cum[0] < 4)
      throw ArgError("HNSW needs M >= 2 (faiss would abort or exhaust memory on add)");
  }
}

void ValidateFactoryKey(const std::string& key) {
  static const std::regex ivf_re("(^|[,_])IVF([0-9]+)");
  static const std::regex hnsw_re("HNSW([0-9]+)");
  for (std::sregex_iterator it(key.begin(), key.end(), ivf_re), end; it != end; ++it) {
    if (std::stoll((*it)[2].str()) < 1) throw ArgError("factory key '" + key + "': IVF needs nlist >= 1");
  }
  for (std::sregex_iterator it(key.begin(), key.end(), hnsw_re), end; it != end; ++it) {
    if (std::stoll((*it)[1].str()) < 2) throw ArgError("factory key '" + key + "': HNSW needs M >= 2");
  }
}

std::vector<ClusteringInfo> TrainingClusterings(faiss::Index* ix) {
  std::vector<ClusteringSite> sites;
  WalkClusterings(ix, sites);
  std::vector<ClusteringInfo> out;
  for (auto& s : sites) out.push_back(s.info);
  return out;
}

ClusteringWarningsOff::ClusteringWarningsOff(faiss::Index* ix) {
  std::vector<ClusteringSite> sites;
  WalkClusterings(ix, sites);
  try {
    for (auto& s : sites) {
      if (s.cp) {
        saved_.emplace_back(s.cp, s.cp->min_points_per_centroid);
        s.cp->min_points_per_centroid = 0;
      } else if (s.opq && !s.opq->pq) {
        // Exactly what OPQMatrix::train would construct as its default PQ.
        auto pq = std::make_unique<faiss::ProductQuantizer>(s.opq->d_out, s.opq->M, 8);
        pq->cp.min_points_per_centroid = 0;
        s.opq->pq = pq.get();
        lent_.emplace_back(s.opq, std::move(pq));
      }
    }
  } catch (...) {
    Restore();
    throw;
  }
}

ClusteringWarningsOff::~ClusteringWarningsOff() { Restore(); }

void ClusteringWarningsOff::Restore() {
  for (auto& [cp, v] : saved_) cp->min_points_per_centroid = v;
  saved_.clear();
  for (auto& [opq, pq] : lent_) {
    if (opq->pq == pq.get()) opq->pq = nullptr;
  }
  lent_.clear();
}

std::string Describe(const faiss::Index* ix) {
  if (!ix) return "null";
  std::string name = TypeName(ix, typeid(*ix));
  if (auto pt = dynamic_cast<const faiss::IndexPreTransform*>(ix)) {
    std::string s = name + "[";
    for (size_t i = 0; i < pt->chain.size(); i++) {
      if (i) s += ",";
      const faiss::VectorTransform* vt = pt->chain[i];
      s += TypeName(vt, typeid(*vt)) + "(" + std::to_string(vt->d_in) + "->" + std::to_string(vt->d_out) + ")";
    }
    return s + "] > " + Describe(pt->index);
  }
  if (auto im = dynamic_cast<const faiss::IndexIDMap*>(ix)) return name + " > " + Describe(im->index);
  if (auto rf = dynamic_cast<const faiss::IndexRefine*>(ix))
    return name + "(k_factor=" + std::to_string(rf->k_factor) + ", base=" + Describe(rf->base_index) +
           ", refine=" + Describe(rf->refine_index) + ")";
  if (auto ivf = dynamic_cast<const faiss::IndexIVF*>(ix)) {
    std::string s = name + "(nlist=" + std::to_string(ivf->nlist) + ", nprobe=" + std::to_string(ivf->nprobe);
    if (auto pq = dynamic_cast<const faiss::IndexIVFPQ*>(ix))
      s += ", M=" + std::to_string(pq->pq.M) + ", nbits=" + std::to_string(pq->pq.nbits);
    return s + ", quantizer=" + Describe(ivf->quantizer) + ")";
  }
  if (auto hn = dynamic_cast<const faiss::IndexHNSW*>(ix)) {
    const auto& cum = hn->hnsw.cum_nneighbor_per_level;
    int M = cum.size() >= 3 ? cum[2] - cum[1] : 0;
    return name + "(M=" + std::to_string(M) + ", efSearch=" + std::to_string(hn->hnsw.efSearch) +
           ", efConstruction=" + std::to_string(hn->hnsw.efConstruction) +
           ", storage=" + Describe(hn->storage) + ")";
  }
  return name;
}

}  // namespace fnode
