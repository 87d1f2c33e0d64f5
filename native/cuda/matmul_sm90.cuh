// matmul_sm90.cuh — the Hopper (sm_90a) path of lmt::cuda::matmul: wgmma fed by TMA. matmul.cu
// tries it first for bf16/f16 operands and falls back to its mma.sync kernel when it returns false.
// The rules for when it applies are in matmul_sm90.cu's header comment.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "common.cuh"

namespace lmt::cuda {

/**
 * C (M, N) c_dt = alpha op(A) op(B) + beta C (+ bias (N) c_dt) on `device` (already current),
 * queued on `stream`, with the same argument meaning as lmt::cuda::matmul (ab_dt bf16 or f16, c_dt
 * ab_dt or F32). Returns false, having queued nothing, when the Hopper path does not apply; throws
 * lmt::Error on a CUDA failure once it has decided to run.
 */
bool matmul_sm90(int device, cudaStream_t stream, void* C, const void* A, const void* B, const void* bias,
                 int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, float beta,
                 lmt_dtype ab_dt, lmt_dtype c_dt);

}  // namespace lmt::cuda
