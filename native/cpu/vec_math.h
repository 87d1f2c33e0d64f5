// vec_math.h — 8-wide float math for the CPU kernels (GCC vector extensions), with run-time ISA choice.
//
// F8 holds 8 floats. The functions here are plain arithmetic on F8, force-inlined, so one source
// serves two instruction sets: with_best_isa(body) runs a kernel's loop compiled once for AVX2 + FMA
// (chosen at run time by has_avx2_fma()) and once for the baseline x86-64/other ISA (where GCC
// lowers F8 to narrower vectors). Results are identical on every call on one machine; they may
// differ in the last bits between the two ISAs (FMA contraction).
//
// Accuracy (float inputs, measured against double references):
//   exp8: Cody-Waite reduction x = n ln2 + r (two-part ln2), degree-5 polynomial for e^r on
//         |r| <= ln2/2 (the Cephes expf coefficients), 2^n through the exponent bits; inputs
//         clamped to [-87.3, 88.3] (no denormal results, no inf). At most 1.01 ulp from the exact
//         value (measured over 2e7 points of that range, AVX2+FMA path).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "dtype.h"

#if defined(__x86_64__) || defined(__i386__)
#define LMT_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define LMT_TARGET_AVX2
#endif
#define LMT_VEC_INLINE inline __attribute__((always_inline))
#define LMT_INLINE_LAMBDA __attribute__((always_inline))

namespace lmt::cpu {

typedef float F8 __attribute__((vector_size(32)));
typedef int32_t I8 __attribute__((vector_size(32)));
constexpr int64_t kLanes = 8;

/** True when the CPU runs AVX2 and FMA code (checked once). */
inline bool has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

template <typename Body>
LMT_TARGET_AVX2 void run_avx2(const Body& body) {
  body();
}

template <typename Body>
void run_baseline(const Body& body) {
  body();
}

/**
 * Runs body() compiled for AVX2 + FMA when the CPU has them, else for the baseline ISA. `body` is a
 * lambda marked LMT_INLINE_LAMBDA that calls only force-inlined code (LMT_VEC_INLINE), so its
 * loops are generated, and vectorised, inside run_avx2 and run_baseline.
 */
template <typename Body>
LMT_VEC_INLINE void with_best_isa(const Body& body) {
  if (has_avx2_fma()) run_avx2(body);
  else run_baseline(body);
}

LMT_VEC_INLINE F8 splat(float v) { return F8{v, v, v, v, v, v, v, v}; }

LMT_VEC_INLINE F8 clamp8(F8 x, float lo, float hi) {
  x = x < splat(lo) ? splat(lo) : x;
  return x > splat(hi) ? splat(hi) : x;
}

/** e^x per lane (see the header for the method and accuracy). */
LMT_VEC_INLINE F8 exp8(F8 x) {
  x = clamp8(x, -87.3f, 88.3f);
  const F8 round_magic = splat(12582912.0f);  // 1.5 * 2^23: adding and subtracting rounds to an integer
  const F8 n = (x * splat(1.44269504088896341f) + round_magic) - round_magic;
  F8 r = x - n * splat(0.693359375f);
  r = r - n * splat(-2.12194440e-4f);
  F8 p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  const F8 y = p * (r * r) + r + splat(1.0f);
  const I8 two_n = (__builtin_convertvector(n, I8) + 127) << 23;  // the float 2^n, as bits
  return y * __builtin_bit_cast(F8, two_n);
}

/** Lanes [0, count) from src converted to float; the other lanes are 0. */
template <typename T>
LMT_VEC_INLINE F8 load8(const T* src, int64_t count) {
  F8 v = {};
  if (std::is_same_v<T, float> && count == kLanes) {
    std::memcpy(&v, src, sizeof v);
  } else {
    for (int64_t l = 0; l < count; ++l) v[l] = load(src[l]);
  }
  return v;
}

/** Stores lanes [0, count) of v into dst as T. */
template <typename T>
LMT_VEC_INLINE void store8(T* dst, F8 v, int64_t count) {
  if (std::is_same_v<T, float> && count == kLanes) {
    std::memcpy(dst, &v, sizeof v);
  } else {
    for (int64_t l = 0; l < count; ++l) dst[l] = store<T>(v[l]);
  }
}

}  // namespace lmt::cpu
