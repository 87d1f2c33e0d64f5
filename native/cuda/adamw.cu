// adamw.cu — CUDA backend: one fused AdamW step over a contiguous parameter buffer.
//
//   params (n) F32 master weights, m (n) F32, v (n) F32, grads (n) F32, decay_mask (n) 0/1 (nullable)
//   params_work (n) work_dt (nullable): receives the updated parameters rounded to work_dt
//   g = grads * grad_scale
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   p *= 1 - lr * wd                       (decoupled decay; wd = 0 where decay_mask is 0)
//   p -= lr * (m / (1 - beta1^step)) / (sqrt(v / (1 - beta2^step)) + eps)
// One thread per element, one read and one write of each buffer; the bias corrections are computed
// once on the host in double precision.
#include <cmath>

#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;

struct AdamwScalars {
  float lr, beta1, beta2, eps, weight_decay, grad_scale;
  float bias_correction1;  // 1 - beta1^step
  float bias_correction2;  // 1 - beta2^step
};

template <typename W>
__global__ void adamw_kernel(float* __restrict__ params, W* __restrict__ params_work, float* __restrict__ m,
                             float* __restrict__ v, const float* __restrict__ grads,
                             const uint8_t* __restrict__ decay_mask, int64_t n, AdamwScalars s) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float g = grads[i] * s.grad_scale;
    const float mi = s.beta1 * m[i] + (1.0f - s.beta1) * g;
    const float vi = s.beta2 * v[i] + (1.0f - s.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float wd = (decay_mask == nullptr || decay_mask[i] != 0) ? s.weight_decay : 0.0f;
    float p = params[i] * (1.0f - s.lr * wd);
    p -= s.lr * (mi / s.bias_correction1) / (sqrtf(vi / s.bias_correction2) + s.eps);
    params[i] = p;
    if (params_work != nullptr) params_work[i] = store<W>(p);
  }
}

}  // namespace

void adamw_step(lmt_ctx& ctx, float* params, void* params_work, float* m, float* v, const float* grads,
                const uint8_t* decay_mask, int64_t n, float lr, float beta1, float beta2, float eps,
                float weight_decay, int64_t step, float grad_scale, lmt_dtype work_dt) {
  use_device(ctx);
  if (n == 0) return;
  AdamwScalars s{};
  s.lr = lr;
  s.beta1 = beta1;
  s.beta2 = beta2;
  s.eps = eps;
  s.weight_decay = weight_decay;
  s.grad_scale = grad_scale;
  s.bias_correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step)));
  s.bias_correction2 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(step)));
  const unsigned grid = grid_stride_blocks(n, kThreads);
  // work_dt only matters when a work copy is written; F32 is a valid type for the unused pointer.
  const lmt_dtype dt = params_work != nullptr ? work_dt : LMT_F32;
  LMT_DISPATCH_FLOAT(dt, W, {
    adamw_kernel<W><<<grid, kThreads, 0, stream_of(ctx)>>>(params, static_cast<W*>(params_work), m, v, grads,
                                                           decay_mask, n, s);
  });
  check_launch("adamw_kernel");
}

}  // namespace lmt::cuda
