#include "index_wrap.h"

#include "structure.h"

#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/VectorTransform.h>
#include <faiss/clone_index.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <cstring>
#include <limits>

namespace fnode {

namespace {

struct AddonData {
  Napi::FunctionReference ctor;
};

constexpr uint32_t kCtorMagic = 0xFA155u;
struct CtorToken {
  uint32_t magic;
  std::shared_ptr<IndexState> st;
};

// Most results one search call may return (n * k): 2^26 results are 768 MiB
// of output plus faiss's own heaps of the same size.
constexpr int64_t kMaxResults = int64_t(1) << 26;
// efSearch sizes per-thread heaps in HNSW: bound it so a typo cannot OOM.
constexpr int64_t kMaxEfSearch = int64_t(1) << 20;
constexpr double kMaxKFactor = 1024;

const char* MetricName(faiss::MetricType m) {
  switch (m) {
    case faiss::METRIC_INNER_PRODUCT:
      return "ip";
    case faiss::METRIC_L2:
      return "l2";
    default:
      return "other";
  }
}

// Reads from memory that a kept-alive JS Buffer owns (no copy). Same
// semantics as faiss::VectorIOReader.
struct SpanIOReader : faiss::IOReader {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t rp = 0;
  size_t operator()(void* ptr, size_t sz, size_t nitems) override {
    if (rp >= size || sz == 0) return 0;
    size_t nremain = (size - rp) / sz;
    if (nremain < nitems) nitems = nremain;
    if (sz * nitems > 0) {
      std::memcpy(ptr, data + rp, sz * nitems);
      rp += sz * nitems;
    }
    return nitems;
  }
};

std::unique_ptr<faiss::Index> CheckedRead(std::unique_ptr<faiss::Index> ix) {
  if (!ix) throw std::runtime_error("read_index returned null");
  ValidateStructure(ix.get());
  return ix;
}

}  // namespace

IndexState::IndexState(std::unique_ptr<faiss::Index> ix) : Holder(std::move(ix)) { RefreshClusterings(); }

std::vector<ClusteringInfo> IndexState::Clusterings() {
  std::lock_guard<std::mutex> lk(clusterings_mu_);
  return clusterings_;
}

void IndexState::RefreshClusterings() {
  auto now = TrainingClusterings(index.get());
  std::lock_guard<std::mutex> lk(clusterings_mu_);
  clusterings_ = std::move(now);
}

namespace {

// ---------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------

// Exclusive operation: waits for its ticket, takes the write lock.
class WriterWorker : public PromiseWorker {
 public:
  WriterWorker(Napi::Env env, std::shared_ptr<IndexState> st) : PromiseWorker(env), st_(std::move(st)) {
    ticket_ = st_->seq.issued++;
    st_->pending_writers++;
  }
  ~WriterWorker() override {
    if (!completed_) st_->seq.Complete();  // never ran: do not block later tickets
    if (!done_) st_->pending_writers--;
  }

 protected:
  virtual void Mutate(faiss::Index* ix) = 0;
  std::shared_ptr<IndexState> st_;

 private:
  void Run() final {
    st_->seq.WaitCompleted(ticket_);
    st_->seq.WaitReadsBefore(ticket_);
    struct Turn {
      WriterWorker* w;
      ~Turn() {
        w->completed_ = true;
        w->st_->seq.Complete();
      }
    } turn{this};
    WriteLock lk(*st_);
    struct RefreshGuard {
      Holder& h;
      ~RefreshGuard() { h.Refresh(); }
    } refresh{*st_};
    Mutate(st_->index.get());
  }
  void Done() final {
    done_ = true;
    st_->pending_writers--;
  }

  uint64_t ticket_ = 0;
  bool completed_ = false;
  bool done_ = false;
};

class TrainWorker : public WriterWorker {
 public:
  TrainWorker(Napi::Env env, std::shared_ptr<IndexState> st, Napi::TypedArrayOf<float> x, idx_t n,
              bool faiss_warnings)
      : WriterWorker(env, std::move(st)), xref_(Napi::Persistent(x)), x_(x.Data()), n_(n),
        faiss_warnings_(faiss_warnings) {}

