// adamw.cpp — CPU backend: one AdamW step over a contiguous F32 parameter buffer (PyTorch/HF semantics).
//
//   params, m, v, grads (n) F32; decay_mask (n) U8 0/1 (nullable: decay everything);
//   params_work (n) work_dt (nullable) receives the updated parameters in the same pass.
//   g = grads * grad_scale
//   p *= 1 - lr * wd                        (wd = weight_decay where the mask is 1, else 0; decoupled)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   p -= (lr / (1 - beta1^step)) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
// This is torch.optim.AdamW's single-tensor update; elements are independent, so the result does
// not depend on the thread count. The optimizer has no backward.
#include <algorithm>
#include <cmath>

#include "backends.h"
#include "parallel.h"
#include "vec_math.h"

namespace lmt::cpu {
namespace {

constexpr int64_t kGrain = 1 << 14;
constexpr int64_t kTile = 1 << 10;  // params_work is written per tile while the tile is in cache

/** The per-step scalars, computed in double and rounded once, as PyTorch computes them in Python. */
struct StepScalars {
  float grad_scale, m_weight, beta2, v_weight, step_size, bias_correction2_sqrt, eps, decayed;
};

/**
 * The AdamW update of n elements; a plain loop over unaliased arrays, so the compiler vectorises it
 * (for the ISA with_best_isa picks). An element gets the same arithmetic in the vector body and in
 * the scalar remainder (a fused multiply-add rounds once either way), so where the thread chunks
 * split the buffer does not matter.
 */
LMT_VEC_INLINE void update(float* __restrict p, float* __restrict m, float* __restrict v, const float* __restrict grads,
            const uint8_t* __restrict decay_mask, int64_t n, const StepScalars& s) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = grads[i] * s.grad_scale;
    const float mi = m[i] + s.m_weight * (g - m[i]);  // = beta1 m + (1 - beta1) g, as torch's lerp
    const float vi = s.beta2 * v[i] + s.v_weight * g * g;
    const float keep = decay_mask == nullptr || decay_mask[i] != 0 ? s.decayed : 1.0f;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * keep - s.step_size * (mi / (std::sqrt(vi) / s.bias_correction2_sqrt + s.eps));
  }
}

}  // namespace

void adamw_step(lmt_ctx&, float* params, void* params_work, float* m, float* v, const float* grads,
                const uint8_t* decay_mask, int64_t n, float lr, float beta1, float beta2, float eps,
                float weight_decay, int64_t step, float grad_scale, lmt_dtype work_dt) {
  const double steps = static_cast<double>(step);
  const StepScalars scalars{
      grad_scale,
      static_cast<float>(1.0 - static_cast<double>(beta1)),
      beta2,
      static_cast<float>(1.0 - static_cast<double>(beta2)),
      static_cast<float>(lr / (1.0 - std::pow(static_cast<double>(beta1), steps))),
      static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(beta2), steps))),
      eps,
      static_cast<float>(1.0 - static_cast<double>(lr) * weight_decay)};
  LMT_DISPATCH_FLOAT(work_dt, W, {
    W* work = static_cast<W*>(params_work);
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t begin = lo; begin < hi; begin += kTile) {
        const int64_t count = std::min(kTile, hi - begin);
        with_best_isa([&]() LMT_INLINE_LAMBDA {
          update(params + begin, m + begin, v + begin, grads + begin,
                 decay_mask != nullptr ? decay_mask + begin : nullptr, count, scalars);
        });
        if (work != nullptr) {
          for (int64_t i = begin; i < begin + count; ++i) work[i] = store<W>(params[i]);
        }
      }
    });
  });
}

}  // namespace lmt::cpu
