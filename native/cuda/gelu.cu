// gelu.cu — CUDA backend: GELU forward and backward, exact (erf, BERT "gelu") and tanh (GPT-2 "gelu_new").
//
//   forward:  out (n) = gelu(x (n))
//   backward: dx (n) = dout (n) * gelu'(x (n))      (activation gradient: overwritten; may alias dout)
// Same formulas as native/cpu/gelu.cpp, evaluated in fp32: the same erf fit as vec_math.h's erf8
// (libm's erff differs from it by up to 3e-7 near |x| = 4, which the 1 + erf cancellation of the
// negative tail turns into relative errors far above the F32 tolerance), and the tanh form written
// as a sigmoid (0.5 (1 + tanh u) = 1 / (1 + exp(-2u))) so no cancellation where tanh(u) is near -1.
#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

/** erf(x): x P(x^2) / Q(x^2) on [-4, 4], +-1 beyond; the coefficients and order of vec_math.h's erf8. */
__device__ __forceinline__ float erf_fit(float x) {
  x = fminf(fmaxf(x, -4.0f), 4.0f);
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return x * p / q;
}

struct GeluExact {
  __device__ static float value(float x) { return 0.5f * x * (1.0f + erf_fit(x * kInvSqrt2)); }
  __device__ static float grad(float x) {
    const float cdf = 0.5f * (1.0f + erf_fit(x * kInvSqrt2));
    const float pdf = kInvSqrt2Pi * expf(-0.5f * x * x);
    return cdf + x * pdf;
  }
};

/** s = 0.5 (1 + tanh(u)) = sigmoid(2u) with u = sqrt(2/pi) (x + 0.044715 x^3). */
__device__ __forceinline__ float half_one_plus_tanh(float x) {
  const float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
  return 1.0f / (1.0f + expf(-2.0f * u));
}

struct GeluTanh {
  __device__ static float value(float x) { return x * half_one_plus_tanh(x); }
  // 0.5 (1 + t) + 0.5 x (1 - t^2) du/dx with t = 2s - 1, so 1 - t^2 = 4 s (1 - s)
  __device__ static float grad(float x) {
    const float s = half_one_plus_tanh(x);
    const float du = kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
    return s + 2.0f * x * s * (1.0f - s) * du;
  }
};

template <typename Kind, typename T>
__global__ void gelu_forward_kernel(T* __restrict__ out, const T* __restrict__ x, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = store<T>(Kind::value(load(x[i])));
  }
}

// dx and dout may alias: each element is read then written by the same thread (no __restrict__).
template <typename Kind, typename T>
__global__ void gelu_backward_kernel(T* dx, const T* x, const T* dout, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dx[i] = store<T>(load(dout[i]) * Kind::grad(load(x[i])));
  }
}

}  // namespace

void gelu_forward(lmt_ctx& ctx, void* out, const void* x, int64_t n, lmt_gelu_kind kind, lmt_dtype dt) {
  use_device(ctx);
  if (n == 0) return;
  const unsigned grid = grid_stride_blocks(n, kThreads);
  LMT_DISPATCH_FLOAT(dt, T, {
    T* o = static_cast<T*>(out);
    const T* in = static_cast<const T*>(x);
    if (kind == LMT_GELU_EXACT) {
      gelu_forward_kernel<GeluExact, T><<<grid, kThreads, 0, stream_of(ctx)>>>(o, in, n);
    } else {
      gelu_forward_kernel<GeluTanh, T><<<grid, kThreads, 0, stream_of(ctx)>>>(o, in, n);
    }
  });
  check_launch("gelu_forward_kernel");
}

void gelu_backward(lmt_ctx& ctx, void* dx, const void* x, const void* dout, int64_t n, lmt_gelu_kind kind,
                   lmt_dtype dt) {
  use_device(ctx);
  if (n == 0) return;
  const unsigned grid = grid_stride_blocks(n, kThreads);
  LMT_DISPATCH_FLOAT(dt, T, {
    T* d = static_cast<T*>(dx);
    const T* in = static_cast<const T*>(x);
    const T* g = static_cast<const T*>(dout);
    if (kind == LMT_GELU_EXACT) {
      gelu_backward_kernel<GeluExact, T><<<grid, kThreads, 0, stream_of(ctx)>>>(d, in, g, n);
    } else {
      gelu_backward_kernel<GeluTanh, T><<<grid, kThreads, 0, stream_of(ctx)>>>(d, in, g, n);
    }
  });
  check_launch("gelu_backward_kernel");
}

}  // namespace lmt::cuda