 private:
  void Mutate(faiss::Index* ix) override {
    struct Refresh {
      IndexState& st;
      ~Refresh() { st.RefreshClusterings(); }  // also after a failed, partial training
    } refresh{*st_};
    if (faiss_warnings_) return ix->train(n_, x_);
    // faiss would print one warning per small clustering (thousands for OPQ);
    // the caller reports the shortfall once (FaissIndex.train).
    ClusteringWarningsOff quiet(ix);
    ix->train(n_, x_);
  }
  Napi::Reference<Napi::TypedArrayOf<float>> xref_;
  const float* x_;
  idx_t n_;
  bool faiss_warnings_;
};

class AddWorker : public WriterWorker {
 public:
  AddWorker(Napi::Env env, std::shared_ptr<IndexState> st, Napi::TypedArrayOf<float> x, idx_t n,
            Napi::TypedArrayOf<int64_t>* ids)
      : WriterWorker(env, std::move(st)), xref_(Napi::Persistent(x)), x_(x.Data()), n_(n) {
    if (ids) {
      idsref_ = Napi::Persistent(*ids);
      ids_ = ids->Data();
    }
  }

 private:
  void Mutate(faiss::Index* ix) override {
    if (!ix->is_trained) throw NotTrainedError("index is not trained: call train() before add()");
    if (n_ == 0) return;
    if (ids_)
      ix->add_with_ids(n_, x_, ids_);
    else
      ix->add(n_, x_);
  }
  Napi::Reference<Napi::TypedArrayOf<float>> xref_;
  Napi::Reference<Napi::TypedArrayOf<int64_t>> idsref_;
  const float* x_;
  const idx_t* ids_ = nullptr;
  idx_t n_;
};

class RemoveWorker : public WriterWorker {
 public:
  RemoveWorker(Napi::Env env, std::shared_ptr<IndexState> st, Napi::TypedArrayOf<int64_t> ids)
      : WriterWorker(env, std::move(st)), idsref_(Napi::Persistent(ids)), ids_(ids.Data()), n_(ids.ElementLength()) {}

 private:
  void Mutate(faiss::Index* ix) override {
    if (n_ == 0) return;
    if (HasHashtableDirectMap(ix)) {
      // After reconstruct() switched the direct map on, faiss accepts only an array selector.
      faiss::IDSelectorArray sel(n_, ids_);
      removed_ = ix->remove_ids(sel);
      return;
    }
    faiss::IDSelectorBatch sel(n_, ids_);
    removed_ = ix->remove_ids(sel);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, static_cast<double>(removed_)); }
  Napi::Reference<Napi::TypedArrayOf<int64_t>> idsref_;
  const idx_t* ids_;
  size_t n_;
  size_t removed_ = 0;
};

class ResetWorker : public WriterWorker {
 public:
  ResetWorker(Napi::Env env, std::shared_ptr<IndexState> st) : WriterWorker(env, std::move(st)) {}

 private:
  void Mutate(faiss::Index* ix) override { ix->reset(); }
};

// IVF ids old → new (mapping[old]; -1 = must not occur), e.g. to close the gaps that
// remove_ids leaves so that ids stay row positions. Codes are kept as they are.
class RenumberWorker : public WriterWorker {
 public:
  RenumberWorker(Napi::Env env, std::shared_ptr<IndexState> st, Napi::TypedArrayOf<int64_t> mapping)
      : WriterWorker(env, std::move(st)), mref_(Napi::Persistent(mapping)), map_(mapping.Data()), n_(mapping.ElementLength()) {}

