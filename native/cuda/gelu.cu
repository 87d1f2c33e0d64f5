// gelu.cu — CUDA backend: GELU forward and backward, exact (erf, BERT "gelu") and tanh (GPT-2 "gelu_new").
//
//   forward:  out (n) = gelu(x (n))
//   backward: dx (n) = dout (n) * gelu'(x (n))      (activation gradient: overwritten; may alias dout)
// The formulas are gelu_math.h's, shared with native/cpu/gelu.cpp, on one float per thread: the
// same erf fit (libm's erff differs from it by up to 3e-7 near |x| = 4, which the 1 + erf
// cancellation of the negative tail would turn into relative differences far above the F32
// tolerance) and the same sigmoid form of the tanh GELU.
#include "common.cuh"
#include "gelu_math.h"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;

/** gelu_math.h's operations on one float. */
struct FloatOps {
  static __device__ __forceinline__ float clamp(float x, float lo, float hi) { return fminf(fmaxf(x, lo), hi); }
  static __device__ __forceinline__ float exp(float x) { return expf(x); }
};

struct GeluExact {
  __device__ static float value(float x) { return gelu_math::exact_value<FloatOps>(x); }
  __device__ static float grad(float x) { return gelu_math::exact_slope<FloatOps>(x); }
};

struct GeluTanh {
  __device__ static float value(float x) { return gelu_math::tanh_value<FloatOps>(x); }
  __device__ static float grad(float x) { return gelu_math::tanh_slope<FloatOps>(x); }
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
