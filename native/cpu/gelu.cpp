// gelu.cpp — CPU backend: GELU forward and backward, exact (erf, BERT "gelu") and tanh (GPT-2 "gelu_new").
//
//   forward:  out (n) = gelu(x (n))
//   backward: dx (n) = dout (n) * gelu'(x (n))      (activation gradient: overwritten; may alias dout)
//
// The formulas are gelu_math.h's (shared with the CUDA backend), evaluated eight elements at a time
// on vec_math.h's vectors, AVX2+FMA when the CPU has it. A tail of
// fewer than eight elements goes through the same vector code, zero-padded, so each element gets
// the same arithmetic wherever the thread chunks begin: results do not depend on the thread count.
#include "backends.h"
#include "gelu_math.h"
#include "parallel.h"
#include "vec_math.h"

namespace lmt::cpu {
namespace {

constexpr int64_t kGrain = 1 << 13;

/** gelu_math.h's operations on 8-float vectors. */
struct F8Ops {
  static LMT_VEC_INLINE F8 clamp(F8 x, float lo, float hi) { return clamp8(x, lo, hi); }
  static LMT_VEC_INLINE F8 exp(F8 x) { return exp8(x); }
};

struct ExactValue {
  static LMT_VEC_INLINE F8 at(F8 x) { return gelu_math::exact_value<F8Ops>(x); }
};
struct ExactSlope {
  static LMT_VEC_INLINE F8 at(F8 x) { return gelu_math::exact_slope<F8Ops>(x); }
};
struct TanhValue {
  static LMT_VEC_INLINE F8 at(F8 x) { return gelu_math::tanh_value<F8Ops>(x); }
};
struct TanhSlope {
  static LMT_VEC_INLINE F8 at(F8 x) { return gelu_math::tanh_slope<F8Ops>(x); }
};

/** out[i] = F(x[i]) (scale == nullptr) or scale[i] * F(x[i]) for i in [lo, hi). */
template <typename F, typename T>
LMT_VEC_INLINE void map_range(T* out, const T* x, const T* scale, int64_t lo, int64_t hi) {
  for (int64_t i = lo; i < hi; i += kLanes) {
    const int64_t count = hi - i < kLanes ? hi - i : kLanes;
    F8 v = F::at(load8(x + i, count));
    if (scale != nullptr) v *= load8(scale + i, count);
    store8(out + i, v, count);
  }
}

/** out (n) = F(x) or scale * F(x), in parallel, with the instruction set the CPU has. */
template <typename F, typename T>
void map(T* out, const T* x, const T* scale, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
    with_best_isa([&]() LMT_INLINE_LAMBDA { map_range<F>(out, x, scale, lo, hi); });
  });
}

}  // namespace

void gelu_forward(lmt_ctx&, void* out, const void* x, int64_t n, lmt_gelu_kind kind, lmt_dtype dt) {
  LMT_DISPATCH_FLOAT(dt, T, {
    T* o = static_cast<T*>(out);
    const T* in = static_cast<const T*>(x);
    if (kind == LMT_GELU_EXACT) map<ExactValue>(o, in, static_cast<const T*>(nullptr), n);
    else map<TanhValue>(o, in, static_cast<const T*>(nullptr), n);
  });
}

void gelu_backward(lmt_ctx&, void* dx, const void* x, const void* dout, int64_t n, lmt_gelu_kind kind,
                   lmt_dtype dt) {
  LMT_DISPATCH_FLOAT(dt, T, {
    T* d = static_cast<T*>(dx);
    const T* in = static_cast<const T*>(x);
    const T* g = static_cast<const T*>(dout);
    if (kind == LMT_GELU_EXACT) map<ExactSlope>(d, in, g, n);
    else map<TanhSlope>(d, in, g, n);
  });
}

}  // namespace lmt::cpu