 private:
  void Mutate(faiss::Index* ix) override {
    faiss::IndexIVF* ivf = FindIVF(ix);
    if (!ivf) throw ArgError("renumberIds needs an IVF index (other types number rows by position)");
    faiss::InvertedLists* lists = ivf->invlists;
    std::vector<idx_t> ids;
    std::vector<uint8_t> codes;
    for (size_t l = 0; l < lists->nlist; l++) {
      size_t len = lists->list_size(l);
      if (len == 0) continue;
      ids.resize(len);
      {
        faiss::InvertedLists::ScopedIds old(lists, l);
        for (size_t j = 0; j < len; j++) {
          idx_t id = old[j];
          if (id < 0 || static_cast<size_t>(id) >= n_ || map_[id] < 0)
            throw ArgError("renumberIds: the mapping has no new id for id " + std::to_string(id));
          ids[j] = map_[id];
        }
      }
      codes.resize(len * lists->code_size);
      {
        faiss::InvertedLists::ScopedCodes old(lists, l);
        std::memcpy(codes.data(), old.get(), codes.size());
      }
      lists->update_entries(l, 0, len, ids.data(), codes.data());
    }
    // A direct map (set by reconstruct) indexes the old ids: rebuild it.
    auto type = ivf->direct_map.type;
    if (type != faiss::DirectMap::NoMap) {
      ivf->set_direct_map_type(faiss::DirectMap::NoMap);
      ivf->set_direct_map_type(type);
    }
  }
  Napi::Reference<Napi::TypedArrayOf<int64_t>> mref_;
  const idx_t* map_;
  size_t n_;
};

// Read operation: runs after the mutations queued before it.
class ReaderWorker : public PromiseWorker {
 public:
  ReaderWorker(Napi::Env env, std::shared_ptr<IndexState> st)
      : PromiseWorker(env), st_(std::move(st)), barrier_(st_->seq.OpenRead()) {}
  ~ReaderWorker() override {
    if (!closed_) st_->seq.CloseRead(barrier_);  // never ran: do not block later writers
  }

 protected:
  virtual void Read() = 0;
  std::shared_ptr<IndexState> st_;

 private:
  void Run() final {
    st_->seq.WaitCompleted(barrier_);
    struct Close {
      ReaderWorker* r;
      ~Close() {
        r->closed_ = true;
        r->st_->seq.CloseRead(r->barrier_);
      }
    } close{this};
    Read();
  }
  uint64_t barrier_;
  bool closed_ = false;
};

class SearchWorker : public ReaderWorker {
 public:
  SearchWorker(Napi::Env env, std::shared_ptr<IndexState> st, Napi::TypedArrayOf<float> q, idx_t n, idx_t k,
               SearchReq req)
      : ReaderWorker(env, std::move(st)), qref_(Napi::Persistent(q)), q_(q.Data()), n_(n), k_(k), req_(req) {
    size_t total = static_cast<size_t>(n) * static_cast<size_t>(k);
    Napi::ArrayBuffer dbuf = Napi::ArrayBuffer::New(env, total * sizeof(float));
    Napi::ArrayBuffer lbuf = Napi::ArrayBuffer::New(env, total * sizeof(idx_t));
    D_ = static_cast<float*>(dbuf.Data());
    I_ = static_cast<idx_t*>(lbuf.Data());
    dref_ = Napi::Persistent(dbuf);
    lref_ = Napi::Persistent(lbuf);
  }

 private:
  void Read() override { SearchIndex(*st_, n_, q_, k_, D_, I_, req_); }
  Napi::Value Result(Napi::Env env) override {
    size_t total = static_cast<size_t>(n_) * static_cast<size_t>(k_);
    Napi::Object res = Napi::Object::New(env);
    res.Set("distances", Napi::Float32Array::New(env, total, dref_.Value(), 0));
    res.Set("labels", Napi::TypedArrayOf<int64_t>::New(env, total, lref_.Value(), 0, napi_bigint64_array));
    return res;
  }
  Napi::Reference<Napi::TypedArrayOf<float>> qref_;
  Napi::Reference<Napi::ArrayBuffer> dref_, lref_;
  const float* q_;
  idx_t n_, k_;
  SearchReq req_;
  float* D_ = nullptr;
  idx_t* I_ = nullptr;
};

class QuantizeWorker : public ReaderWorker {
 public:
  QuantizeWorker(Napi::Env env, std::shared_ptr<IndexState> st, Napi::TypedArrayOf<float> x, idx_t n)
      : ReaderWorker(env, std::move(st)), xref_(Napi::Persistent(x)), x_(x.Data()), n_(n) {
    Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, x.ElementLength() * sizeof(float));
    out_ = static_cast<float*>(buf.Data());
    outref_ = Napi::Persistent(buf);
  }

 private:
  void Read() override {
    ReadLock lk(*st_);
    QuantizeRoundTrip(st_->index.get(), n_, x_, out_);
  }
  Napi::Value Result(Napi::Env env) override {
    return Napi::Float32Array::New(env, static_cast<size_t>(n_) * st_->index->d, outref_.Value(), 0);
  }
  Napi::Reference<Napi::TypedArrayOf<float>> xref_;
  Napi::Reference<Napi::ArrayBuffer> outref_;
  const float* x_;
  idx_t n_;
  float* out_ = nullptr;
};

