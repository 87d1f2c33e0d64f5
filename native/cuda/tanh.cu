// tanh.cu — CUDA backend: tanh forward and backward (the activation of BERT's pooler).
//
//   forward:  out (n) = tanh(x (n))
//   backward: dx (n) = dout (n) * (1 - y (n)^2), y = the forward's output   (activation gradient:
//             overwritten; dx may alias dout)
// One element per thread in a grid-stride loop; tanhf differs from the CPU's std::tanh by a few ulps.
#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void tanh_forward_kernel(T* __restrict__ out, const T* __restrict__ x, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = store<T>(tanhf(load(x[i])));
  }
}

// dx and dout may alias: each element is read then written by the same thread (no __restrict__).
template <typename T>
__global__ void tanh_backward_kernel(T* dx, const T* y, const T* dout, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float t = load(y[i]);
    dx[i] = store<T>(load(dout[i]) * (1.0f - t * t));
  }
}

}  // namespace

void tanh_forward(lmt_ctx& ctx, void* out, const void* x, int64_t n, lmt_dtype dt) {
  use_device(ctx);
  LMT_DISPATCH_FLOAT(dt, T, {
    tanh_forward_kernel<T><<<grid_stride_blocks(n, kThreads), kThreads, 0, stream_of(ctx)>>>(
        static_cast<T*>(out), static_cast<const T*>(x), n);
  });
  check_launch("tanh_forward_kernel");
}

void tanh_backward(lmt_ctx& ctx, void* dx, const void* y, const void* dout, int64_t n, lmt_dtype dt) {
  use_device(ctx);
  LMT_DISPATCH_FLOAT(dt, T, {
    tanh_backward_kernel<T><<<grid_stride_blocks(n, kThreads), kThreads, 0, stream_of(ctx)>>>(
        static_cast<T*>(dx), static_cast<const T*>(y), static_cast<const T*>(dout), n);
  });
  check_launch("tanh_backward_kernel");
}

}  // namespace lmt::cuda
