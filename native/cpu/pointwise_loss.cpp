// pointwise_loss.cpp — CPU backend: losses of each logit against a float target, with their gradient.
//
//   logits x (n) dt, targets y (n) F32
//   BCE with logits:  loss_i = max(x_i, 0) - x_i y_i + log(1 + exp(-|x_i|)),  dloss_i/dx_i = sigmoid(x_i) - y_i
//   MSE:              loss_i = (x_i - y_i)^2,                                 dloss_i/dx_i = 2 (x_i - y_i)
//   loss_sum (1) F32  = sum_i loss_i: fp64 partials over fixed blocks of kBlock elements, added in order
//   dlogits (n) dt    = grad_scale * dloss_i/dx_i (may alias logits: each element is read before it is written)
// As with the cross-entropy, the gradient comes out of the same call: there is no separate backward.
// The block boundaries depend on n only, so the sum does not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends.h"
#include "parallel.h"

namespace lmt::cpu {
namespace {

constexpr int64_t kBlock = 1 << 12;

/** The loss of one element and its derivative with respect to the logit. */
struct LossAndSlope {
  float loss;
  float slope;
};

LossAndSlope evaluate(float x, float y, lmt_pointwise_loss_kind kind) {
  if (kind == LMT_LOSS_MSE) {
    const float diff = x - y;
    return {diff * diff, 2.0f * diff};
  }
  const float loss = std::max(x, 0.0f) - x * y + std::log1p(std::exp(-std::fabs(x)));
  const float sigmoid = 1.0f / (1.0f + std::exp(-x));
  return {loss, sigmoid - y};
}

}  // namespace

void pointwise_loss(lmt_ctx&, float* loss_sum, void* dlogits, const void* logits, const float* targets, int64_t n,
                    lmt_pointwise_loss_kind kind, float grad_scale, lmt_dtype dt) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks));
  LMT_DISPATCH_FLOAT(dt, T, {
    const T* x = static_cast<const T*>(logits);
    T* d = static_cast<T*>(dlogits);
    parallel_for(blocks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t blk = lo; blk < hi; ++blk) {
        double acc = 0.0;
        const int64_t end = std::min(n, (blk + 1) * kBlock);
        for (int64_t i = blk * kBlock; i < end; ++i) {
          const LossAndSlope r = evaluate(load(x[i]), targets[i], kind);
          acc += r.loss;
          if (d != nullptr) d[i] = store<T>(grad_scale * r.slope);
        }
        partial[static_cast<size_t>(blk)] = acc;
      }
    });
  });
  if (loss_sum != nullptr) {
    double total = 0.0;
    for (double v : partial) total += v;
    *loss_sum = static_cast<float>(total);
  }
}

}  // namespace lmt::cpu