class WriteFileWorker : public ReaderWorker {
 public:
  WriteFileWorker(Napi::Env env, std::shared_ptr<IndexState> st, std::string path)
      : ReaderWorker(env, std::move(st)), path_(std::move(path)) {}

 private:
  void Read() override {
    ReadLock lk(*st_);
    faiss::write_index(st_->index.get(), path_.c_str());
  }
  std::string path_;
};

class ToBufferWorker : public ReaderWorker {
 public:
  ToBufferWorker(Napi::Env env, std::shared_ptr<IndexState> st) : ReaderWorker(env, std::move(st)) {}

 private:
  void Read() override {
    ReadLock lk(*st_);
    faiss::VectorIOWriter w;
    faiss::write_index(st_->index.get(), &w);
    data_ = std::make_unique<std::vector<uint8_t>>(std::move(w.data));
  }
  Napi::Value Result(Napi::Env env) override {
    std::vector<uint8_t>* v = data_.release();
    // NewOrCopy: zero-copy external buffer where the runtime allows it.
    return Napi::Buffer<uint8_t>::NewOrCopy(env, v->data(), v->size(),
                                            [](Napi::Env, uint8_t*, std::vector<uint8_t>* p) { delete p; }, v);
  }
  std::unique_ptr<std::vector<uint8_t>> data_;
};

class ReadFileWorker : public PromiseWorker {
 public:
  ReadFileWorker(Napi::Env env, std::string path, bool mmap)
      : PromiseWorker(env), path_(std::move(path)), mmap_(mmap) {}

 private:
  void Run() override {
    int flags = mmap_ ? (faiss::IO_FLAG_MMAP | faiss::IO_FLAG_READ_ONLY) : 0;
    index_ = CheckedRead(std::unique_ptr<faiss::Index>(faiss::read_index(path_.c_str(), flags)));
  }
  Napi::Value Result(Napi::Env env) override {
    auto st = std::make_shared<IndexState>(std::move(index_));
    st->read_only = mmap_;
    return IndexWrap::NewInstance(env, st);
  }
  std::string path_;
  bool mmap_;
  std::unique_ptr<faiss::Index> index_;
};

class FromBufferWorker : public PromiseWorker {
 public:
  FromBufferWorker(Napi::Env env, Napi::Uint8Array buf)
      : PromiseWorker(env), bufref_(Napi::Persistent(buf)), data_(buf.Data()), size_(buf.ByteLength()) {}

 private:
  void Run() override {
    SpanIOReader r;
    r.name = "<buffer>";
    r.data = data_;
    r.size = size_;
    index_ = CheckedRead(std::unique_ptr<faiss::Index>(faiss::read_index(&r, 0)));
  }
  Napi::Value Result(Napi::Env env) override {
    return IndexWrap::NewInstance(env, std::make_shared<IndexState>(std::move(index_)));
  }
  Napi::Reference<Napi::Uint8Array> bufref_;
  const uint8_t* data_;
  size_t size_;
  std::unique_ptr<faiss::Index> index_;
};

idx_t RowsOf(Napi::Env env, size_t len, int d, const char* what) {
  if (len % static_cast<size_t>(d) != 0)
    ThrowArg(env,
             std::string(what) + " length " + std::to_string(len) + " is not a multiple of the index dimension " +
                 std::to_string(d),
             false);
  return static_cast<idx_t>(len / static_cast<size_t>(d));
}

void EnsureDirectMap(IndexState& st) {
  if (!NeedsDirectMap(st.index.get())) return;
  WriteLock lk(st);
  if (faiss::IndexIVF* ivf = NeedsDirectMap(st.index.get())) ivf->set_direct_map_type(faiss::DirectMap::Hashtable);
}

}  // namespace

// ---------------------------------------------------------------------------
// IndexWrap
// ---------------------------------------------------------------------------

