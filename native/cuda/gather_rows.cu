// gather_rows.cu — CUDA backend: the rows of a matrix picked by an index, and their gradient.
//
//   forward:  out (M, C) dt:  out[i] = x[index[i]]                 x (N, C) dt
//   backward: dx (N, C) dt:   dx[index[i]] = dout[i], 0 elsewhere  dout (M, C) dt   (activation grad: =)
//   index (M) int32, strictly increasing in [0, N).
// Both are copies in a grid-stride loop over the M x C picked elements; the backward first clears dx
// on the stream. The index is distinct, so every element of dx is written by one thread: deterministic.
// The index is not checked on the GPU (that would need it on the host); a bad one reads or writes
// out of bounds — the CPU backend reports it as an error.
#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;

/** Gather: dst[i, c] = src[index[i], c]; scatter (kScatter): dst[index[i], c] = src[i, c]; i < M, c < C. */
template <typename T, bool kScatter>
__global__ void copy_rows_kernel(T* __restrict__ dst, const T* __restrict__ src, const int32_t* __restrict__ index,
                                 int64_t M, int64_t C) {
  const int64_t total = M * C;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = e / C;
    const int64_t c = e - i * C;
    const int64_t picked = static_cast<int64_t>(index[i]) * C + c;
    if (kScatter) {
      dst[picked] = src[e];
    } else {
      dst[e] = src[picked];
    }
  }
}

template <bool kScatter>
void copy_rows(cudaStream_t stream, void* dst, const void* src, const int32_t* index, int64_t M, int64_t C,
               lmt_dtype dt) {
  const unsigned blocks = grid_stride_blocks(M * C, kThreads);
  if (dtype_size(dt) == 4) {
    copy_rows_kernel<uint32_t, kScatter><<<blocks, kThreads, 0, stream>>>(
        static_cast<uint32_t*>(dst), static_cast<const uint32_t*>(src), index, M, C);
  } else {
    copy_rows_kernel<uint16_t, kScatter><<<blocks, kThreads, 0, stream>>>(
        static_cast<uint16_t*>(dst), static_cast<const uint16_t*>(src), index, M, C);
  }
  check_launch("copy_rows_kernel");
}

}  // namespace

void gather_rows(lmt_ctx& ctx, void* out, const void* x, const int32_t* index, int64_t M, int64_t, int64_t C,
                 lmt_dtype dt) {
  use_device(ctx);
  copy_rows<false>(stream_of(ctx), out, x, index, M, C, dt);
}

void gather_rows_backward(lmt_ctx& ctx, void* dx, const void* dout, const int32_t* index, int64_t M, int64_t N,
                          int64_t C, lmt_dtype dt) {
  use_device(ctx);
  cudaStream_t stream = stream_of(ctx);
  check_cuda(cudaMemsetAsync(dx, 0, static_cast<size_t>(N * C) * dtype_size(dt), stream), "cudaMemsetAsync");
  copy_rows<true>(stream, dx, dout, index, M, C, dt);
}

}  // namespace lmt::cuda
