// runtime.cu — CUDA backend: contexts (device + stream), device memory and copies.
// Allocation failures name the size requested; a missing driver or GPU is an lmt::Error.
#include "common.cuh"

namespace lmt::cuda {

int device_count() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return 0;  // no driver or no device: not an error for discovery
  }
  return count;
}

namespace {

/**
 * Keeps memory freed with cudaFreeAsync in the device's stream-ordered pool instead of handing it back
 * to the driver at every synchronisation (the pool's default release threshold is 0): kernel
 * workspaces (split-K partial sums, per-row losses, sort buffers) are allocated and freed on every
 * training step, which then costs a driver allocation each time. (The H200 run of 2026-12-04 timed a
 * split-K weight gradient at about 3x its kernels' ncu durations with the default; this setting has
 * not run on a GPU yet.) Best effort: an error leaves the default in place.
 */
void keep_freed_memory_pooled(int device) {
  cudaMemPool_t pool = nullptr;
  uint64_t keep_all = UINT64_MAX;
  if (cudaDeviceGetDefaultMemPool(&pool, device) != cudaSuccess ||
      cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all) != cudaSuccess) {
    cudaGetLastError();
  }
}

}  // namespace

void context_init(lmt_ctx& ctx) {
  int count = device_count();
  require(ctx.device < count, "CUDA device ", ctx.device, " requested but ",
          count == 0 ? std::string("no CUDA device or driver is available")
                     : concat("only ", count, " device(s) exist (0..", count - 1, ")"));
  check_cuda(cudaSetDevice(ctx.device), "cudaSetDevice");
  cudaStream_t stream = nullptr;
  check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  ctx.stream = stream;
  keep_freed_memory_pooled(ctx.device);
}

void context_release(lmt_ctx& ctx) {
  if (ctx.stream != nullptr) {
    cudaSetDevice(ctx.device);
    cudaStreamSynchronize(stream_of(ctx));
    cudaStreamDestroy(stream_of(ctx));
    ctx.stream = nullptr;
  }
}

void synchronize(lmt_ctx& ctx) {
  check_cuda(cudaSetDevice(ctx.device), "cudaSetDevice");
  check_cuda(cudaStreamSynchronize(stream_of(ctx)), "cudaStreamSynchronize");
}

void* allocate(lmt_ctx& ctx, size_t bytes) {
  check_cuda(cudaSetDevice(ctx.device), "cudaSetDevice");
  void* p = nullptr;
  cudaError_t err = cudaMallocAsync(&p, bytes, stream_of(ctx));
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total = 0;
    cudaMemGetInfo(&free_bytes, &total);
    throw Error(LMT_ERR_OUT_OF_MEMORY, concat("out of GPU memory on cuda:", ctx.device, ": requested ", bytes,
                                              " bytes, ", free_bytes, " of ", total, " bytes free"));
  }
  check_cuda(err, "cudaMallocAsync");
  return p;
}

void release(lmt_ctx& ctx, void* ptr) {
  check_cuda(cudaSetDevice(ctx.device), "cudaSetDevice");
  check_cuda(cudaFreeAsync(ptr, stream_of(ctx)), "cudaFreeAsync");
}

void copy(lmt_ctx& ctx, void* dst, const void* src, size_t bytes, lmt_copy_kind kind) {
  check_cuda(cudaSetDevice(ctx.device), "cudaSetDevice");
  cudaMemcpyKind k = kind == LMT_HOST_TO_DEVICE   ? cudaMemcpyHostToDevice
                     : kind == LMT_DEVICE_TO_HOST ? cudaMemcpyDeviceToHost
                                                  : cudaMemcpyDeviceToDevice;
  check_cuda(cudaMemcpyAsync(dst, src, bytes, k, stream_of(ctx)), "cudaMemcpyAsync");
  // Host buffers come from Java arrays that are released right after the call: finish the copy.
  if (kind != LMT_DEVICE_TO_DEVICE) check_cuda(cudaStreamSynchronize(stream_of(ctx)), "cudaStreamSynchronize");
}

void fill_bytes(lmt_ctx& ctx, void* dst, int value, size_t bytes) {
  check_cuda(cudaSetDevice(ctx.device), "cudaSetDevice");
  check_cuda(cudaMemsetAsync(dst, value, bytes, stream_of(ctx)), "cudaMemsetAsync");
}

}  // namespace lmt::cuda
