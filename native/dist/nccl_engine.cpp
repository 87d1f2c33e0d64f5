// nccl_engine.cpp — the NCCL engine (CUDA builds): device-memory collectives queued on the
// context's stream. libnccl is loaded with dlopen at run time, so liblmtrain.so loads on machines
// without NCCL; the few declarations used are written out below (NCCL 2.x ABI: ncclResult_t,
// ncclDataType_t and ncclRedOp_t are C enums, ncclUniqueId is 128 bytes passed by value).
//
// Bounded waits: after queueing a collective the engine records an event and polls it, checking
// ncclCommGetAsyncError, until the timeout; then it calls ncclCommAbort (which ends the kernels
// waiting for a dead peer) and fails with LMT_ERR_COMM. ncclCommInitRank blocks until every rank
// has joined, so it runs on a helper thread that is abandoned after the timeout.
#include <dlfcn.h>
#include <glob.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "comm.h"
#include "common.cuh"

namespace lmt::dist {
namespace {

using NcclResult = int;  // ncclResult_t
using NcclComm = struct NcclCommOpaque*;
struct NcclUniqueId {
  char internal[kNcclIdBytes];
};
constexpr NcclResult kNcclSuccess = 0;
constexpr NcclResult kNcclInProgress = 7;
constexpr int kNcclInt8 = 0, kNcclInt32 = 2, kNcclInt64 = 4, kNcclFloat32 = 7, kNcclFloat64 = 8;  // ncclDataType_t
constexpr int kNcclSum = 0, kNcclMax = 2, kNcclMin = 3;                                          // ncclRedOp_t

/** The NCCL entry points lmtrain uses, resolved once per process. */
struct NcclApi {
  std::string path;
  NcclResult (*get_version)(int*);
  NcclResult (*get_unique_id)(NcclUniqueId*);
  NcclResult (*comm_init_rank)(NcclComm*, int, NcclUniqueId, int);
  NcclResult (*all_reduce)(const void*, void*, size_t, int, int, NcclComm, cudaStream_t);
  NcclResult (*broadcast)(const void*, void*, size_t, int, int, NcclComm, cudaStream_t);
  NcclResult (*comm_destroy)(NcclComm);
  NcclResult (*comm_abort)(NcclComm);
  NcclResult (*comm_get_async_error)(NcclComm, NcclResult*);
  const char* (*get_error_string)(NcclResult);
};

/**
 * Where NCCL may be: the caller's path, the loader's search path, then pip's nvidia-nccl wheels in
 * the Python environment of every python3 on PATH (a venv's or conda's bin/ -> its lib/python3.X/)
 * and in the system's (/usr/local, /usr); each file once.
 */
std::vector<std::string> candidates(const char* library) {
  if (library != nullptr && library[0] != '\0') return {library};
  std::vector<std::string> prefixes;
  const char* path_env = std::getenv("PATH");
  std::string path = path_env != nullptr ? path_env : "";
  for (size_t start = 0; start < path.size();) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty() && access((dir + "/python3").c_str(), X_OK) == 0) prefixes.push_back(dir + "/..");
    start = end + 1;
  }
  prefixes.emplace_back("/usr/local");
  prefixes.emplace_back("/usr");
  std::vector<std::string> out{"libnccl.so.2"};
  std::set<std::string> seen;
  for (const std::string& prefix : prefixes) {
    for (const char* packages : {"site-packages", "dist-packages"}) {
      std::string pattern = concat(prefix, "/lib/python3*/", packages, "/nvidia/nccl/lib/libnccl.so.2");
      glob_t found{};
      if (glob(pattern.c_str(), 0, nullptr, &found) == 0) {
        for (size_t i = 0; i < found.gl_pathc; i++) {
          char* real = realpath(found.gl_pathv[i], nullptr);
          if (real != nullptr && seen.insert(real).second) out.emplace_back(real);
          free(real);
        }
      }
      globfree(&found);
    }
  }
  return out;
}

template <typename Fn>
void resolve(void* handle, const std::string& path, const char* name, Fn& fn) {
  fn = reinterpret_cast<Fn>(dlsym(handle, name));
  if (fn == nullptr) {
    throw Error(LMT_ERR_UNSUPPORTED, concat(path, " has no ", name, " (not NCCL 2.x, or too old)"));
  }
}