Napi::Function IndexWrap::Define(Napi::Env env) {
  Napi::Function cls = DefineClass(
      env, "Index",
      {
          InstanceMethod("train", &IndexWrap::Train),
          InstanceMethod("add", &IndexWrap::Add),
          InstanceMethod("search", &IndexWrap::Search),
          InstanceMethod("searchSync", &IndexWrap::SearchSync),
          InstanceMethod("reconstruct", &IndexWrap::Reconstruct),
          InstanceMethod("reconstructBatch", &IndexWrap::ReconstructBatch),
          InstanceMethod("removeIds", &IndexWrap::RemoveIds),
          InstanceMethod("writeFile", &IndexWrap::WriteFile),
          InstanceMethod("toBuffer", &IndexWrap::ToBuffer),
          InstanceMethod("clone", &IndexWrap::Clone),
          InstanceMethod("dispose", &IndexWrap::Dispose),
          InstanceMethod("searchPath", &IndexWrap::SearchPath),
          InstanceMethod("quantize", &IndexWrap::Quantize),
          InstanceMethod("reset", &IndexWrap::Reset),
          InstanceMethod("renumberIds", &IndexWrap::RenumberIds),
          InstanceAccessor("ntotal", &IndexWrap::GetNtotal, nullptr),
          InstanceAccessor("d", &IndexWrap::GetD, nullptr),
          InstanceAccessor("isTrained", &IndexWrap::GetIsTrained, nullptr),
          InstanceAccessor("trainingClusterings", &IndexWrap::GetTrainingClusterings, nullptr),
          InstanceAccessor("metric", &IndexWrap::GetMetric, nullptr),
          InstanceAccessor("description", &IndexWrap::GetDescription, nullptr),
          InstanceAccessor("disposed", &IndexWrap::GetDisposed, nullptr),
          InstanceAccessor("readOnly", &IndexWrap::GetReadOnly, nullptr),
      });
  auto* data = new AddonData();
  data->ctor = Napi::Persistent(cls);
  env.SetInstanceData<AddonData>(data);
  return cls;
}

Napi::Object IndexWrap::NewInstance(Napi::Env env, std::shared_ptr<IndexState> st) {
  CtorToken token{kCtorMagic, std::move(st)};
  auto ext = Napi::External<CtorToken>::New(env, &token);
  return env.GetInstanceData<AddonData>()->ctor.New({ext});
}

IndexWrap::IndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IndexWrap>(info) {
  Napi::Env env = info.Env();
  const char* msg = "Index cannot be constructed directly: use create(), readFile() or fromBuffer()";
  if (info.Length() != 1 || !info[0].IsExternal()) throw MakeError(env, msg, kErrInvalidArg, true);
  auto* token = info[0].As<Napi::External<CtorToken>>().Data();
  if (!token || token->magic != kCtorMagic || !token->st) throw MakeError(env, msg, kErrInvalidArg, true);
  st_ = token->st;
}

std::shared_ptr<IndexState> IndexWrap::State(Napi::Env env) const {
  if (!st_) throw MakeError(env, "the index has been disposed", kErrDisposed);
  return st_;
}

static void CheckWritable(Napi::Env env, const IndexState& st, const char* what) {
  if (st.read_only)
    throw MakeError(env,
                    std::string(what) +
                        ": the index was opened with mmap and is read-only; open it without mmap to modify, "
                        "clone or serialize it",
                    kErrReadOnly);
}

void IndexWrap::CheckNotBusy(Napi::Env env, const IndexState& st, const char* what) const {
  if (st.pending_writers > 0)
    throw MakeError(env,
                    std::string(what) +
                        ": a train/add/removeIds on this index is still in flight; await it first",
                    kErrBusy);
}

Napi::Value IndexWrap::Train(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckWritable(env, *st, "train");
  auto x = ArgFloat32(info, 0, "vectors");
  idx_t n = RowsOf(env, x.ElementLength(), st->index->d, "training vectors");
  if (n < 1) ThrowArg(env, "train() needs at least one vector", false);
  bool faiss_warnings = false;
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    if (!info[1].IsObject()) ThrowArg(env, "train options must be an object { faissWarnings?: boolean }");
    Napi::Value w = info[1].As<Napi::Object>().Get("faissWarnings");
    if (!w.IsUndefined()) {
      if (!w.IsBoolean()) ThrowArg(env, "options.faissWarnings must be a boolean");
      faiss_warnings = w.As<Napi::Boolean>().Value();
    }
  }
  return (new TrainWorker(env, st, x, n, faiss_warnings))->Queue();
}

