// matmul.cu — CUDA backend: GEMM with bias, and the bias gradient of a Linear layer.
//
//   matmul:    C (M, N) c_dt = alpha * op(A) (M, K) . op(B) (K, N) + beta * C (+ bias (N) c_dt)
//              A is (M, K) or (K, M) when trans_a; B is (K, N) or (N, K) when trans_b; A, B ab_dt.
//              beta == 0 never reads C.
//   bias_grad: dbias (N) F32 += sum over the M rows of dY (M, N) dt      (parameter grad: +=)
// The backward of y = x W^T + b is two more matmuls (dx = dy W, dW += dy^T x with beta = 1) and
// bias_grad, so there is no separate backward kernel here.
//
// bf16/f16 inputs: on Hopper (compute capability 9.0) matmul_sm90.cu's wgmma + TMA kernel when its
// conditions hold (see there; LMTRAIN_CUDA_MATMUL=mma forces the kernel below), otherwise
// tensor cores through mma.sync.m16n8k16 (fp32 accumulation). Block tile
// 128 x 128 x 32, 8 warps as 2 (M) x 4 (N), warp tile 64 x 32 (4 x 4 mma tiles). Operand tiles go
// global -> shared through a 3-stage cp.async pipeline and shared -> registers through ldmatrix.
// A transposed operand needs no separate pass: a tile whose k index is the contiguous one is kept
// "k-inner" (outer x k) and read with ldmatrix, one whose outer index is contiguous is kept
// "k-outer" (k x outer) and read with ldmatrix.trans. Shared rows are padded by 8 elements so the
// eight 16-byte rows of every ldmatrix hit distinct banks. Edge tiles are zero-filled
// (cp.async with a source size of 0); an operand whose leading dimension is not a multiple of 8
// elements (or whose pointer is not 16-byte aligned) is loaded element by element instead, with
// the same zero fill, so any M, N, K works.
// fp32 inputs: a SIMT kernel (64 x 64 x 16 tiles, 4 x 4 outputs per thread, fp32 FMA in k order):
// TF32 tensor cores would not match the CPU to 1e-5.
// bias_grad: fp32 partial column sums over fixed chunks of rows, then the chunk partials added in
// chunk order (deterministic, no atomics).
#include "common.cuh"
#include "helpers.cuh"
#include "matmul_sm90.cuh"
#include "mma.cuh"

