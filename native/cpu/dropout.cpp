// dropout.cpp — CPU backend: inverted dropout with the counter-based mask of rng.h.
//
//   forward:  out (n) = keep(seed, offset + i) ? x (n) / (1 - p) : 0      (out may alias x)
//   backward: dx (n) = keep(seed, offset + i) ? dout (n) / (1 - p) : 0   (same mask, regenerated)
// The mask is never stored: both passes recompute it from (seed, offset + i), so it is identical
// for any thread count.
#include "backends.h"
#include "parallel.h"
#include "rng.h"

namespace lmt::cpu {
namespace {

void apply_mask(void* out, const void* in, int64_t n, float p, uint64_t seed, uint64_t offset, lmt_dtype dt) {
  const float keep_scale = 1.0f / (1.0f - p);
  LMT_DISPATCH_FLOAT(dt, T, {
    T* o = static_cast<T*>(out);
    const T* x = static_cast<const T*>(in);
    parallel_for(n, 1 << 13, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        bool keep = dropout_keep(seed, offset + static_cast<uint64_t>(i), p);
        o[i] = store<T>(keep ? load(x[i]) * keep_scale : 0.0f);
      }
    });
  });
}

}  // namespace

void dropout_forward(lmt_ctx&, void* out, const void* x, int64_t n, float p, uint64_t seed, uint64_t offset,
                     lmt_dtype dt) {
  apply_mask(out, x, n, p, seed, offset, dt);
}

void dropout_backward(lmt_ctx&, void* dx, const void* dout, int64_t n, float p, uint64_t seed, uint64_t offset,
                      lmt_dtype dt) {
  apply_mask(dx, dout, n, p, seed, offset, dt);
}

}  // namespace lmt::cpu