Napi::Value IndexWrap::Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckWritable(env, *st, "add");
  auto x = ArgFloat32(info, 0, "vectors");
  idx_t n = RowsOf(env, x.ElementLength(), st->index->d, "vectors");
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    auto ids = ArgBigInt64(info, 1, "ids");
    if (static_cast<idx_t>(ids.ElementLength()) != n)
      ThrowArg(env,
               "ids has " + std::to_string(ids.ElementLength()) + " entries but vectors has " + std::to_string(n) +
                   " rows",
               false);
    return (new AddWorker(env, st, x, n, &ids))->Queue();
  }
  return (new AddWorker(env, st, x, n, nullptr))->Queue();
}

static SearchReq ParseSearchParams(Napi::Env env, const Napi::Value& v) {
  SearchReq req;
  if (v.IsUndefined() || v.IsNull()) return req;
  if (!v.IsObject()) ThrowArg(env, "search params must be an object { nprobe?, efSearch?, kFactor? }");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value np = o.Get("nprobe");
  if (!np.IsUndefined()) req.nprobe = ArgIntValue(env, np, "nprobe", 1, int64_t(1) << 30);
  Napi::Value ef = o.Get("efSearch");
  if (!ef.IsUndefined()) req.efSearch = ArgIntValue(env, ef, "efSearch", 1, kMaxEfSearch);
  Napi::Value kf = o.Get("kFactor");
  if (!kf.IsUndefined()) {
    // Bounded like efSearch: kFactor multiplies the candidate buffers of every query.
    if (!kf.IsNumber() || !(kf.As<Napi::Number>().DoubleValue() >= 1) || kf.As<Napi::Number>().DoubleValue() > kMaxKFactor)
      ThrowArg(env, "kFactor must be a number in [1, " + std::to_string(static_cast<int>(kMaxKFactor)) + "]");
    req.kFactor = kf.As<Napi::Number>().DoubleValue();
  }
  return req;
}

// n * k results (n * k * kFactor candidates with a refine layer) must fit the per-call limit.
static void CheckResultLimit(Napi::Env env, idx_t n, idx_t k, const SearchReq& req) {
  const idx_t kGathered = req.kFactor > 0 ? static_cast<idx_t>(static_cast<double>(k) * req.kFactor) : k;
  if (n > 0 && kGathered > kMaxResults / n)
    ThrowArg(env, "n * k" + std::string(kGathered != k ? " * kFactor" : "") + " = " + std::to_string(n) + " * " +
                      std::to_string(kGathered) + " results exceed the per-call limit of " +
                      std::to_string(kMaxResults) + "; split the batch",
             false);
}

// search(queries, k, params?) and searchSync(...): the arguments, checked.
struct SearchArgs {
  Napi::TypedArrayOf<float> q;
  idx_t n, k;
  SearchReq req;
};

static SearchArgs ParseSearchArgs(const Napi::CallbackInfo& info, idx_t d) {
  Napi::Env env = info.Env();
  auto q = ArgFloat32(info, 0, "queries");
  idx_t n = RowsOf(env, q.ElementLength(), d, "queries");
  idx_t k = ArgInt(info, 1, "k", 1, std::numeric_limits<int32_t>::max());
  SearchReq req = ParseSearchParams(env, info[2]);
  CheckResultLimit(env, n, k, req);
  return {q, n, k, req};
}

Napi::Value IndexWrap::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  SearchArgs a = ParseSearchArgs(info, st->index->d);
  return (new SearchWorker(env, st, a.q, a.n, a.k, a.req))->Queue();
}

// search() on the calling thread. The async path costs two thread hand-offs per call (to a pool
// thread and back to the event loop), tens of microseconds on a VM, which one query on a small
// index notices; callers that can block the event loop for one search may take this one.
Napi::Value IndexWrap::SearchSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckNotBusy(env, *st, "searchSync");
  SearchArgs a = ParseSearchArgs(info, st->index->d);
  return Guard(env, [&]() -> Napi::Value {
    // The fallback path takes the exclusive lock: waiting for it here would block the event loop.
    if (!ParamsAreThreadSafe(st->index.get(), a.req))
      throw ArgError("searchSync: these parameters need the locked fallback path (searchPath() is 'fallback'); use search()");
    const size_t total = static_cast<size_t>(a.n) * static_cast<size_t>(a.k);
    auto D = Napi::Float32Array::New(env, total);
    auto I = Napi::TypedArrayOf<int64_t>::New(env, total, napi_bigint64_array);
    ApplyThreads();
    SearchIndex(*st, a.n, a.q.Data(), a.k, D.Data(), I.Data(), a.req);
    Napi::Object res = Napi::Object::New(env);
    res.Set("distances", D);
    res.Set("labels", I);
    return res;
  });
}

