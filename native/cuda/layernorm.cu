// layernorm.cu — CUDA backend: LayerNorm over the last dimension, forward and backward.
//
//   forward:  mean (N), rstd (N) F32 = statistics of each row of x (N, C) (biased variance)
//             out (N, C) = (x - mean) * rstd * weight (C) + bias (C)
//   backward: with xhat = (x - mean) * rstd and g = dout * weight,
//             dx (N, C)      = rstd * (g - mean_c(g) - xhat * mean_c(g * xhat))   (activation gradient: overwritten)
//             dweight (C)   += sum over rows of dout * xhat                        (parameter gradients: accumulated)
//             dbias (C)     += sum over rows of dout
// One warp per row (fp32 statistics, two passes over the row: mean, then centred variance). The
// parameter gradients are deterministic and follow the CPU's grouping: partial sums over fixed
// chunks of kRowsPerChunk rows (rows added in order), then the chunk partials added in chunk order.
#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kRowThreads = 256;                     // 8 rows (warps) per block
constexpr int kRowsPerBlock = kRowThreads / kWarp;
constexpr int kColumnThreads = 256;
constexpr int64_t kRowsPerChunk = 32;

template <typename T>
__global__ void __launch_bounds__(kRowThreads) layernorm_forward_kernel(
    T* __restrict__ out, float* __restrict__ mean, float* __restrict__ rstd, const T* __restrict__ x,
    const T* __restrict__ weight, const T* __restrict__ bias, int64_t N, int64_t C, float eps) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= N) return;
  const T* xr = x + row * C;
  float sum = 0.0f;
  for (int64_t j = lane; j < C; j += kWarp) sum += load(xr[j]);
  const float mu = warp_sum(sum) / static_cast<float>(C);
  float sq = 0.0f;
  for (int64_t j = lane; j < C; j += kWarp) {
    const float d = load(xr[j]) - mu;
    sq += d * d;
  }
  const float r = 1.0f / sqrtf(warp_sum(sq) / static_cast<float>(C) + eps);
  T* orow = out + row * C;
  for (int64_t j = lane; j < C; j += kWarp) {
    orow[j] = store<T>((load(xr[j]) - mu) * r * load(weight[j]) + load(bias[j]));
  }
  if (lane == 0) {
    mean[row] = mu;
    rstd[row] = r;
  }
}

// dx may alias dout: a row is fully read (two reductions) before any of it is written, all by one warp.
template <typename T>
__global__ void __launch_bounds__(kRowThreads) layernorm_backward_dx_kernel(
    T* dx, const T* dout, const T* __restrict__ x, const T* __restrict__ weight, const float* __restrict__ mean,
    const float* __restrict__ rstd, int64_t N, int64_t C) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= N) return;
  const T* xr = x + row * C;
  const T* gr = dout + row * C;
  const float mu = mean[row];
  const float r = rstd[row];
  float g_sum = 0.0f;
  float g_xhat_sum = 0.0f;
  for (int64_t j = lane; j < C; j += kWarp) {
    const float g = load(gr[j]) * load(weight[j]);
    g_sum += g;
    g_xhat_sum += g * (load(xr[j]) - mu) * r;
  }
  const float inv_c = 1.0f / static_cast<float>(C);
  const float g_mean = warp_sum(g_sum) * inv_c;
  const float g_xhat_mean = warp_sum(g_xhat_sum) * inv_c;
  T* dr = dx + row * C;
  for (int64_t j = lane; j < C; j += kWarp) {
    const float g = load(gr[j]) * load(weight[j]);
    const float xhat = (load(xr[j]) - mu) * r;
    dr[j] = store<T>(r * (g - g_mean - xhat * g_xhat_mean));
  }
}

/**
 * dweight_partial, dbias_partial (chunks, C): sums over the rows of chunk blockIdx.y, in row order,
 * of dout * xhat and of dout. Launched before the dx kernel so an aliased dout is still intact.
 */
template <typename T>
__global__ void layernorm_param_partial_kernel(float* __restrict__ dweight_partial, float* __restrict__ dbias_partial,
                                               const T* __restrict__ dout, const T* __restrict__ x,
                                               const float* __restrict__ mean, const float* __restrict__ rstd,
                                               int64_t N, int64_t C) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const int64_t chunk = blockIdx.y;
  const int64_t row_end = min(N, (chunk + 1) * kRowsPerChunk);
  float dw = 0.0f;
  float db = 0.0f;
  for (int64_t i = chunk * kRowsPerChunk; i < row_end; ++i) {
    const float dy = load(dout[i * C + c]);
    dw += dy * ((load(x[i * C + c]) - mean[i]) * rstd[i]);
    db += dy;
  }
  dweight_partial[chunk * C + c] = dw;
  dbias_partial[chunk * C + c] = db;
}

}  // namespace

void layernorm_forward(lmt_ctx& ctx, void* out, float* mean, float* rstd, const void* x, const void* weight,
                       const void* bias, int64_t N, int64_t C, float eps, lmt_dtype dt) {
  use_device(ctx);
  if (N == 0) return;
  LMT_DISPATCH_FLOAT(dt, T, {
    layernorm_forward_kernel<T><<<blocks_for(N, kRowsPerBlock), kRowThreads, 0, stream_of(ctx)>>>(
        static_cast<T*>(out), mean, rstd, static_cast<const T*>(x), static_cast<const T*>(weight),
        static_cast<const T*>(bias), N, C, eps);
  });
  check_launch("layernorm_forward_kernel");
}

void layernorm_backward(lmt_ctx& ctx, void* dx, float* dweight, float* dbias, const void* dout, const void* x,
                        const void* weight, const float* mean, const float* rstd, int64_t N, int64_t C,
                        lmt_dtype dt) {
  use_device(ctx);
  if (N == 0) return;
  cudaStream_t stream = stream_of(ctx);
  const int64_t chunks = (N + kRowsPerChunk - 1) / kRowsPerChunk;
  require(chunks <= 65535, "layernorm_backward: N = ", N, " rows exceed the CUDA limit of ", 65535 * kRowsPerChunk);
  StreamScratch partial(stream, static_cast<size_t>(2 * chunks * C) * sizeof(float));
  float* dweight_partial = partial.as<float>();
  float* dbias_partial = dweight_partial + chunks * C;
  LMT_DISPATCH_FLOAT(dt, T, {
    const dim3 grid(blocks_for(C, kColumnThreads), static_cast<unsigned>(chunks));
    layernorm_param_partial_kernel<T><<<grid, kColumnThreads, 0, stream>>>(
        dweight_partial, dbias_partial, static_cast<const T*>(dout), static_cast<const T*>(x), mean, rstd, N, C);
    check_launch("layernorm_param_partial_kernel");
    layernorm_backward_dx_kernel<T><<<blocks_for(N, kRowsPerBlock), kRowThreads, 0, stream>>>(
        static_cast<T*>(dx), static_cast<const T*>(dout), static_cast<const T*>(x), static_cast<const T*>(weight),
        mean, rstd, N, C);
    check_launch("layernorm_backward_dx_kernel");
  });
  add_column_partials(stream, dweight, dweight_partial, chunks, C);
  add_column_partials(stream, dbias, dbias_partial, chunks, C);
}

}  // namespace lmt::cuda
