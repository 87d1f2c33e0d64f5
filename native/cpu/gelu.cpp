// gelu.cpp — CPU backend: GELU forward and backward, exact (erf, BERT "gelu") and tanh (GPT-2 "gelu_new").
//
//   forward:  out (n) = gelu(x (n))
//   backward: dx (n) = dout (n) * gelu'(x (n))      (activation gradient: overwritten; may alias dout)
//
// Eight elements at a time with vec_math.h (erf8, exp8), AVX2+FMA when the CPU has it. A tail of
// fewer than eight elements goes through the same vector code, zero-padded, so each element gets
// the same arithmetic wherever the thread chunks begin: results do not depend on the thread count.
#include "backends.h"
#include "parallel.h"
#include "vec_math.h"

namespace lmt::cpu {
namespace {

constexpr int64_t kGrain = 1 << 13;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

/** Phi(x) = 0.5 (1 + erf(x / sqrt 2)), the standard normal CDF. */
LMT_VEC_INLINE F8 normal_cdf(F8 x) { return splat(0.5f) * (splat(1.0f) + erf8(x * splat(kInvSqrt2))); }

/** 0.5 (1 + tanh(u)) = sigmoid(2u): no cancellation where tanh(u) is near -1. */
LMT_VEC_INLINE F8 half_one_plus_tanh(F8 u) { return splat(1.0f) / (splat(1.0f) + exp8(splat(-2.0f) * u)); }

LMT_VEC_INLINE F8 tanh_argument(F8 x) { return splat(kSqrt2OverPi) * (x + splat(0.044715f) * x * x * x); }

/** gelu(x) = x Phi(x). */
struct ExactValue {
  static LMT_VEC_INLINE F8 at(F8 x) { return x * normal_cdf(x); }
};

/** gelu'(x) = Phi(x) + x phi(x). */
struct ExactSlope {
  static LMT_VEC_INLINE F8 at(F8 x) {
    const F8 pdf = splat(kInvSqrt2Pi) * exp8(splat(-0.5f) * x * x);
    return normal_cdf(x) + x * pdf;
  }
};

/** gelu(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3). */
struct TanhValue {
  static LMT_VEC_INLINE F8 at(F8 x) { return x * half_one_plus_tanh(tanh_argument(x)); }
};

/** gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) du/dx, t = tanh(u) = 2s - 1, s = sigmoid(2u): 1 - t^2 = 4 s (1 - s). */
struct TanhSlope {
  static LMT_VEC_INLINE F8 at(F8 x) {
    const F8 s = half_one_plus_tanh(tanh_argument(x));
    const F8 du = splat(kSqrt2OverPi) * (splat(1.0f) + splat(3.0f * 0.044715f) * x * x);
    return s + splat(2.0f) * x * s * (splat(1.0f) - s) * du;
  }
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

template <typename F, typename T>
LMT_TARGET_AVX2 void map_range_avx2(T* out, const T* x, const T* scale, int64_t lo, int64_t hi) {
  map_range<F>(out, x, scale, lo, hi);
}

template <typename F, typename T>
void map_range_baseline(T* out, const T* x, const T* scale, int64_t lo, int64_t hi) {
  map_range<F>(out, x, scale, lo, hi);
}

/** out (n) = F(x) or scale * F(x), in parallel, with the instruction set the CPU has. */
template <typename F, typename T>
void map(T* out, const T* x, const T* scale, int64_t n) {
  static const auto range = has_avx2_fma() ? map_range_avx2<F, T> : map_range_baseline<F, T>;
  parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) { range(out, x, scale, lo, hi); });
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
