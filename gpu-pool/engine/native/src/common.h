// Shared pieces of the faiss binding: the index holder with its locks, error
// helpers, the OpenMP thread setting and the Promise-based worker base class.
#pragma once

#include <napi.h>

#include <faiss/Index.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>

namespace fnode {

using idx_t = faiss::Index::idx_t;
static_assert(sizeof(idx_t) == sizeof(int64_t), "faiss idx_t must be 64-bit");

// ---------------------------------------------------------------------------
// Errors. Codes are stable strings that the TypeScript wrapper maps onto
// FaissError.code.
// ---------------------------------------------------------------------------
constexpr const char* kErrFaiss = "ERR_FAISS";            // faiss raised it
constexpr const char* kErrInvalidArg = "ERR_INVALID_ARG";  // rejected before calling faiss
constexpr const char* kErrBusy = "ERR_BUSY";               // a mutation is in flight
constexpr const char* kErrDisposed = "ERR_DISPOSED";       // dispose() was called
constexpr const char* kErrNoMem = "ERR_NO_MEMORY";
constexpr const char* kErrNotTrained = "ERR_NOT_TRAINED";  // search/add before train
constexpr const char* kErrReadOnly = "ERR_READ_ONLY";      // opened with mmap

// Our own errors (any thread), carrying one of the codes above.
struct CodedError : std::runtime_error {
  CodedError(const std::string& msg, const char* c) : std::runtime_error(msg), code(c) {}
  const char* code;
};
// Rejected by our validation before calling faiss.
struct ArgError : CodedError {
  explicit ArgError(const std::string& msg) : CodedError(msg, kErrInvalidArg) {}
};
struct NotTrainedError : CodedError {
  explicit NotTrainedError(const std::string& msg) : CodedError(msg, kErrNotTrained) {}
};

Napi::Error MakeError(Napi::Env env, const std::string& msg, const char* code,
                      bool type_error = false);

// Runs f(); converts every C++ exception into a thrown Napi::Error (which
// node-addon-api turns into a JS exception). Use around all synchronous work.
template <class F>
auto Guard(Napi::Env env, F&& f) -> decltype(f());

// Translate the current exception (inside a catch(...)) into message + code.
void DescribeCurrentException(std::string& msg, const char*& code);

// ---------------------------------------------------------------------------
// Threads: omp_set_num_threads only changes the calling thread's ICV, and
// faiss runs on libuv pool threads, so every worker applies this value first.
// ---------------------------------------------------------------------------
extern std::atomic<int> g_threads;
void ApplyThreads();

// ---------------------------------------------------------------------------
// Holder: owns the faiss index. Shared (std::shared_ptr) between the JS
// object and every async worker, so the index outlives GC of its JS wrapper
// and dispose() while work runs.
//
// Locking: `mu` is a reader/writer lock — searches, reconstruct, write and
// clone read; train/add/removeIds (and the lazy IVF direct map, and the
// ParameterSpace fallback) write. `gate` makes it writer-preferring: a writer
// holds the gate while it waits, so a stream of searches cannot starve an add.
// ---------------------------------------------------------------------------
struct Holder {
  explicit Holder(std::unique_ptr<faiss::Index> ix) : index(std::move(ix)) { Refresh(); }

  std::unique_ptr<faiss::Index> index;
  // Opened with IO_FLAG_MMAP: IVF lists live in a read-only mapping. faiss
  // throws from inside an OpenMP region on add/remove there, which would
  // terminate the process, so mutations (and serialization) are refused.
  bool read_only = false;
  std::shared_mutex mu;
  std::mutex gate;

  // Count of queued or running exclusive workers. Touched on the JS thread
  // only (incremented when queued, decremented in OnOK/OnError), so a
  // synchronous call that sees 0 knows no writer can start before it returns.
  int pending_writers = 0;

  // Cached metadata, refreshed under the write lock after each mutation, so
  // getters never touch the index while a worker mutates it.
  std::atomic<int64_t> ntotal{0};
  std::atomic<bool> trained{false};

  void Refresh() {
    ntotal.store(index->ntotal);
    trained.store(index->is_trained);
  }
};

class ReadLock {
 public:
  explicit ReadLock(Holder& h) : h_(h) {
    std::lock_guard<std::mutex> g(h_.gate);
    h_.mu.lock_shared();
  }
  ~ReadLock() { h_.mu.unlock_shared(); }
  ReadLock(const ReadLock&) = delete;
  ReadLock& operator=(const ReadLock&) = delete;

 private:
  Holder& h_;
};

class WriteLock {
 public:
  explicit WriteLock(Holder& h) : h_(h) {
    std::lock_guard<std::mutex> g(h_.gate);
    h_.mu.lock();
  }
  ~WriteLock() { h_.mu.unlock(); }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;

 private:
  Holder& h_;
};

// ---------------------------------------------------------------------------
// PromiseWorker: AsyncWorker that settles a Promise. Subclasses implement
// Run() (worker thread, may throw anything) and Result() (JS thread).
// ---------------------------------------------------------------------------
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env)
      : Napi::AsyncWorker(env, "faiss_node"), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Queue() {
    Napi::Promise p = deferred_.Promise();
    Napi::AsyncWorker::Queue();
    return p;
  }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }
  virtual void Done() {}  // JS thread, after OK or error

 private:
  void Execute() final;
  void OnOK() final;
  void OnError(const Napi::Error& e) final;

  Napi::Promise::Deferred deferred_;
  std::string msg_;
  const char* code_ = kErrFaiss;
};

// ---------------------------------------------------------------------------
// Argument helpers (JS thread). They throw Napi::TypeError / RangeError
// carrying code ERR_INVALID_ARG.
// ---------------------------------------------------------------------------
[[noreturn]] void ThrowArg(Napi::Env env, const std::string& msg, bool type_error = true);
Napi::TypedArrayOf<float> ArgFloat32(const Napi::CallbackInfo& info, size_t i, const char* name);
Napi::TypedArrayOf<int64_t> ArgBigInt64(const Napi::CallbackInfo& info, size_t i, const char* name);
int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max);
int64_t ArgIntValue(Napi::Env env, const Napi::Value& v, const char* name, int64_t min, int64_t max);
int64_t ArgId(Napi::Env env, const Napi::Value& v, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name);

// ---------------------------------------------------------------------------
template <class F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    std::string msg;
    const char* code = kErrFaiss;
    DescribeCurrentException(msg, code);
    throw MakeError(env, msg, code);
  }
}

}  // namespace fnode
