// helpers.cuh — pieces shared by the CUDA kernel files: selecting the context's device, warp/block
// reductions, the ordered column-partials reduction used for deterministic parameter gradients,
// stream-ordered scratch memory and grid sizing.
//
// Determinism: every reduction here combines values in an order fixed by the problem size and the
// (compile-time) launch shape, never by scheduling, so repeated runs give the same bits.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "common.cuh"

namespace lmt::cuda {

constexpr int kWarp = 32;

/**
 * Makes the context's device current on the calling thread (launches go to the current device, and
 * the Java side may call from any thread). Cheap when it already is.
 */
inline void use_device(const lmt_ctx& ctx) { check_cuda(cudaSetDevice(ctx.device), "cudaSetDevice"); }

template <typename V>
__device__ __forceinline__ V warp_sum(V v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/**
 * Sum of v over the whole block (blockDim.x a multiple of 32, at most 1024), returned to every
 * thread. Fixed tree order: warp butterflies, then warp 0 over the warp sums. `scratch` holds 32
 * values; the call ends with a barrier so scratch may be reused right after.
 */
template <typename V>
__device__ V block_sum(V v, V* scratch) {
  const int lane = threadIdx.x % kWarp;
  const int warp = threadIdx.x / kWarp;
  const int warps = blockDim.x / kWarp;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  V total = lane < warps ? scratch[lane] : V(0);
  total = warp_sum(total);  // every warp computes the same total
  __syncthreads();
  return total;
}

namespace {

/**
 * out (C) += sum over chunks of partial (chunks, C), chunks added in index order.
 * The second pass of the deterministic column reductions (bias, LayerNorm and embedding grads).
 */
__global__ void add_column_partials_kernel(float* __restrict__ out, const float* __restrict__ partial,
                                           int64_t chunks, int64_t C) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float acc = 0.0f;
  for (int64_t k = 0; k < chunks; ++k) acc += partial[k * C + c];
  out[c] += acc;
}

/** out (1) = sum of partial (chunks) in a fixed order: one block's strided sums, then its tree. */
__global__ void sum_double_partials_kernel(float* __restrict__ out, const double* __restrict__ partial,
                                           int64_t chunks) {
  __shared__ double scratch[kWarp];
  double acc = 0.0;
  for (int64_t k = threadIdx.x; k < chunks; k += blockDim.x) acc += partial[k];
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) *out = static_cast<float>(acc);
}

}  // namespace

/**
 * Queues out (1) F32 = the fp64 partial sums (chunks) added in a fixed order (one block of 1024
 * threads): the second pass of the deterministic whole-tensor reductions (sum of squares, losses).
 */
inline void sum_partials(cudaStream_t stream, float* out, const double* partial, int64_t chunks) {
  sum_double_partials_kernel<<<1, 1024, 0, stream>>>(out, partial, chunks);
  check_launch("sum_double_partials_kernel");
}

/** Queues out (C) += ordered sum of partial (chunks, C) on the stream. */
inline void add_column_partials(cudaStream_t stream, float* out, const float* partial, int64_t chunks, int64_t C) {
  add_column_partials_kernel<<<blocks_for(C, 256), 256, 0, stream>>>(out, partial, chunks, C);
  check_launch("add_column_partials_kernel");
}

/**
 * Device scratch memory whose lifetime follows the stream: allocated with cudaMallocAsync and
 * released with cudaFreeAsync when the owner goes out of scope, after the kernels queued before.
 */
class StreamScratch {
 public:
  StreamScratch(cudaStream_t stream, size_t bytes) : stream_(stream) {
    if (bytes > 0) check_cuda(cudaMallocAsync(&ptr_, bytes, stream), "cudaMallocAsync (kernel scratch)");
  }
  ~StreamScratch() {
    if (ptr_ != nullptr) cudaFreeAsync(ptr_, stream_);
  }
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;

  template <typename V>
  V* as() const { return static_cast<V*>(ptr_); }

 private:
  cudaStream_t stream_;
  void* ptr_ = nullptr;
};

/** Grid for a grid-stride elementwise loop over n items: enough blocks to fill any GPU, capped. */
inline unsigned grid_stride_blocks(int64_t n, int threads) {
  const int64_t cap = 65536;
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < cap ? blocks : cap);
}

/**
 * Calls fn(std::bool_constant<trans_a>{}, std::bool_constant<trans_b>{}): turns the two run-time
 * transpose flags of a matrix product into compile-time ones (`decltype(ta)::value`), one
 * instantiation per layout.
 */
template <typename Fn>
void with_transposes(int trans_a, int trans_b, Fn&& fn) {
  if (trans_a) {
    if (trans_b) fn(std::true_type{}, std::true_type{});
    else fn(std::true_type{}, std::false_type{});
  } else {
    if (trans_b) fn(std::false_type{}, std::true_type{});
    else fn(std::false_type{}, std::false_type{});
  }
}

}  // namespace lmt::cuda