Napi::Value IndexWrap::SearchPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  SearchReq req = ParseSearchParams(env, info[0]);
  return Guard(env, [&]() -> Napi::Value {
    return Napi::String::New(env, ParamsAreThreadSafe(st->index.get(), req) ? "per-call" : "fallback");
  });
}

Napi::Value IndexWrap::Quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  auto x = ArgFloat32(info, 0, "vectors");
  idx_t n = RowsOf(env, x.ElementLength(), st->index->d, "vectors");
  return (new QuantizeWorker(env, st, x, n))->Queue();
}

Napi::Value IndexWrap::Reconstruct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckNotBusy(env, *st, "reconstruct");
  int64_t id = ArgId(env, info[0], "id");
  return Guard(env, [&]() -> Napi::Value {
    EnsureDirectMap(*st);
    ReadLock lk(*st);
    faiss::Index* ix = st->index.get();
    if (!ReconstructChecksIds(ix) && (id < 0 || id >= ix->ntotal))
      throw ArgError("id " + std::to_string(id) + " out of range [0, " + std::to_string(ix->ntotal) + ")");
    auto out = Napi::Float32Array::New(env, static_cast<size_t>(ix->d));
    ix->reconstruct(id, out.Data());
    return out;
  });
}

Napi::Value IndexWrap::ReconstructBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckNotBusy(env, *st, "reconstructBatch");
  auto ids = ArgBigInt64(info, 0, "ids");
  return Guard(env, [&]() -> Napi::Value {
    EnsureDirectMap(*st);
    ReadLock lk(*st);
    faiss::Index* ix = st->index.get();
    const size_t n = ids.ElementLength();
    const idx_t* p = ids.Data();
    const bool checked = ReconstructChecksIds(ix);
    for (size_t i = 0; i < n && !checked; i++)
      if (p[i] < 0 || p[i] >= ix->ntotal)
        throw ArgError("ids[" + std::to_string(i) + "] = " + std::to_string(p[i]) + " out of range [0, " +
                       std::to_string(ix->ntotal) + ")");
    auto out = Napi::Float32Array::New(env, n * static_cast<size_t>(ix->d));
    for (size_t i = 0; i < n; i++) ix->reconstruct(p[i], out.Data() + i * ix->d);
    return out;
  });
}

Napi::Value IndexWrap::RemoveIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckWritable(env, *st, "removeIds");
  auto ids = ArgBigInt64(info, 0, "ids");
  return (new RemoveWorker(env, st, ids))->Queue();
}

Napi::Value IndexWrap::Reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckWritable(env, *st, "reset");
  return (new ResetWorker(env, st))->Queue();
}

Napi::Value IndexWrap::RenumberIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckWritable(env, *st, "renumberIds");
  auto mapping = ArgBigInt64(info, 0, "mapping");
  return (new RenumberWorker(env, st, mapping))->Queue();
}

Napi::Value IndexWrap::WriteFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckWritable(env, *st, "writeFile");
  std::string path = ArgString(info, 0, "path");
  if (path.empty()) ThrowArg(env, "path must not be empty", false);
  return (new WriteFileWorker(env, st, path))->Queue();
}

Napi::Value IndexWrap::ToBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckWritable(env, *st, "toBuffer");
  return (new ToBufferWorker(env, st))->Queue();
}

Napi::Value IndexWrap::Clone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  CheckWritable(env, *st, "clone");
  CheckNotBusy(env, *st, "clone");
  return Guard(env, [&]() -> Napi::Value {
    std::unique_ptr<faiss::Index> copy;
    {
      ReadLock lk(*st);
      try {
        copy.reset(faiss::clone_index(st->index.get()));
      } catch (const faiss::FaissException&) {
        // clone_index does not know every type in 1.7.3 (IndexRefine, IVF
        // fast-scan, ...): a serialization round trip copies anything faiss
        // can write.
        faiss::VectorIOWriter w;
        faiss::write_index(st->index.get(), &w);
        faiss::VectorIOReader r;
        r.data = std::move(w.data);
        copy.reset(faiss::read_index(&r, 0));
      }
    }
    return NewInstance(env, std::make_shared<IndexState>(std::move(copy)));
  });
}