namespace lmt::cuda {
namespace {

// ------------------------------------------------------------------ tensor-core kernel (bf16/f16)

constexpr int kBM = 128;          // block tile rows (M)
constexpr int kBN = 128;          // block tile columns (N)
constexpr int kBK = 32;           // block tile depth (K)
constexpr int kStages = 3;        // cp.async pipeline depth
constexpr int kMmaThreads = 256;  // 8 warps: 2 along M x 4 along N
constexpr int kWarpM = 64;        // warp tile rows
constexpr int kWarpN = 32;        // warp tile columns
constexpr int kMmaM = kWarpM / 16;  // m16 tiles per warp
constexpr int kMmaN = kWarpN / 8;   // n8 tiles per warp
constexpr int kPad = 8;             // 16-bit elements of row padding (16 bytes)
constexpr int kInnerStride = kBK + kPad;   // k-inner tile (128 x 32): row stride 40 elements = 80 bytes
constexpr int kOuterStride = kBM + kPad;   // k-outer tile (32 x 128): row stride 136 elements = 272 bytes
constexpr int kTileElems = kBM * kInnerStride > kBK * kOuterStride ? kBM * kInnerStride : kBK * kOuterStride;
constexpr int kStageElems = 2 * kTileElems;  // A tile then B tile
constexpr size_t kMmaSmemBytes = static_cast<size_t>(kStages) * kStageElems * sizeof(uint16_t);
static_assert(kBM == kBN, "the tile loaders assume square block tiles");

/**
 * One operand as stored in global memory: `rows` x `cols` 16-bit elements with leading dimension
 * `ld`. For a k-inner operand rows are the outer index (m or n) and cols are k; for a k-outer one
 * rows are k and cols the outer index. `vector_ok`: ld % 8 == 0 and 16-byte aligned base, so every
 * 8-element chunk of a tile is either fully inside or fully outside the matrix.
 */
struct Operand {
  const uint16_t* ptr;
  int64_t rows, cols, ld;
  bool vector_ok;
};

/**
 * Loads one tile into shared memory: k-inner tiles are kBM x kBK (row stride kInnerStride), k-outer
 * tiles kBK x kBM (row stride kOuterStride). (row0, col0) is the tile origin in the stored matrix.
 * Out-of-range elements become 0.
 */
template <bool kKInner>
__device__ __forceinline__ void load_tile(uint16_t* tile, const Operand& op, int64_t row0, int64_t col0) {
  constexpr int kTileRows = kKInner ? kBM : kBK;
  constexpr int kChunksPerRow = (kKInner ? kBK : kBM) / 8;
  constexpr int kStride = kKInner ? kInnerStride : kOuterStride;
  constexpr int kChunks = kTileRows * kChunksPerRow;
  static_assert(kChunks % kMmaThreads == 0, "chunks must divide evenly over the threads");
#pragma unroll
  for (int i = 0; i < kChunks / kMmaThreads; ++i) {
    const int chunk = threadIdx.x + i * kMmaThreads;
    const int r = chunk / kChunksPerRow;
    const int c = (chunk % kChunksPerRow) * 8;
    const int64_t grow = row0 + r;
    const int64_t gcol = col0 + c;
    uint16_t* dst = tile + r * kStride + c;
    if (op.vector_ok) {
      const bool inside = grow < op.rows && gcol < op.cols;
      const uint16_t* src = inside ? op.ptr + grow * op.ld + gcol : op.ptr;
      cp_async_16(dst, src, inside ? 16 : 0);
    } else {
      uint16_t v[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        v[e] = (grow < op.rows && gcol + e < op.cols) ? op.ptr[grow * op.ld + gcol + e] : uint16_t{0};
      }
      uint4 packed;
      packed.x = v[0] | (static_cast<uint32_t>(v[1]) << 16);
      packed.y = v[2] | (static_cast<uint32_t>(v[3]) << 16);
      packed.z = v[4] | (static_cast<uint32_t>(v[5]) << 16);
      packed.w = v[6] | (static_cast<uint32_t>(v[7]) << 16);
      *reinterpret_cast<uint4*>(dst) = packed;
    }
  }
}

/**
 * A fragment (16 x 16, rows m0.., k k0..) of op(A). k-inner tile sA[m][k]: ldmatrix, lane l points
 * at row m0 + l % 16, k0 + (l / 16) * 8. k-outer tile sA[k][m]: ldmatrix.trans, lane l (matrix
 * q = l / 8, row i = l % 8) points at k0 + i + (q / 2) * 8, m0 + (q % 2) * 8.
 */
template <bool kKInner>
__device__ __forceinline__ void load_a_fragment(uint32_t (&a)[4], const uint16_t* tile, int m0, int k0) {
  const int lane = threadIdx.x % kWarp;
  if constexpr (kKInner) {
    ldmatrix_x4(a, tile + (m0 + lane % 16) * kInnerStride + k0 + (lane / 16) * 8);
  } else {
    const int q = lane / 8, i = lane % 8;
    ldmatrix_x4_trans(a, tile + (k0 + i + (q / 2) * 8) * kOuterStride + m0 + (q % 2) * 8);
  }
}

/**
 * B fragments of two n8 tiles (columns n0..n0+15, k k0..k0+15) of op(B): b[0], b[1] for n0 and
 * b[2], b[3] for n0 + 8. k-inner tile sB[n][k]: ldmatrix, lane l points at n0 + i + (q / 2) * 8,
 * k0 + (q % 2) * 8. k-outer tile sB[k][n]: ldmatrix.trans at k0 + i + (q % 2) * 8, n0 + (q / 2) * 8.
 */
template <bool kKInner>
__device__ __forceinline__ void load_b_fragments(uint32_t (&b)[4], const uint16_t* tile, int n0, int k0) {
  const int lane = threadIdx.x % kWarp;
  const int q = lane / 8, i = lane % 8;
  if constexpr (kKInner) {
    ldmatrix_x4(b, tile + (n0 + i + (q / 2) * 8) * kInnerStride + k0 + (q % 2) * 8);
  } else {
    ldmatrix_x4_trans(b, tile + (k0 + i + (q % 2) * 8) * kOuterStride + n0 + (q / 2) * 8);
  }
}

/**
 * C (M, N) CT = alpha op(A) op(B) + beta C + bias on tensor cores; block (blockIdx.y, blockIdx.x)
 * owns the kBM x kBN tile of C at (blockIdx.y * kBM, blockIdx.x * kBN).
 * A is k-inner when not transposed ((M, K) storage), B is k-inner when transposed ((N, K) storage).
 */
template <typename T, typename CT, bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kMmaThreads) matmul_mma_kernel(CT* C, Operand a_op, Operand b_op,
                                                                 const CT* __restrict__ bias, int64_t M, int64_t N,
                                                                 int64_t K, float alpha, float beta) {
  constexpr bool kAInner = !kTransA;
  constexpr bool kBInner = kTransB;
  extern __shared__ __align__(16) uint16_t smem[];

  const int64_t block_m0 = static_cast<int64_t>(blockIdx.y) * kBM;
  const int64_t block_n0 = static_cast<int64_t>(blockIdx.x) * kBN;
  const int warp = threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  const int warp_m0 = (warp / (kBN / kWarpN)) * kWarpM;
  const int warp_n0 = (warp % (kBN / kWarpN)) * kWarpN;

  // Tile origin in the stored matrices for k tile kt: k-inner tiles start at (outer0, k0), k-outer at (k0, outer0).
  auto load_stage = [&](int stage, int64_t kt) {
    uint16_t* a_tile = smem + stage * kStageElems;
    uint16_t* b_tile = a_tile + kTileElems;
    const int64_t k0 = kt * kBK;
    if constexpr (kAInner) load_tile<true>(a_tile, a_op, block_m0, k0);
    else load_tile<false>(a_tile, a_op, k0, block_m0);
    if constexpr (kBInner) load_tile<true>(b_tile, b_op, block_n0, k0);
    else load_tile<false>(b_tile, b_op, k0, block_n0);
  };

  float acc[kMmaM][kMmaN][4];
#pragma unroll
  for (int i = 0; i < kMmaM; ++i)
#pragma unroll
    for (int j = 0; j < kMmaN; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.0f;

  const int64_t k_tiles = (K + kBK - 1) / kBK;
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < k_tiles) load_stage(s, s);
    cp_async_commit();
  }
  for (int64_t kt = 0; kt < k_tiles; ++kt) {
    // Groups committed so far: kStages - 1 + kt; allowing kStages - 2 in flight completes tile kt.
    cp_async_wait<kStages - 2>();
    __syncthreads();  // tile kt visible to all; everyone is done with the stage refilled below
    const int64_t next = kt + kStages - 1;
    if (next < k_tiles) load_stage(static_cast<int>(next % kStages), next);
    cp_async_commit();

    const uint16_t* a_tile = smem + static_cast<int>(kt % kStages) * kStageElems;
    const uint16_t* b_tile = a_tile + kTileElems;
#pragma unroll
    for (int ks = 0; ks < kBK; ks += 16) {
      uint32_t a_frag[kMmaM][4];
      uint32_t b_frag[kMmaN / 2][4];
#pragma unroll
      for (int i = 0; i < kMmaM; ++i) load_a_fragment<kAInner>(a_frag[i], a_tile, warp_m0 + i * 16, ks);
#pragma unroll
      for (int j = 0; j < kMmaN / 2; ++j) load_b_fragments<kBInner>(b_frag[j], b_tile, warp_n0 + j * 16, ks);
#pragma unroll
      for (int i = 0; i < kMmaM; ++i)
#pragma unroll
        for (int j = 0; j < kMmaN; ++j)
          mma_16816<T>(acc[i][j], a_frag[i], b_frag[j / 2][(j % 2) * 2], b_frag[j / 2][(j % 2) * 2 + 1]);
    }
  }
  cp_async_wait<0>();

