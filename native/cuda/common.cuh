// common.cuh — shared pieces of the CUDA backend: error checks that throw lmt::Error (never
// exit), the context's stream, launch helpers and dtype dispatch for device code.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backends.h"
#include "dtype.h"

namespace lmt::cuda {

/** Throws lmt::Error naming `what` when a CUDA runtime call failed. */
inline void check_cuda(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  lmt_status status = err == cudaErrorMemoryAllocation ? LMT_ERR_OUT_OF_MEMORY : LMT_ERR_DEVICE;
  cudaGetLastError();  // clear the sticky-free error state where possible
  throw Error(status, concat(what, ": ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ")"));
}

/** Checks the launch that was just queued (configuration errors surface here). */
inline void check_launch(const char* kernel) { check_cuda(cudaGetLastError(), kernel); }

inline cudaStream_t stream_of(const lmt_ctx& ctx) { return static_cast<cudaStream_t>(ctx.stream); }

inline unsigned blocks_for(int64_t n, int threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

}  // namespace lmt::cuda