const NcclApi& nccl(const char* library) {
  static NcclApi api;
  static bool loaded = false;
  if (loaded) return api;
  std::string tried;
  void* handle = nullptr;
  for (const std::string& path : candidates(library)) {
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) {
      api.path = path;
      break;
    }
    const char* why = dlerror();
    tried += concat("\n  ", path, ": ", why ? why : "not loadable");
  }
  if (handle == nullptr) {
    throw Error(LMT_ERR_UNSUPPORTED, concat("cannot load NCCL; tried:", tried,
                                            "\nset LMTRAIN_NCCL_LIBRARY to the path of libnccl.so.2 (PyTorch's"
                                            " nvidia-nccl wheel keeps it in site-packages/nvidia/nccl/lib/)"));
  }
  resolve(handle, api.path, "ncclGetVersion", api.get_version);
  resolve(handle, api.path, "ncclGetUniqueId", api.get_unique_id);
  resolve(handle, api.path, "ncclCommInitRank", api.comm_init_rank);
  resolve(handle, api.path, "ncclAllReduce", api.all_reduce);
  resolve(handle, api.path, "ncclBroadcast", api.broadcast);
  resolve(handle, api.path, "ncclCommDestroy", api.comm_destroy);
  resolve(handle, api.path, "ncclCommAbort", api.comm_abort);
  resolve(handle, api.path, "ncclCommGetAsyncError", api.comm_get_async_error);
  resolve(handle, api.path, "ncclGetErrorString", api.get_error_string);
  loaded = true;
  return api;
}

void check_nccl(const NcclApi& api, NcclResult r, const char* call) {
  if (r != kNcclSuccess) throw Error(LMT_ERR_COMM, concat(call, " failed: ", api.get_error_string(r)));
}

int nccl_type(lmt_dtype dt) {
  switch (dt) {
    case LMT_F32: return kNcclFloat32;
    case LMT_F64: return kNcclFloat64;
    case LMT_I32: return kNcclInt32;
    case LMT_I64: return kNcclInt64;
    default: throw Error(LMT_ERR_INVALID_ARGUMENT, concat("dt ", dtype_name(dt), " cannot be reduced"));
  }
}

int nccl_op(lmt_reduce_op op) {
  switch (op) {
    case LMT_REDUCE_SUM: return kNcclSum;
    case LMT_REDUCE_MIN: return kNcclMin;
    case LMT_REDUCE_MAX: return kNcclMax;
  }
  throw Error(LMT_ERR_INVALID_ARGUMENT, concat("op code ", static_cast<int>(op), " is not a reduce op"));
}