  // Epilogue. Accumulator e of tile (i, j): row lane / 4 (+ 8 for e >= 2), column (lane % 4) * 2 + e % 2.
#pragma unroll
  for (int i = 0; i < kMmaM; ++i) {
#pragma unroll
    for (int j = 0; j < kMmaN; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int64_t row = block_m0 + warp_m0 + i * 16 + lane / 4 + (e / 2) * 8;
        const int64_t col = block_n0 + warp_n0 + j * 8 + (lane % 4) * 2 + e % 2;
        if (row < M && col < N) {
          CT* c = C + row * N + col;
          float v = alpha * acc[i][j][e];
          if (beta != 0.0f) v += beta * load(*c);
          if (bias != nullptr) v += load(bias[col]);
          *c = store<CT>(v);
        }
      }
    }
  }
}

template <typename T, typename CT, bool kTransA, bool kTransB>
void launch_mma(cudaStream_t stream, void* C, const Operand& a, const Operand& b, const void* bias, int64_t M,
                int64_t N, int64_t K, float alpha, float beta) {
  auto kernel = matmul_mma_kernel<T, CT, kTransA, kTransB>;
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(kMmaSmemBytes)),
             "cudaFuncSetAttribute (matmul shared memory)");
  const dim3 grid(blocks_for(N, kBN), blocks_for(M, kBM));
  kernel<<<grid, kMmaThreads, kMmaSmemBytes, stream>>>(static_cast<CT*>(C), a, b, static_cast<const CT*>(bias), M, N,
                                                       K, alpha, beta);
  check_launch("matmul_mma_kernel");
}

