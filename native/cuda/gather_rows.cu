// gather_rows.cu — CUDA backend: picking rows of a matrix, and the gradient of that pick.
//
//   forward:  out (M, C) = x (N, C)[rows (M)]
//   backward: dx (N, C) = 0, then dx[rows[m]] = dout[m]   (activation gradient: overwritten)
// The rows are distinct (the ABI's precondition; api.cpp checks it for host memory only), so the
// backward's scatter writes each element of dx at most once: plain copies, no atomics, exact.
// One block per picked row, its threads striding over the C columns.
#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;

/** dst row dst_rows[m] (or m) = src row src_rows[m] (or m), for m = blockIdx.x. */
template <typename T>
__global__ void copy_rows_kernel(T* __restrict__ dst, const T* __restrict__ src, const int32_t* __restrict__ rows,
                                 bool scatter, int64_t C) {
  const int64_t m = blockIdx.x;
  const int64_t from = scatter ? m : rows[m];
  const int64_t to = scatter ? rows[m] : m;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) dst[to * C + c] = src[from * C + c];
}

}  // namespace

void gather_rows_forward(lmt_ctx& ctx, void* out, const void* x, const int32_t* rows, int64_t M, int64_t,
                         int64_t C, lmt_dtype dt) {
  use_device(ctx);
  LMT_DISPATCH_FLOAT(dt, T, {
    copy_rows_kernel<T><<<static_cast<unsigned>(M), kThreads, 0, stream_of(ctx)>>>(
        static_cast<T*>(out), static_cast<const T*>(x), rows, false, C);
  });
  check_launch("copy_rows_kernel (gather)");
}

void gather_rows_backward(lmt_ctx& ctx, void* dx, const void* dout, const int32_t* rows, int64_t M, int64_t N,
                          int64_t C, lmt_dtype dt) {
  use_device(ctx);
  cudaStream_t stream = stream_of(ctx);
  check_cuda(cudaMemsetAsync(dx, 0, static_cast<size_t>(N * C) * dtype_size(dt), stream), "cudaMemsetAsync");
  LMT_DISPATCH_FLOAT(dt, T, {
    copy_rows_kernel<T><<<static_cast<unsigned>(M), kThreads, 0, stream>>>(
        static_cast<T*>(dx), static_cast<const T*>(dout), rows, true, C);
  });
  check_launch("copy_rows_kernel (scatter)");
}

}  // namespace lmt::cuda
