// elementwise.cu — CUDA backend: residual add, scale, casts, and the deterministic reductions
// (sum of squares for the global gradient norm, non-finite count for loss-scale overflow).
//
//   add:              out (n) = a (n) + b (n)                (out may alias a or b)
//   scale:            x (n) *= alpha
//   cast:             dst (n) dst_dt = src (n) src_dt         (round to nearest even)
//   sum_squares:      out (1) F32 = sum x_i^2: fp64 partials over fixed chunks of kChunk elements
//                     (boundaries depend on n only), then one block adds the partials in a fixed order
//   count_nonfinite:  out (1) = #{i : x_i is NaN or infinite} (integer sums: any order is exact)
// No backward: add's gradient is the identity on both inputs, scale's is scale, a cast's is the
// reverse cast. Outputs of the reductions stay on the device (no host synchronisation).
#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kPerThread = 16;
constexpr int64_t kChunk = kThreads * kPerThread;  // elements per reduction partial

template <typename T>
__global__ void add_kernel(T* out, const T* a, const T* b, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = store<T>(load(a[i]) + load(b[i]));
  }
}

template <typename T>
__global__ void scale_kernel(T* x, float alpha, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    x[i] = store<T>(load(x[i]) * alpha);
  }
}

template <typename D, typename S>
__global__ void cast_kernel(D* __restrict__ dst, const S* __restrict__ src, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dst[i] = store<D>(load(src[i]));
  }
}

/** partial[blockIdx.x] = sum of x_i^2 over chunk blockIdx.x (kChunk elements), in fp64. */
template <typename T>
__global__ void sum_squares_partial_kernel(double* __restrict__ partial, const T* __restrict__ x, int64_t n) {
  __shared__ double scratch[kWarp];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * kChunk;
  double acc = 0.0;
#pragma unroll 4
  for (int k = 0; k < kPerThread; ++k) {
    const int64_t i = base + static_cast<int64_t>(k) * kThreads + threadIdx.x;
    if (i < n) {
      const double v = load(x[i]);
      acc += v * v;
    }
  }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

template <typename T>
__global__ void count_nonfinite_kernel(unsigned long long* __restrict__ out, const T* __restrict__ x, int64_t n) {
  __shared__ unsigned long long scratch[kWarp];
  unsigned long long count = 0;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    count += isfinite(load(x[i])) ? 0ull : 1ull;
  }
  count = block_sum(count, scratch);
  if (threadIdx.x == 0 && count != 0) atomicAdd(out, count);
}

}  // namespace

void add(lmt_ctx& ctx, void* out, const void* a, const void* b, int64_t n, lmt_dtype dt) {
  use_device(ctx);
  if (n == 0) return;
  LMT_DISPATCH_FLOAT(dt, T, {
    add_kernel<T><<<grid_stride_blocks(n, kThreads), kThreads, 0, stream_of(ctx)>>>(
        static_cast<T*>(out), static_cast<const T*>(a), static_cast<const T*>(b), n);
  });
  check_launch("add_kernel");
}

void scale(lmt_ctx& ctx, void* x, float alpha, int64_t n, lmt_dtype dt) {
  use_device(ctx);
  if (n == 0) return;
  LMT_DISPATCH_FLOAT(dt, T, {
    scale_kernel<T><<<grid_stride_blocks(n, kThreads), kThreads, 0, stream_of(ctx)>>>(static_cast<T*>(x), alpha, n);
  });
  check_launch("scale_kernel");
}

void cast(lmt_ctx& ctx, void* dst, lmt_dtype dst_dt, const void* src, lmt_dtype src_dt, int64_t n) {
  use_device(ctx);
  if (n == 0) return;
  LMT_DISPATCH_FLOAT(dst_dt, D, {
    LMT_DISPATCH_FLOAT(src_dt, S, {
      cast_kernel<D, S><<<grid_stride_blocks(n, kThreads), kThreads, 0, stream_of(ctx)>>>(
          static_cast<D*>(dst), static_cast<const S*>(src), n);
    });
  });
  check_launch("cast_kernel");
}

void sum_squares(lmt_ctx& ctx, float* out, const void* x, int64_t n, lmt_dtype dt) {
  use_device(ctx);
  cudaStream_t stream = stream_of(ctx);
  if (n == 0) {
    check_cuda(cudaMemsetAsync(out, 0, sizeof(float), stream), "cudaMemsetAsync");
    return;
  }
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  StreamScratch partial(stream, static_cast<size_t>(chunks) * sizeof(double));
  LMT_DISPATCH_FLOAT(dt, T, {
    sum_squares_partial_kernel<T><<<static_cast<unsigned>(chunks), kThreads, 0, stream>>>(
        partial.as<double>(), static_cast<const T*>(x), n);
  });
  check_launch("sum_squares_partial_kernel");
  sum_partials(stream, out, partial.as<double>(), chunks);
}

void count_nonfinite(lmt_ctx& ctx, int64_t* out, const void* x, int64_t n, lmt_dtype dt) {
  use_device(ctx);
  cudaStream_t stream = stream_of(ctx);
  check_cuda(cudaMemsetAsync(out, 0, sizeof(int64_t), stream), "cudaMemsetAsync");
  if (n == 0) return;
  LMT_DISPATCH_FLOAT(dt, T, {
    count_nonfinite_kernel<T><<<grid_stride_blocks(n, kThreads), kThreads, 0, stream>>>(
        reinterpret_cast<unsigned long long*>(out), static_cast<const T*>(x), n);
  });
  check_launch("count_nonfinite_kernel");
}

}  // namespace lmt::cuda