Napi::Value IndexWrap::Dispose(const Napi::CallbackInfo& info) {
  st_.reset();  // in-flight workers hold their own reference
  return info.Env().Undefined();
}

Napi::Value IndexWrap::GetNtotal(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(State(info.Env())->ntotal.load()));
}
Napi::Value IndexWrap::GetD(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), State(info.Env())->index->d);
}
Napi::Value IndexWrap::GetIsTrained(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), State(info.Env())->trained.load());
}
Napi::Value IndexWrap::GetMetric(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), MetricName(State(info.Env())->index->metric_type));
}
Napi::Value IndexWrap::GetDescription(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto st = State(env);
  return Guard(env, [&]() -> Napi::Value { return Napi::String::New(env, Describe(st->index.get())); });
}
Napi::Value IndexWrap::GetReadOnly(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), State(info.Env())->read_only);
}
Napi::Value IndexWrap::GetTrainingClusterings(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto list = State(env)->Clusterings();
  Napi::Array out = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("what", list[i].what);
    o.Set("centroids", Napi::Number::New(env, static_cast<double>(list[i].centroids)));
    o.Set("minPointsPerCentroid", Napi::Number::New(env, static_cast<double>(list[i].min_points_per_centroid)));
    o.Set("runs", Napi::Number::New(env, static_cast<double>(list[i].runs)));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}
Napi::Value IndexWrap::GetDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !st_);
}

// ---------------------------------------------------------------------------
// Module functions
// ---------------------------------------------------------------------------

Napi::Value CreateIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t d = ArgInt(info, 0, "dimension", 1, int64_t(1) << 20);
  std::string key = ArgString(info, 1, "factoryKey");
  std::string metric = ArgString(info, 2, "metric");
  faiss::MetricType mt;
  if (metric == "ip")
    mt = faiss::METRIC_INNER_PRODUCT;
  else if (metric == "l2")
    mt = faiss::METRIC_L2;
  else
    ThrowArg(env, "metric must be 'ip' or 'l2', got '" + metric + "'", false);
  // Optional training knobs. OPQ's default 50 alternations take many minutes on a
  // non-AVX2 faiss for a d=512 corpus; a handful keeps most of the rotation's gain.
  int64_t opq_iterations = -1;
  if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull()) {
    if (!info[3].IsObject()) ThrowArg(env, "create options must be an object { opqIterations?: number }");
    Napi::Value it = info[3].As<Napi::Object>().Get("opqIterations");
    if (!it.IsUndefined()) opq_iterations = ArgIntValue(env, it, "options.opqIterations", 1, 1000);
  }
  return Guard(env, [&]() -> Napi::Value {
    ValidateFactoryKey(key);
    std::unique_ptr<faiss::Index> ix(faiss::index_factory(static_cast<int>(d), key.c_str(), mt));
    ValidateStructure(ix.get());
    if (opq_iterations > 0) {
      if (auto* pt = dynamic_cast<faiss::IndexPreTransform*>(ix.get())) {
        for (auto* vt : pt->chain) {
          if (auto* opq = dynamic_cast<faiss::OPQMatrix*>(vt)) opq->niter = static_cast<int>(opq_iterations);
        }
      }
    }
    return IndexWrap::NewInstance(env, std::make_shared<IndexState>(std::move(ix)));
  });
}

Napi::Value ReadIndexFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  if (path.empty()) ThrowArg(env, "path must not be empty", false);
  bool mmap = false;
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    if (!info[1].IsObject()) ThrowArg(env, "readFile options must be an object { mmap?: boolean }");
    Napi::Value m = info[1].As<Napi::Object>().Get("mmap");
    if (!m.IsUndefined()) {
      if (!m.IsBoolean()) ThrowArg(env, "options.mmap must be a boolean");
      mmap = m.As<Napi::Boolean>().Value();
    }
  }
  return (new ReadFileWorker(env, path, mmap))->Queue();
}

Napi::Value ReadIndexBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value v = info[0];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    ThrowArg(env, "buffer must be a Buffer or Uint8Array");
  return (new FromBufferWorker(env, v.As<Napi::Uint8Array>()))->Queue();
}

}  // namespace fnode