/** The stored shape of an operand (rows x cols, leading dimension cols) and whether 16-byte chunks may be used. */
Operand make_operand(const void* ptr, int64_t rows, int64_t cols) {
  const bool aligned = cols % 8 == 0 && reinterpret_cast<uintptr_t>(ptr) % 16 == 0;
  return Operand{static_cast<const uint16_t*>(ptr), rows, cols, cols, aligned};
}

template <typename T, typename CT>
void matmul_tensor_cores(cudaStream_t stream, void* C, const void* A, const void* B, const void* bias, int trans_a,
                         int trans_b, int64_t M, int64_t N, int64_t K, float alpha, float beta) {
  const Operand a = trans_a ? make_operand(A, K, M) : make_operand(A, M, K);
  const Operand b = trans_b ? make_operand(B, N, K) : make_operand(B, K, N);
  with_transposes(trans_a, trans_b, [&](auto ta, auto tb) {
    launch_mma<T, CT, decltype(ta)::value, decltype(tb)::value>(stream, C, a, b, bias, M, N, K, alpha, beta);
  });
}

// ------------------------------------------------------------------ SIMT kernel (fp32)

constexpr int kSimtTile = 64;     // block tile rows and columns
constexpr int kSimtK = 16;        // block tile depth
constexpr int kSimtThreads = 256; // 16 x 16 threads, each 4 x 4 outputs strided by 16
constexpr int kSimtPerThread = kSimtTile / 16;

/**
 * C (M, N) F32 = alpha op(A) op(B) + beta C + bias. Thread (ty, tx) owns rows ty + 16 i and columns
 * tx + 16 j of the block tile, so shared reads are broadcasts or consecutive and stores coalesce.
 */
