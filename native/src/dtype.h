// dtype.h — storage types of the native core and their fp32 conversions (host and device).
//
// bf16 and f16 are stored as raw 16-bit patterns; conversion from fp32 rounds to nearest even,
// NaN stays NaN, overflow in f16 becomes infinity. Kernels compute in fp32 and use
// load<T>() / store<T>() at the memory boundary, so one template serves all three float types.
#pragma once

#include <cstdint>
#include <cstring>

#include "lmtrain.h"

#if defined(__CUDACC__)
#define LMT_HD __host__ __device__ __forceinline__
#else
#define LMT_HD inline
#endif

namespace lmt {

struct bf16 { uint16_t bits; };
struct f16 { uint16_t bits; };

LMT_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u; std::memcpy(&u, &f, 4); return u;
#endif
}

LMT_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f; std::memcpy(&f, &u, 4); return f;
#endif
}

LMT_HD float bf16_to_float(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

LMT_HD uint16_t float_to_bf16(float f) {
  uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                                       // round to nearest even
  return static_cast<uint16_t>(u >> 16);
}

LMT_HD float f16_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0) {
    if (man == 0) return bits_float(sign);
    // subnormal: value = man * 2^-24
    float v = static_cast<float>(man) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (man << 13));
  return bits_float(sign | ((exp + 112u) << 23) | (man << 13));
}

LMT_HD uint16_t float_to_f16(float f) {
  uint32_t u = float_bits(f);
  uint32_t sign = (u >> 16) & 0x8000u;
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);   // NaN
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (a < 0x38800000u) {  // below 2^-14: subnormal (or zero); the float add rounds to nearest even
    float t = bits_float(a) * 16777216.0f + 8388608.0f;
    return static_cast<uint16_t>(sign | (float_bits(t) - 0x4b000000u));
  }
  uint32_t rounded = a + 0xfffu + ((a >> 13) & 1u);                     // round mantissa to 10 bits
  return static_cast<uint16_t>(sign | (((rounded >> 13) - (112u << 10)) & 0x7fffu));
}

template <typename T> LMT_HD float load(T x);
template <> LMT_HD float load<float>(float x) { return x; }
template <> LMT_HD float load<bf16>(bf16 x) { return bf16_to_float(x.bits); }
template <> LMT_HD float load<f16>(f16 x) { return f16_to_float(x.bits); }

template <typename T> LMT_HD T store(float x);
template <> LMT_HD float store<float>(float x) { return x; }
template <> LMT_HD bf16 store<bf16>(float x) { return bf16{float_to_bf16(x)}; }
template <> LMT_HD f16 store<f16>(float x) { return f16{float_to_f16(x)}; }

/** Bytes per element of a dtype (0 for an unknown code). */
inline size_t dtype_size(lmt_dtype dt) {
  switch (dt) {
    case LMT_F32: case LMT_I32: return 4;
    case LMT_BF16: case LMT_F16: return 2;
    case LMT_I64: case LMT_F64: return 8;
    case LMT_U8: return 1;
  }
  return 0;
}

inline const char* dtype_name(lmt_dtype dt) {
  switch (dt) {
    case LMT_F32: return "F32";
    case LMT_BF16: return "BF16";
    case LMT_F16: return "F16";
    case LMT_I32: return "I32";
    case LMT_I64: return "I64";
    case LMT_U8: return "U8";
    case LMT_F64: return "F64";
  }
  return "unknown";
}

inline bool is_float_dtype(lmt_dtype dt) { return dt == LMT_F32 || dt == LMT_BF16 || dt == LMT_F16; }

}  // namespace lmt

// Calls BODY with T bound to the C++ storage type of the float dtype DT.
#define LMT_DISPATCH_FLOAT(DT, T, ...)                          \
  switch (DT) {                                                 \
    case LMT_F32: { using T = float; __VA_ARGS__; break; }      \
    case LMT_BF16: { using T = ::lmt::bf16; __VA_ARGS__; break; } \
    case LMT_F16: { using T = ::lmt::f16; __VA_ARGS__; break; } \
    default: throw ::lmt::Error(LMT_ERR_UNSUPPORTED, "unsupported dtype"); \
  }
