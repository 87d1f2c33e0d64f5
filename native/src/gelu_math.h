// gelu_math.h — the GELU formulas, written once for both backends.
//
// Templates over a value type V and a policy Ops that supplies `V Ops::clamp(V, float lo, float hi)`
// and `V Ops::exp(V)`: native/cpu/gelu.cpp instantiates them with V = 8-float vectors
// (vec_math.h: clamp8, exp8), native/cuda/gelu.cu with V = float (fminf/fmaxf, expf). Both backends
// therefore evaluate the same arithmetic in fp32 and agree to float rounding, in the negative tails too.
//
//   exact (BERT "gelu"):     gelu(x) = x Phi(x),  Phi(x) = 0.5 (1 + erf(x / sqrt 2))
//                            gelu'(x) = Phi(x) + x phi(x),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
//   tanh (GPT-2 "gelu_new"): gelu(x) = x s,  s = 0.5 (1 + tanh u) = sigmoid(2u),
//                            u = sqrt(2/pi) (x + 0.044715 x^3)
//                            gelu'(x) = s + 2 x s (1 - s) du/dx   (1 - tanh^2 u = 4 s (1 - s))
// The sigmoid form avoids the cancellation of 1 + tanh(u) where tanh(u) is near -1.
// erf: x P(x^2) / Q(x^2) on [-4, 4], +-1 beyond (a published float minimax fit, also used by Eigen
// and XLA); absolute error < 5e-7.
#pragma once

#if defined(__CUDACC__)
#define LMT_MATH_INLINE __host__ __device__ __forceinline__
#else
#define LMT_MATH_INLINE inline __attribute__((always_inline))
#endif

namespace lmt::gelu_math {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

template <typename Ops, typename V>
LMT_MATH_INLINE V erf_fit(V x) {
  x = Ops::clamp(x, -4.0f, 4.0f);
  const V x2 = x * x;
  V p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  V q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return x * p / q;
}

/** Phi(x), the standard normal CDF. */
template <typename Ops, typename V>
LMT_MATH_INLINE V normal_cdf(V x) {
  return (erf_fit<Ops>(x * kInvSqrt2) + 1.0f) * 0.5f;
}

/** 0.5 (1 + tanh(u)) as sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3). */
template <typename Ops, typename V>
LMT_MATH_INLINE V tanh_gate(V x) {
  const V u = (x + x * x * x * 0.044715f) * kSqrt2OverPi;
  return 1.0f / (Ops::exp(u * -2.0f) + 1.0f);
}

template <typename Ops, typename V>
LMT_MATH_INLINE V exact_value(V x) {
  return x * normal_cdf<Ops>(x);
}

template <typename Ops, typename V>
LMT_MATH_INLINE V exact_slope(V x) {
  const V pdf = Ops::exp(x * x * -0.5f) * kInvSqrt2Pi;
  return normal_cdf<Ops>(x) + x * pdf;
}

template <typename Ops, typename V>
LMT_MATH_INLINE V tanh_value(V x) {
  return x * tanh_gate<Ops>(x);
}

template <typename Ops, typename V>
LMT_MATH_INLINE V tanh_slope(V x) {
  const V s = tanh_gate<Ops>(x);
  const V du = (x * x * (3.0f * 0.044715f) + 1.0f) * kSqrt2OverPi;
  return s + x * s * (1.0f - s) * du * 2.0f;
}

}  // namespace lmt::gelu_math
