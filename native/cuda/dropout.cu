// dropout.cu — CUDA backend: inverted dropout with the counter-based mask of rng.h.
//
//   forward:  out (n) = keep(seed, offset + i) ? x (n) / (1 - p) : 0      (out may alias x)
//   backward: dx (n) = keep(seed, offset + i) ? dout (n) / (1 - p) : 0   (same mask, regenerated)
// The mask is never stored: both passes recompute it from (seed, offset + i) with the same
// dropout_keep() as the CPU backend, so the CUDA and CPU masks are bit-identical.
#include "common.cuh"
#include "helpers.cuh"
#include "rng.h"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;

// out and in may alias: each element is read then written by the same thread.
template <typename T>
__global__ void dropout_mask_kernel(T* out, const T* in, int64_t n, float p, float keep_scale, uint64_t seed,
                                    uint64_t offset) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const bool keep = dropout_keep(seed, offset + static_cast<uint64_t>(i), p);
    out[i] = store<T>(keep ? load(in[i]) * keep_scale : 0.0f);
  }
}

void apply_mask(lmt_ctx& ctx, void* out, const void* in, int64_t n, float p, uint64_t seed, uint64_t offset,
                lmt_dtype dt) {
  if (n == 0) return;
  const float keep_scale = 1.0f / (1.0f - p);
  LMT_DISPATCH_FLOAT(dt, T, {
    dropout_mask_kernel<T><<<grid_stride_blocks(n, kThreads), kThreads, 0, stream_of(ctx)>>>(
        static_cast<T*>(out), static_cast<const T*>(in), n, p, keep_scale, seed, offset);
  });
  check_launch("dropout_mask_kernel");
}

}  // namespace

void dropout_forward(lmt_ctx& ctx, void* out, const void* x, int64_t n, float p, uint64_t seed, uint64_t offset,
                     lmt_dtype dt) {
  use_device(ctx);
  apply_mask(ctx, out, x, n, p, seed, offset, dt);
}

void dropout_backward(lmt_ctx& ctx, void* dx, const void* dout, int64_t n, float p, uint64_t seed,
                      uint64_t offset, lmt_dtype dt) {
  use_device(ctx);
  apply_mask(ctx, dx, dout, n, p, seed, offset, dt);
}

}  // namespace lmt::cuda
