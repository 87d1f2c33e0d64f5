// pointwise_loss.cu — CUDA backend: losses of each logit against a float target, with their gradient.
//
//   logits x (n) dt, targets y (n) F32
//   BCE with logits:  loss_i = max(x_i, 0) - x_i y_i + log(1 + exp(-|x_i|)),  dloss_i/dx_i = sigmoid(x_i) - y_i
//   MSE:              loss_i = (x_i - y_i)^2,                                 dloss_i/dx_i = 2 (x_i - y_i)
//   loss_sum (1) F32  = sum_i loss_i: fp64 partials over fixed chunks of kChunk elements (boundaries
//                       depend on n only), then sum_partials (helpers.cuh) adds them in a fixed order
//   dlogits (n) dt    = grad_scale * dloss_i/dx_i (may alias logits: each element is read, then
//                       written, by the same thread)
// The same formulas as native/cpu/pointwise_loss.cpp; the sums are deterministic but added in
// another tree order than the CPU's.
#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kPerThread = 16;
constexpr int64_t kChunk = kThreads * kPerThread;

__device__ __forceinline__ float element_loss(float x, float y, lmt_pointwise_loss_kind kind, float* slope) {
  if (kind == LMT_LOSS_MSE) {
    const float diff = x - y;
    *slope = 2.0f * diff;
    return diff * diff;
  }
  *slope = 1.0f / (1.0f + expf(-x)) - y;
  return fmaxf(x, 0.0f) - x * y + log1pf(expf(-fabsf(x)));
}

/** partial[blockIdx.x] = sum of the losses of chunk blockIdx.x; writes dlogits when given. */
template <typename T>
__global__ void pointwise_loss_kernel(double* __restrict__ partial, T* dlogits, const T* logits,
                                      const float* __restrict__ targets, int64_t n, lmt_pointwise_loss_kind kind,
                                      float grad_scale) {
  __shared__ double scratch[kWarp];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * kChunk;
  double acc = 0.0;
  for (int k = 0; k < kPerThread; ++k) {
    const int64_t i = base + static_cast<int64_t>(k) * kThreads + threadIdx.x;
    if (i < n) {
      float slope;
      acc += element_loss(load(logits[i]), targets[i], kind, &slope);
      if (dlogits != nullptr) dlogits[i] = store<T>(grad_scale * slope);
    }
  }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

}  // namespace

void pointwise_loss(lmt_ctx& ctx, float* loss_sum, void* dlogits, const void* logits, const float* targets, int64_t n,
                    lmt_pointwise_loss_kind kind, float grad_scale, lmt_dtype dt) {
  use_device(ctx);
  cudaStream_t stream = stream_of(ctx);
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  StreamScratch partial(stream, static_cast<size_t>(chunks) * sizeof(double));
  LMT_DISPATCH_FLOAT(dt, T, {
    pointwise_loss_kernel<T><<<static_cast<unsigned>(chunks), kThreads, 0, stream>>>(
        partial.as<double>(), static_cast<T*>(dlogits), static_cast<const T*>(logits), targets, n, kind, grad_scale);
  });
  check_launch("pointwise_loss_kernel");
  if (loss_sum != nullptr) {
    sum_partials(stream, loss_sum, partial.as<double>(), chunks);
  }
}

}  // namespace lmt::cuda