template <bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kSimtThreads) matmul_simt_kernel(float* C, const float* __restrict__ A,
                                                                   const float* __restrict__ B,
                                                                   const float* __restrict__ bias, int64_t M,
                                                                   int64_t N, int64_t K, float alpha, float beta) {
  __shared__ float sa[kSimtK][kSimtTile + 4];  // sa[k][m]
  __shared__ float sb[kSimtK][kSimtTile + 4];  // sb[k][n]
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kSimtTile;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kSimtTile;
  const int tx = threadIdx.x % 16;
  const int ty = threadIdx.x / 16;
  float acc[kSimtPerThread][kSimtPerThread] = {};

  for (int64_t k0 = 0; k0 < K; k0 += kSimtK) {
    // Each tile has 64 x 16 = 1024 elements, 4 per thread; the contiguous stored index varies fastest.
#pragma unroll
    for (int i = 0; i < kSimtTile * kSimtK / kSimtThreads; ++i) {
      const int e = threadIdx.x + i * kSimtThreads;
      const int ka = kTransA ? e / kSimtTile : e % kSimtK;
      const int ma = kTransA ? e % kSimtTile : e / kSimtK;
      const int64_t gm = m0 + ma, gk = k0 + ka;
      float va = 0.0f;
      if (gm < M && gk < K) va = kTransA ? A[gk * M + gm] : A[gm * K + gk];
      sa[ka][ma] = va;
      const int kb = kTransB ? e % kSimtK : e / kSimtTile;
      const int nb = kTransB ? e / kSimtK : e % kSimtTile;
      const int64_t gn = n0 + nb, gkb = k0 + kb;
      float vb = 0.0f;
      if (gn < N && gkb < K) vb = kTransB ? B[gn * K + gkb] : B[gkb * N + gn];
      sb[kb][nb] = vb;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kSimtK; ++k) {
      float av[kSimtPerThread], bv[kSimtPerThread];
#pragma unroll
      for (int i = 0; i < kSimtPerThread; ++i) av[i] = sa[k][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < kSimtPerThread; ++j) bv[j] = sb[k][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < kSimtPerThread; ++i)
#pragma unroll
        for (int j = 0; j < kSimtPerThread; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < kSimtPerThread; ++i) {
    const int64_t row = m0 + ty + 16 * i;
    if (row >= M) continue;
#pragma unroll
    for (int j = 0; j < kSimtPerThread; ++j) {
      const int64_t col = n0 + tx + 16 * j;
      if (col >= N) continue;
      float* c = C + row * N + col;
      float v = alpha * acc[i][j];
      if (beta != 0.0f) v += beta * *c;
      if (bias != nullptr) v += bias[col];
      *c = v;
    }
  }
}

void matmul_simt(cudaStream_t stream, float* C, const float* A, const float* B, const float* bias, int trans_a,
                 int trans_b, int64_t M, int64_t N, int64_t K, float alpha, float beta) {
  const dim3 grid(blocks_for(N, kSimtTile), blocks_for(M, kSimtTile));
  with_transposes(trans_a, trans_b, [&](auto ta, auto tb) {
    matmul_simt_kernel<decltype(ta)::value, decltype(tb)::value>
        <<<grid, kSimtThreads, 0, stream>>>(C, A, B, bias, M, N, K, alpha, beta);
  });
  check_launch("matmul_simt_kernel");
}

// ------------------------------------------------------------------ bias gradient

constexpr int kBiasThreads = 256;
constexpr int64_t kBiasRowsPerChunk = 64;

/** partial (chunks, N): column sums of dY over the rows of chunk blockIdx.y, rows in order. */
template <typename T>
__global__ void bias_grad_partial_kernel(float* __restrict__ partial, const T* __restrict__ dy, int64_t M,
                                         int64_t N) {
  const int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (col >= N) return;
  const int64_t chunk = blockIdx.y;
  const int64_t row_end = min(M, (chunk + 1) * kBiasRowsPerChunk);
  float acc = 0.0f;
  for (int64_t r = chunk * kBiasRowsPerChunk; r < row_end; ++r) acc += load(dy[r * N + col]);
  partial[chunk * N + col] = acc;
}

}  // namespace

void matmul(lmt_ctx& ctx, void* C, const void* A, const void* B, const void* bias, int trans_a, int trans_b,
            int64_t M, int64_t N, int64_t K, float alpha, float beta, lmt_dtype ab_dt, lmt_dtype c_dt) {
  use_device(ctx);
  if (M == 0 || N == 0) return;
  require(blocks_for(M, kSimtTile) <= 65535u, "matmul: M = ", M, " exceeds the CUDA grid limit");
  cudaStream_t stream = stream_of(ctx);
  if (ab_dt == LMT_F32) {
    matmul_simt(stream, static_cast<float*>(C), static_cast<const float*>(A), static_cast<const float*>(B),
                static_cast<const float*>(bias), trans_a, trans_b, M, N, K, alpha, beta);
    return;
  }
  if (matmul_sm90(ctx.device, stream, C, A, B, bias, trans_a, trans_b, M, N, K, alpha, beta, ab_dt, c_dt)) return;
  const bool c_f32 = c_dt == LMT_F32;
  if (ab_dt == LMT_BF16) {
    if (c_f32) matmul_tensor_cores<bf16, float>(stream, C, A, B, bias, trans_a, trans_b, M, N, K, alpha, beta);
    else matmul_tensor_cores<bf16, bf16>(stream, C, A, B, bias, trans_a, trans_b, M, N, K, alpha, beta);
  } else if (ab_dt == LMT_F16) {
    if (c_f32) matmul_tensor_cores<f16, float>(stream, C, A, B, bias, trans_a, trans_b, M, N, K, alpha, beta);
    else matmul_tensor_cores<f16, f16>(stream, C, A, B, bias, trans_a, trans_b, M, N, K, alpha, beta);
  } else {
    throw Error(LMT_ERR_UNSUPPORTED, concat("matmul: unsupported ab_dt ", dtype_name(ab_dt)));
  }
}

void bias_grad(lmt_ctx& ctx, float* dbias, const void* dY, int64_t M, int64_t N, lmt_dtype dt) {
  use_device(ctx);
  if (M == 0 || N == 0) return;
  const int64_t chunks = (M + kBiasRowsPerChunk - 1) / kBiasRowsPerChunk;
  require(chunks <= 65535, "bias_grad: M = ", M, " rows exceed the CUDA limit of ", 65535 * kBiasRowsPerChunk);
  cudaStream_t stream = stream_of(ctx);
  StreamScratch partial(stream, static_cast<size_t>(chunks * N) * sizeof(float));
  LMT_DISPATCH_FLOAT(dt, T, {
    const dim3 grid(blocks_for(N, kBiasThreads), static_cast<unsigned>(chunks));
    bias_grad_partial_kernel<T><<<grid, kBiasThreads, 0, stream>>>(partial.as<float>(), static_cast<const T*>(dY), M, N);
  });
  check_launch("bias_grad_partial_kernel");
  add_column_partials(stream, dbias, partial.as<float>(), chunks, N);
}

}  // namespace lmt::cuda
