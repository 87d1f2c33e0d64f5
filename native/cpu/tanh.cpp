// tanh.cpp — CPU backend: tanh forward and backward (the activation of BERT's pooler).
//
//   forward:  out (n) = tanh(x (n))
//   backward: dx (n) = dout (n) * (1 - y (n)^2), y = the forward's output   (activation gradient:
//             overwritten; dx may alias dout)
// The backward reads the output, not the input, as PyTorch's tanh_backward does: one value saved,
// and no second tanh. Each element is computed on its own, so results do not depend on the thread count.
#include <cmath>

#include "backends.h"
#include "parallel.h"

namespace lmt::cpu {
namespace {
constexpr int64_t kGrain = 1 << 13;
}  // namespace

void tanh_forward(lmt_ctx&, void* out, const void* x, int64_t n, lmt_dtype dt) {
  LMT_DISPATCH_FLOAT(dt, T, {
    T* o = static_cast<T*>(out);
    const T* in = static_cast<const T*>(x);
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = store<T>(std::tanh(load(in[i])));
    });
  });
}

void tanh_backward(lmt_ctx&, void* dx, const void* y, const void* dout, int64_t n, lmt_dtype dt) {
  LMT_DISPATCH_FLOAT(dt, T, {
    T* d = static_cast<T*>(dx);
    const T* out = static_cast<const T*>(y);
    const T* g = static_cast<const T*>(dout);
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const float t = load(out[i]);
        d[i] = store<T>(load(g[i]) * (1.0f - t * t));
      }
    });
  });
}

}  // namespace lmt::cpu
