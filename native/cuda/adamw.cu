// adamw.cu — CUDA backend: one fused AdamW step over a contiguous parameter buffer.
//
//   params (n) F32 master weights, m (n) F32, v (n) F32, grads (n) F32, decay_mask (n) 0/1 (nullable)
//   params_work (n) work_dt (nullable): receives the updated parameters rounded to work_dt
//   g = grads * grad_scale
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   p *= 1 - lr * wd                       (decoupled decay; wd = 0 where decay_mask is 0)
//   p -= lr * (m / (1 - beta1^step)) / (sqrt(v / (1 - beta2^step)) + eps)
// One read and one write of each buffer; the bias corrections are computed once on the host in double
// precision. When every buffer is aligned for it (params, m, v, grads to 16 bytes, the work copy to
// 4 elements, the mask to 4 bytes) each thread updates 4 consecutive elements with 16-byte accesses
// (the last n % 4 elements one per thread); otherwise one element per thread.
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

/** One element's update: m, v and p in place from the gradient g (unscaled); decay: the mask says decay. */
__device__ __forceinline__ void update(float& p, float& m, float& v, float g, bool decay, const AdamwScalars& s) {
  g *= s.grad_scale;
  m = s.beta1 * m + (1.0f - s.beta1) * g;
  v = s.beta2 * v + (1.0f - s.beta2) * g * g;
  p *= 1.0f - s.lr * (decay ? s.weight_decay : 0.0f);
  p -= s.lr * (m / s.bias_correction1) / (sqrtf(v / s.bias_correction2) + s.eps);
}

/** Elements first, first + stride, ... below n, one per thread. */
template <typename W>
__device__ __forceinline__ void update_elements(float* __restrict__ params, W* __restrict__ params_work,
                                                float* __restrict__ m, float* __restrict__ v,
                                                const float* __restrict__ grads, const uint8_t* __restrict__ decay_mask,
                                                int64_t first, int64_t n, int64_t stride, const AdamwScalars& s) {
  for (int64_t i = first; i < n; i += stride) {
    float p = params[i], mi = m[i], vi = v[i];
    update(p, mi, vi, grads[i], decay_mask == nullptr || decay_mask[i] != 0, s);
    m[i] = mi;
    v[i] = vi;
    params[i] = p;
    if (params_work != nullptr) params_work[i] = store<W>(p);
  }
}

template <typename W>
__global__ void adamw_kernel(float* __restrict__ params, W* __restrict__ params_work, float* __restrict__ m,
                             float* __restrict__ v, const float* __restrict__ grads,
                             const uint8_t* __restrict__ decay_mask, int64_t n, AdamwScalars s) {
  update_elements(params, params_work, m, v, grads, decay_mask, static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x,
                  n, static_cast<int64_t>(gridDim.x) * blockDim.x, s);
}

/** Four work-copy elements stored as one access. */
template <typename W>
struct alignas(4 * sizeof(W)) Work4 {
  W v[4];
};

/** The same update, 4 consecutive elements per thread with 16-byte accesses (buffers aligned for it). */
template <typename W>
__global__ void adamw_vec4_kernel(float* __restrict__ params, W* __restrict__ params_work, float* __restrict__ m,
                                  float* __restrict__ v, const float* __restrict__ grads,
                                  const uint8_t* __restrict__ decay_mask, int64_t n, AdamwScalars s) {
  const int64_t n4 = n / 4;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t i = first; i < n4; i += stride) {
    float4 p = reinterpret_cast<float4*>(params)[i];
    float4 mi = reinterpret_cast<float4*>(m)[i];
    float4 vi = reinterpret_cast<float4*>(v)[i];
    const float4 g = reinterpret_cast<const float4*>(grads)[i];
    uchar4 decay = make_uchar4(1, 1, 1, 1);
    if (decay_mask != nullptr) decay = reinterpret_cast<const uchar4*>(decay_mask)[i];
    update(p.x, mi.x, vi.x, g.x, decay.x != 0, s);
    update(p.y, mi.y, vi.y, g.y, decay.y != 0, s);
    update(p.z, mi.z, vi.z, g.z, decay.z != 0, s);
    update(p.w, mi.w, vi.w, g.w, decay.w != 0, s);
    reinterpret_cast<float4*>(params)[i] = p;
    reinterpret_cast<float4*>(m)[i] = mi;
    reinterpret_cast<float4*>(v)[i] = vi;
    if (params_work != nullptr) {
      reinterpret_cast<Work4<W>*>(params_work)[i] = Work4<W>{{store<W>(p.x), store<W>(p.y), store<W>(p.z), store<W>(p.w)}};
    }
  }
  update_elements(params, params_work, m, v, grads, decay_mask, 4 * n4 + first, n, stride, s);  // the n % 4 tail
}

/** Whether p is a multiple of `bytes` (nullptr is). */
bool aligned(const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

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
  // work_dt only matters when a work copy is written; F32 is a valid type for the unused pointer.
  const lmt_dtype dt = params_work != nullptr ? work_dt : LMT_F32;
  const bool vec4 = aligned(params, 16) && aligned(m, 16) && aligned(v, 16) && aligned(grads, 16) &&
                    aligned(params_work, 4 * dtype_size(dt)) && aligned(decay_mask, 4);
  const unsigned grid = grid_stride_blocks(vec4 ? (n + 3) / 4 : n, kThreads);
  LMT_DISPATCH_FLOAT(dt, W, {
    if (vec4) {
      adamw_vec4_kernel<W><<<grid, kThreads, 0, stream_of(ctx)>>>(params, static_cast<W*>(params_work), m, v, grads,
                                                                  decay_mask, n, s);
    } else {
      adamw_kernel<W><<<grid, kThreads, 0, stream_of(ctx)>>>(params, static_cast<W*>(params_work), m, v, grads,
                                                             decay_mask, n, s);
    }
  });
  check_launch("adamw_kernel");
}

}  // namespace lmt::cuda
