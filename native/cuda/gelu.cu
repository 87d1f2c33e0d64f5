// gelu.cu — CUDA backend: GELU forward and backward, exact (erf, BERT "gelu") and tanh (GPT-2 "gelu_new").
//
//   forward:  out (n) = gelu(x (n))
//   backward: dx (n) = dout (n) * gelu'(x (n))      (activation gradient: overwritten; may alias dout)
// Same formulas as native/cpu/gelu.cpp, evaluated in fp32 with the CUDA math library.
#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

struct GeluExact {
  __device__ static float value(float x) { return 0.5f * x * (1.0f + erff(x * kInvSqrt2)); }
  __device__ static float grad(float x) {
    const float cdf = 0.5f * (1.0f + erff(x * kInvSqrt2));
    const float pdf = kInvSqrt2Pi * expf(-0.5f * x * x);
    return cdf + x * pdf;
  }
};

struct GeluTanh {
  __device__ static float value(float x) {
    const float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + tanhf(u));
  }
  __device__ static float grad(float x) {
    const float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
    const float t = tanhf(u);
    const float du = kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
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