class NcclEngine final : public Engine {
 public:
  NcclEngine(lmt_ctx& ctx, const uint8_t* id, int rank, int size, const char* library, double timeout_s)
      : api_(nccl(library)), ctx_(ctx), rank_(rank), size_(size), timeout_s_(timeout_s) {
    cuda::check_cuda(cudaSetDevice(ctx_.device), "cudaSetDevice");
    NcclUniqueId unique{};
    std::memcpy(unique.internal, id, kNcclIdBytes);
    // Blocks until all `size` ranks have joined: run it on a helper thread and wait at most
    // timeout_s. After a timeout the helper stays blocked inside NCCL and the job is aborted.
    struct Join {
      std::mutex mutex;
      std::condition_variable joined;
      bool done = false;
      NcclResult result = kNcclSuccess;
      NcclComm comm = nullptr;
    };
    auto join = std::make_shared<Join>();
    const NcclApi* api = &api_;
    int device = ctx_.device;
    std::thread([join, api, unique, rank, size, device] {
      NcclComm comm = nullptr;
      cudaSetDevice(device);
      NcclResult result = api->comm_init_rank(&comm, size, unique, rank);
      std::lock_guard<std::mutex> lock(join->mutex);
      join->result = result;
      join->comm = comm;
      join->done = true;
      join->joined.notify_all();
    }).detach();
    std::unique_lock<std::mutex> lock(join->mutex);
    if (!join->joined.wait_for(lock, std::chrono::duration<double>(timeout_s_), [&] { return join->done; })) {
      throw Error(LMT_ERR_COMM, concat("ncclCommInitRank: not all ", size, " ranks joined within ", timeout_s_, " s"));
    }
    check_nccl(api_, join->result, "ncclCommInitRank");
    comm_ = join->comm;
    cuda::check_cuda(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming), "cudaEventCreate");
  }

  ~NcclEngine() override {
    if (done_ != nullptr) cudaEventDestroy(done_);
    if (scratch_ != nullptr) cudaFree(scratch_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return -1; }
  int local_size() const override { return -1; }

  void all_reduce(void* buf, int64_t n, lmt_dtype dt, lmt_reduce_op op) override {
    cuda::check_cuda(cudaSetDevice(ctx_.device), "cudaSetDevice");
    check_nccl(api_, api_.all_reduce(buf, buf, static_cast<size_t>(n), nccl_type(dt), nccl_op(op), live(),
                                     cuda::stream_of(ctx_)),
               "ncclAllReduce");
    wait("ncclAllReduce");
  }

  void all_reduce_host(void* values, int64_t n, lmt_dtype dt, lmt_reduce_op op) override {
    size_t bytes = static_cast<size_t>(n) * dtype_size(dt);
    cuda::check_cuda(cudaSetDevice(ctx_.device), "cudaSetDevice");
    if (bytes > scratch_bytes_) {
      if (scratch_ != nullptr) cuda::check_cuda(cudaFree(scratch_), "cudaFree");
      scratch_ = nullptr;
      cuda::check_cuda(cudaMalloc(&scratch_, bytes), "cudaMalloc");
      scratch_bytes_ = bytes;
    }
    cudaStream_t stream = cuda::stream_of(ctx_);
    cuda::check_cuda(cudaMemcpyAsync(scratch_, values, bytes, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync");
    check_nccl(api_, api_.all_reduce(scratch_, scratch_, static_cast<size_t>(n), nccl_type(dt), nccl_op(op), live(),
                                     stream),
               "ncclAllReduce");
    cuda::check_cuda(cudaMemcpyAsync(values, scratch_, bytes, cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync");
    wait("ncclAllReduce");
  }

  void broadcast(void* buf, int64_t bytes, int root) override {
    cuda::check_cuda(cudaSetDevice(ctx_.device), "cudaSetDevice");
    check_nccl(api_, api_.broadcast(buf, buf, static_cast<size_t>(bytes), kNcclInt8, root, live(),
                                    cuda::stream_of(ctx_)),
               "ncclBroadcast");
    wait("ncclBroadcast");
  }

  void barrier() override {
    int32_t one = 1;
    all_reduce_host(&one, 1, LMT_I32, LMT_REDUCE_SUM);
  }

  void abort(int) override {
    if (comm_ != nullptr) api_.comm_abort(comm_);
    comm_ = nullptr;
  }

  void finish() override {
    if (comm_ == nullptr) return;
    NcclComm comm = comm_;
    comm_ = nullptr;
    check_nccl(api_, api_.comm_destroy(comm), "ncclCommDestroy");
  }

 private:
  NcclComm live() const {
    if (comm_ == nullptr) throw Error(LMT_ERR_COMM, "the NCCL communicator was aborted or destroyed");
    return comm_;
  }

  /** Waits for the stream's work up to the timeout; on a NCCL error or the timeout, aborts the communicator. */
  void wait(const char* call) {
    cudaStream_t stream = cuda::stream_of(ctx_);
    cuda::check_cuda(cudaEventRecord(done_, stream), "cudaEventRecord");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s_);
    for (;;) {
      cudaError_t state = cudaEventQuery(done_);
      if (state == cudaSuccess) return;
      if (state != cudaErrorNotReady) cuda::check_cuda(state, call);
      NcclResult async = kNcclSuccess;
      api_.comm_get_async_error(comm_, &async);
      if (async != kNcclSuccess && async != kNcclInProgress) {
        abort(0);
        throw Error(LMT_ERR_COMM, concat(call, " failed: ", api_.get_error_string(async)));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        abort(0);
        throw Error(LMT_ERR_COMM, concat(call, " did not complete within ", timeout_s_, " s"));
      }
      std::this_thread::yield();
    }
  }

  const NcclApi& api_;
  lmt_ctx& ctx_;
  int rank_;
  int size_;
  double timeout_s_;
  NcclComm comm_ = nullptr;
  cudaEvent_t done_ = nullptr;
  void* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
};

}  // namespace

std::array<uint8_t, kNcclIdBytes> nccl_unique_id(const char* library) {
  const NcclApi& api = nccl(library);
  NcclUniqueId id{};
  check_nccl(api, api.get_unique_id(&id), "ncclGetUniqueId");
  std::array<uint8_t, kNcclIdBytes> out{};
  std::memcpy(out.data(), id.internal, kNcclIdBytes);
  return out;
}

std::unique_ptr<Engine> open_nccl(lmt_ctx& ctx, const uint8_t* id, int rank, int size, const char* library,
                                  double timeout_s) {
  return std::make_unique<NcclEngine>(ctx, id, rank, size, library, timeout_s);
}

}  // namespace lmt::dist
