// The JS class `Index` (Napi::ObjectWrap) around a faiss::Index.
#pragma once

#include "common.h"
#include "structure.h"

#include <condition_variable>
#include <map>

namespace fnode {

// Program-order sequencing per index: every exclusive operation (train, add,
// removeIds) takes a ticket when it is queued on the JS thread and runs only
// after all earlier tickets completed; every read operation (search, write,
// toBuffer) waits until the mutations queued before it completed. So
// `idx.add(a); idx.add(b); idx.search(q)` behaves as written even without
// awaiting in between. And the other way round: an exclusive operation waits
// for the reads queued before it, so `idx.search(q); idx.removeIds(r)` never
// lets the removal overtake the search.
struct Sequencer {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t issued = 0;     // JS thread only
  uint64_t completed = 0;  // guarded by mu
  // Reads not yet finished, by the number of exclusive tickets issued before
  // them (their epoch). Guarded by mu.
  std::map<uint64_t, uint64_t> open_reads;

  void WaitCompleted(uint64_t n) {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return completed >= n; });
  }
  void Complete() {
    {
      std::lock_guard<std::mutex> lk(mu);
      completed++;
    }
    cv.notify_all();
  }
  // JS thread, when a read is queued; returns its epoch.
  uint64_t OpenRead() {
    std::lock_guard<std::mutex> lk(mu);
    open_reads[issued]++;
    return issued;
  }
  void CloseRead(uint64_t epoch) {
    {
      std::lock_guard<std::mutex> lk(mu);
      auto it = open_reads.find(epoch);
      if (it != open_reads.end() && --it->second == 0) open_reads.erase(it);
    }
    cv.notify_all();
  }
  // Waits until every read queued before exclusive ticket `ticket` finished.
  void WaitReadsBefore(uint64_t ticket) {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return open_reads.empty() || open_reads.begin()->first > ticket; });
  }
};

struct IndexState : Holder {
  explicit IndexState(std::unique_ptr<faiss::Index> ix);
  Sequencer seq;

  // The clusterings the next train() would run (TrainingClusterings), kept
  // here so that the getter never walks an index a worker is training.
  std::vector<ClusteringInfo> Clusterings();
  void RefreshClusterings();  // under the write lock, or before sharing

 private:
  std::mutex clusterings_mu_;
  std::vector<ClusteringInfo> clusterings_;
};

class IndexWrap : public Napi::ObjectWrap<IndexWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Wraps an already built index into a new JS Index object.
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<IndexState> st);

  explicit IndexWrap(const Napi::CallbackInfo& info);

 private:
  std::shared_ptr<IndexState> State(Napi::Env env) const;
  void CheckNotBusy(Napi::Env env, const IndexState& st, const char* what) const;

  Napi::Value Train(const Napi::CallbackInfo& info);
  Napi::Value Add(const Napi::CallbackInfo& info);
  Napi::Value Search(const Napi::CallbackInfo& info);
  Napi::Value SearchSync(const Napi::CallbackInfo& info);
  Napi::Value Reconstruct(const Napi::CallbackInfo& info);
  Napi::Value ReconstructBatch(const Napi::CallbackInfo& info);
  Napi::Value RemoveIds(const Napi::CallbackInfo& info);
  Napi::Value WriteFile(const Napi::CallbackInfo& info);
  Napi::Value ToBuffer(const Napi::CallbackInfo& info);
  Napi::Value Clone(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value SearchPath(const Napi::CallbackInfo& info);
  Napi::Value Quantize(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value RenumberIds(const Napi::CallbackInfo& info);

  Napi::Value GetNtotal(const Napi::CallbackInfo& info);
  Napi::Value GetD(const Napi::CallbackInfo& info);
  Napi::Value GetIsTrained(const Napi::CallbackInfo& info);
  Napi::Value GetMetric(const Napi::CallbackInfo& info);
  Napi::Value GetDescription(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);
  Napi::Value GetReadOnly(const Napi::CallbackInfo& info);
  Napi::Value GetTrainingClusterings(const Napi::CallbackInfo& info);

  std::shared_ptr<IndexState> st_;
};

// Module-level factories (also used by addon.cc).
Napi::Value CreateIndex(const Napi::CallbackInfo& info);
Napi::Value ReadIndexFile(const Napi::CallbackInfo& info);
Napi::Value ReadIndexBuffer(const Napi::CallbackInfo& info);

}  // namespace fnode
