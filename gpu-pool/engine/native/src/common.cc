#include "common.h"

#include <faiss/impl/FaissException.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <new>

namespace fnode {

std::atomic<int> g_threads{1};

void ApplyThreads() {
  int n = g_threads.load();
  if (n >= 1 && omp_get_max_threads() != n) omp_set_num_threads(n);
}

Napi::Error MakeError(Napi::Env env, const std::string& msg, const char* code, bool type_error) {
  Napi::Error e = type_error ? Napi::TypeError::New(env, msg) : Napi::Error::New(env, msg);
  e.Value().Set("code", Napi::String::New(env, code));
  return e;
}

void DescribeCurrentException(std::string& msg, const char*& code) {
  try {
    throw;
  } catch (const faiss::FaissException& e) {
    msg = e.what();
    code = kErrFaiss;
  } catch (const CodedError& e) {
    msg = e.what();
    code = e.code;
  } catch (const std::bad_alloc&) {
    msg = "out of memory (std::bad_alloc) inside faiss";
    code = kErrNoMem;
  } catch (const std::exception& e) {
    msg = e.what();
    code = kErrFaiss;
  } catch (...) {
    msg = "unknown native exception";
    code = kErrFaiss;
  }
}

// ---------------------------------------------------------------------------
void PromiseWorker::Execute() {
  try {
    ApplyThreads();
    Run();
  } catch (...) {
    DescribeCurrentException(msg_, code_);
    SetError(msg_.empty() ? std::string("faiss error") : msg_);
  }
}

void PromiseWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Done();
  try {
    deferred_.Resolve(Result(env));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  } catch (...) {
    std::string msg;
    const char* code = kErrFaiss;
    DescribeCurrentException(msg, code);
    deferred_.Reject(MakeError(env, msg, code).Value());
  }
}

void PromiseWorker::OnError(const Napi::Error&) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Done();
  deferred_.Reject(MakeError(env, msg_, code_).Value());
}

// ---------------------------------------------------------------------------
void ThrowArg(Napi::Env env, const std::string& msg, bool type_error) {
  if (type_error) throw MakeError(env, msg, kErrInvalidArg, true);
  Napi::Error e = Napi::RangeError::New(env, msg);
  e.Value().Set("code", Napi::String::New(env, kErrInvalidArg));
  throw e;
}

Napi::TypedArrayOf<float> ArgFloat32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    ThrowArg(info.Env(), std::string(name) + " must be a Float32Array");
  return v.As<Napi::TypedArrayOf<float>>();
}

Napi::TypedArrayOf<int64_t> ArgBigInt64(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array)
    ThrowArg(info.Env(), std::string(name) + " must be a BigInt64Array");
  return v.As<Napi::TypedArrayOf<int64_t>>();
}

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max) {
  return ArgIntValue(info.Env(), info[i], name, min, max);
}

int64_t ArgIntValue(Napi::Env env, const Napi::Value& v, const char* name, int64_t min, int64_t max) {
  if (!v.IsNumber()) ThrowArg(env, std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d)
    ThrowArg(env, std::string(name) + " must be an integer", false);
  if (d < static_cast<double>(min) || d > static_cast<double>(max))
    ThrowArg(env,
             std::string(name) + " must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                 "], got " + std::to_string(d),
             false);
  return static_cast<int64_t>(d);
}

int64_t ArgId(Napi::Env env, const Napi::Value& v, const char* name) {
  if (v.IsBigInt()) {
    bool lossless = false;
    int64_t id = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) ThrowArg(env, std::string(name) + " does not fit in a signed 64-bit integer", false);
    return id;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9007199254740991.0)
      ThrowArg(env, std::string(name) + " must be a safe integer or a bigint", false);
    return static_cast<int64_t>(d);
  }
  ThrowArg(env, std::string(name) + " must be a bigint or an integer number");
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsString()) ThrowArg(info.Env(), std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

}  // namespace fnode
