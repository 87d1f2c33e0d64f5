// matmul.cpp — CPU backend: GEMM with bias, and the bias gradient of a Linear layer.
//
//   matmul:    C (M, N) c_dt = alpha * op(A) (M, K) . op(B) (K, N) + beta * C (+ bias (N) c_dt)
//              A is (M, K) or (K, M) when trans_a; B is (K, N) or (N, K) when trans_b; A, B ab_dt.
//              beta == 0 never reads C.
//   bias_grad: dbias (N) F32 += sum over the M rows of dY (M, N) dt      (parameter grad: +=)
// The backward of y = x W^T + b is two more matmuls (dx = dy W, dW += dy^T x with beta = 1) and
// bias_grad, so there is no separate backward kernel here.
//
// GotoBLAS/BLIS structure. K is cut into blocks of at most kKc; for each block the whole op(A)
// slab (M, kc) is packed into slivers of kMr rows and each op(B) panel (kc, <= kNc) into slivers of
// kNr columns, converting bf16/f16 to fp32 and resolving the transposes while packing. A
// register-blocked kMr x kNr micro-kernel (AVX2+FMA when the CPU has it, portable C++ otherwise)
// then sweeps tiles of (kMc, kNs) elements of C in parallel. Every element of C belongs to one tile,
// and its K blocks are added in order, so results do not depend on the thread count.
// A bf16/f16 C is accumulated in an fp32 workspace and rounded once at the end.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <type_traits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LMT_MATMUL_X86 1
#endif

#include "backends.h"
#include "parallel.h"
#include "vec_math.h"

namespace lmt::cpu {
namespace {

constexpr int64_t kMr = 6;     // micro-tile rows (one broadcast of A per row)
constexpr int64_t kNr = 16;    // micro-tile columns (two 8-float vectors)
constexpr int64_t kKc = 256;   // K block: an A sliver (kMr x kKc) plus a B sliver (kKc x kNr) fit in L1
constexpr int64_t kMc = 96;    // rows of C per parallel tile: the A block (kMc x kKc) stays in L2
constexpr int64_t kNs = 512;   // columns of C per parallel tile
constexpr int64_t kNc = 4096;  // columns of a packed B panel (kKc x kNc): lives in L3
constexpr int64_t kSerialFlops = 1 << 18;  // below this much work per parallel item, run inline

/** What a micro-kernel does with its kMr x kNr sum `acc` over one K block, for C tile `c`. */
struct Epilogue {
  float alpha;
  float beta;
  const float* bias;  // F32 bias at this tile's first column, or nullptr
  bool first_block;   // first K block: c = alpha acc + beta c + bias; later blocks: c += alpha acc
};

/** C tile (m <= kMr, n <= kNr, row stride ldc) updated from the dense kMr x kNr sum acc. */
inline void apply_epilogue(const float* acc, float* c, int64_t ldc, int64_t m, int64_t n, const Epilogue& ep) {
  for (int64_t r = 0; r < m; ++r) {
    float* row = c + r * ldc;
    for (int64_t j = 0; j < n; ++j) {
      float v = ep.alpha * acc[r * kNr + j];
      if (!ep.first_block) {
        v += row[j];
      } else {
        if (ep.beta != 0.0f) v += ep.beta * row[j];
        if (ep.bias) v += ep.bias[j];
      }
      row[j] = v;
    }
  }
}

/**
 * acc = sum over k < kc of a[k] (kMr) outer b[k] (kNr) from packed slivers, then the epilogue on
 * the m x n valid part of the C tile.
 */
void micro_kernel_portable(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t m, int64_t n,
                           const Epilogue& ep) {
  float acc[kMr * kNr] = {};
  for (int64_t k = 0; k < kc; ++k, a += kMr, b += kNr) {
    for (int64_t r = 0; r < kMr; ++r) {
      float ar = a[r];
      for (int64_t j = 0; j < kNr; ++j) acc[r * kNr + j] += ar * b[j];
    }
  }
  apply_epilogue(acc, c, ldc, m, n, ep);
}

#ifdef LMT_MATMUL_X86
/** The same contract as micro_kernel_portable: 12 ymm accumulators, 2 B loads and 6 broadcasts per k. */
__attribute__((target("avx2,fma"))) void micro_kernel_avx2(int64_t kc, const float* a, const float* b, float* c,
                                                           int64_t ldc, int64_t m, int64_t n, const Epilogue& ep) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(),
         c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(),
         c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(),
         c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t r = 0; r < m; ++r) {  // the C tile is needed after the loop: start fetching it now
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + kNr - 1), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k, a += kMr, b += kNr) {
    __m256 b0 = _mm256_load_ps(b);
    __m256 b1 = _mm256_load_ps(b + 8);
    __m256 ar = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ar, b0, c00);
    c01 = _mm256_fmadd_ps(ar, b1, c01);
    ar = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ar, b0, c10);
    c11 = _mm256_fmadd_ps(ar, b1, c11);
    ar = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ar, b0, c20);
    c21 = _mm256_fmadd_ps(ar, b1, c21);
    ar = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ar, b0, c30);
    c31 = _mm256_fmadd_ps(ar, b1, c31);
    ar = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ar, b0, c40);
    c41 = _mm256_fmadd_ps(ar, b1, c41);
    ar = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ar, b0, c50);
    c51 = _mm256_fmadd_ps(ar, b1, c51);
  }
  const __m256 acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (m < kMr || n < kNr) {
    alignas(32) float tile[kMr * kNr];
    for (int64_t r = 0; r < kMr; ++r) {
      _mm256_store_ps(tile + r * kNr, acc[r][0]);
      _mm256_store_ps(tile + r * kNr + 8, acc[r][1]);
    }
    apply_epilogue(tile, c, ldc, m, n, ep);
    return;
  }
  // c = alpha acc + c_scale c + bias_add, with c_scale = beta (first block) or 1, bias_add = bias or 0
  const __m256 alpha = _mm256_set1_ps(ep.alpha);
  const bool read_c = !ep.first_block || ep.beta != 0.0f;
  const __m256 c_scale = _mm256_set1_ps(ep.first_block ? ep.beta : 1.0f);
  const bool add_bias = ep.first_block && ep.bias;
  const __m256 bias0 = add_bias ? _mm256_loadu_ps(ep.bias) : _mm256_setzero_ps();
  const __m256 bias1 = add_bias ? _mm256_loadu_ps(ep.bias + 8) : _mm256_setzero_ps();
  for (int64_t r = 0; r < kMr; ++r) {
    float* row = c + r * ldc;
    __m256 v0 = _mm256_fmadd_ps(alpha, acc[r][0], bias0);
    __m256 v1 = _mm256_fmadd_ps(alpha, acc[r][1], bias1);
    if (read_c) {
      v0 = _mm256_fmadd_ps(c_scale, _mm256_loadu_ps(row), v0);
      v1 = _mm256_fmadd_ps(c_scale, _mm256_loadu_ps(row + 8), v1);
    }
    _mm256_storeu_ps(row, v0);
    _mm256_storeu_ps(row + 8, v1);
  }
}
#endif

using MicroKernel = void (*)(int64_t, const float*, const float*, float*, int64_t, int64_t, int64_t,
                             const Epilogue&);

MicroKernel select_micro_kernel() {
#ifdef LMT_MATMUL_X86
  if (has_avx2_fma()) return micro_kernel_avx2;
#endif
  return micro_kernel_portable;
}

/** 64-byte aligned, uninitialised fp32 scratch. */
struct FloatBuffer {
  explicit FloatBuffer(int64_t n)
      : data(static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>((n + 15) / 16 * 64))), std::free) {
    if (!data) throw Error(LMT_ERR_OUT_OF_MEMORY, concat("matmul: cannot allocate ", n * 4, " bytes of scratch"));
  }
  float* get() const { return data.get(); }
  std::unique_ptr<float, decltype(&std::free)> data;
};

#ifdef LMT_MATMUL_X86
/** Transposes the 8 x 8 block r[0..7] in place: afterwards r[k] = (old r[0][k], ..., old r[7][k]). */
LMT_TARGET_AVX2 inline void transpose8x8(__m256 (&r)[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

/**
 * out[k * width + i] = src[i][k] for k < kc, i < width (width = kMr or kNr): interleaves `width`
 * k-contiguous fp32 rows, 8 k at a time through 8 x 8 transposes. With width = kMr a transposed row
 * of 8 is stored whole and its last 2 lanes are overwritten by the next k, so the last k (never
 * followed by another) goes through the scalar loop: nothing is written past the sliver.
 */
template <int64_t kWidth>
LMT_TARGET_AVX2 void interleave_rows_avx2(float* out, const float* const (&src)[kWidth], int64_t kc) {
  static_assert(kWidth == kMr || kWidth % 8 == 0, "rows come in groups of 8 (or one zero-padded group of kMr)");
  constexpr int64_t kGroups = (kWidth + 7) / 8;
  constexpr bool kSpills = kWidth % 8 != 0;  // stores run 8 - kWidth % 8 floats past the group
  int64_t k = 0;
  for (; kSpills ? k + 8 < kc : k + 8 <= kc; k += 8) {
    for (int64_t g = 0; g < kGroups; ++g) {
      __m256 r[8];
      for (int64_t i = 0; i < 8; ++i) {
        r[i] = g * 8 + i < kWidth ? _mm256_loadu_ps(src[g * 8 + i] + k) : _mm256_setzero_ps();
      }
      transpose8x8(r);
      for (int64_t kk = 0; kk < 8; ++kk) _mm256_storeu_ps(out + (k + kk) * kWidth + g * 8, r[kk]);
    }
  }
  for (; k < kc; ++k) {
    for (int64_t i = 0; i < kWidth; ++i) out[k * kWidth + i] = src[i][k];
  }
}
#endif

/**
 * out[k * width + i] = src[i][k] for k < kc and i < width: `width` k-contiguous rows of T side by
 * side as fp32 (the packing of a non-transposed A, or of a transposed B).
 */
template <int64_t kWidth, typename T>
void interleave_rows(float* out, const T* const (&src)[kWidth], int64_t kc) {
#ifdef LMT_MATMUL_X86
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx2_fma()) {
      interleave_rows_avx2<kWidth>(out, src, kc);
      return;
    }
  }
#endif
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t i = 0; i < kWidth; ++i) out[k * kWidth + i] = load(src[i][k]);
  }
}

/**
 * Packs rows [0, M) x columns [k0, k0 + kc) of op(A) into dst: sliver s holds rows
 * [s kMr, s kMr + kMr) as kc groups of kMr values (rows past M are zero).
 */
template <typename T>
void pack_a(float* dst, const T* A, bool trans_a, int64_t M, int64_t K, int64_t k0, int64_t kc) {
  int64_t slivers = (M + kMr - 1) / kMr;
  parallel_for(slivers, std::max<int64_t>(1, kSerialFlops / (kMr * kc * 64)), [&](int64_t lo, int64_t hi) {
    for (int64_t s = lo; s < hi; ++s) {
      float* out = dst + s * kMr * kc;
      const int64_t i0 = s * kMr;
      const int64_t rows = std::min(kMr, M - i0);
      if (trans_a) {  // A is (K, M): op(A)[i, k] = A[k, i], contiguous in i
        for (int64_t k = 0; k < kc; ++k) {
          const T* col = A + (k0 + k) * M + i0;
          if (rows == kMr) {
            for (int64_t r = 0; r < kMr; ++r) out[k * kMr + r] = load(col[r]);
          } else {
            for (int64_t r = 0; r < kMr; ++r) out[k * kMr + r] = r < rows ? load(col[r]) : 0.0f;
          }
        }
      } else {  // A is (M, K): contiguous in k; read the sliver's rows side by side, write in order
        const T* row[kMr];
        for (int64_t r = 0; r < kMr; ++r) row[r] = A + (i0 + std::min(r, rows - 1)) * K + k0;
        interleave_rows<kMr>(out, row, kc);
        for (int64_t k = 0; rows < kMr && k < kc; ++k) {  // the rows past M were read as copies: zero them
          for (int64_t r = rows; r < kMr; ++r) out[k * kMr + r] = 0.0f;
        }
      }
    }
  });
}

/**
 * Packs rows [k0, k0 + kc) x columns [j0, j0 + nc) of op(B) into dst: sliver s holds columns
 * [j0 + s kNr, ... + kNr) as kc groups of kNr values (columns past N are zero).
 */
template <typename T>
void pack_b(float* dst, const T* B, bool trans_b, int64_t N, int64_t K, int64_t k0, int64_t kc, int64_t j0,
            int64_t nc) {
  int64_t slivers = (nc + kNr - 1) / kNr;
  parallel_for(slivers, std::max<int64_t>(1, kSerialFlops / (kNr * kc * 64)), [&](int64_t lo, int64_t hi) {
    for (int64_t s = lo; s < hi; ++s) {
      float* out = dst + s * kNr * kc;
      const int64_t jb = j0 + s * kNr;
      const int64_t cols = std::min(kNr, N - jb);
      if (trans_b) {  // B is (N, K): op(B)[k, j] = B[j, k], contiguous in k; read columns side by side
        const T* col[kNr];
        for (int64_t j = 0; j < kNr; ++j) col[j] = B + (jb + std::min(j, cols - 1)) * K + k0;
        interleave_rows<kNr>(out, col, kc);
        for (int64_t k = 0; cols < kNr && k < kc; ++k) {  // the columns past N were read as copies: zero them
          for (int64_t j = cols; j < kNr; ++j) out[k * kNr + j] = 0.0f;
        }
      } else {  // B is (K, N): contiguous in j
        for (int64_t k = 0; k < kc; ++k) {
          const T* row = B + (k0 + k) * N + jb;
          if (cols == kNr) {
            for (int64_t j = 0; j < kNr; ++j) out[k * kNr + j] = load(row[j]);
          } else {
            for (int64_t j = 0; j < kNr; ++j) out[k * kNr + j] = j < cols ? load(row[j]) : 0.0f;
          }
        }
      }
    }
  });
}

/**
 * Cfp (M, N) fp32 with row stride N: first K block c = alpha op(A) op(B) + beta c + bias (bias
 * F32 or nullptr), accumulated over all K blocks.
 */
template <typename T>
void gemm_fp32_out(float* Cfp, const T* A, const T* B, const float* bias, bool trans_a, bool trans_b, int64_t M,
                   int64_t N, int64_t K, float alpha, float beta) {
  static const MicroKernel micro_kernel = select_micro_kernel();
  const int64_t k_blocks = (K + kKc - 1) / kKc;
  const int64_t kc_max = (K + k_blocks - 1) / k_blocks;  // balanced blocks; depends on K only
  const int64_t m_padded = (M + kMr - 1) / kMr * kMr;
  const int64_t nc_max = std::min(kNc, (N + kNr - 1) / kNr * kNr);
  FloatBuffer a_packed(m_padded * kc_max);
  FloatBuffer b_packed(nc_max * kc_max);
  for (int64_t k0 = 0; k0 < K; k0 += kc_max) {
    const int64_t kc = std::min(kc_max, K - k0);
    pack_a(a_packed.get(), A, trans_a, M, K, k0, kc);
    for (int64_t j0 = 0; j0 < N; j0 += kNc) {
      const int64_t nc = std::min(kNc, N - j0);
      pack_b(b_packed.get(), B, trans_b, N, K, k0, kc, j0, nc);
      const int64_t row_tiles = (M + kMc - 1) / kMc;
      const int64_t col_tiles = (nc + kNs - 1) / kNs;
      const int64_t tile_flops = 2 * std::min(kMc, M) * std::min(kNs, nc) * kc;
      parallel_for(row_tiles * col_tiles, std::max<int64_t>(1, kSerialFlops / tile_flops), [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
          const int64_t i_begin = (t / col_tiles) * kMc, i_end = std::min(M, i_begin + kMc);
          const int64_t j_begin = (t % col_tiles) * kNs, j_end = std::min(nc, j_begin + kNs);
          for (int64_t j = j_begin; j < j_end; j += kNr) {  // one B sliver in L1 ...
            const float* b_sliver = b_packed.get() + (j / kNr) * kNr * kc;
            Epilogue ep{alpha, beta, bias ? bias + j0 + j : nullptr, k0 == 0};
            for (int64_t i = i_begin; i < i_end; i += kMr) {  // ... against the A block in L2
              micro_kernel(kc, a_packed.get() + (i / kMr) * kMr * kc, b_sliver, Cfp + i * N + j0 + j, N,
                           std::min(kMr, M - i), std::min(kNr, nc - j), ep);
            }
          }
        }
      });
    }
  }
}

}  // namespace

void matmul(lmt_ctx&, void* C, const void* A, const void* B, const void* bias, int trans_a, int trans_b, int64_t M,
            int64_t N, int64_t K, float alpha, float beta, lmt_dtype ab_dt, lmt_dtype c_dt) {
  LMT_DISPATCH_FLOAT(ab_dt, T, {
    const T* a = static_cast<const T*>(A);
    const T* b = static_cast<const T*>(B);
    if (c_dt == LMT_F32) {
      gemm_fp32_out(static_cast<float*>(C), a, b, static_cast<const float*>(bias), trans_a, trans_b, M, N, K, alpha,
                    beta);
    } else {
      // c_dt == ab_dt (checked by api.cpp): accumulate in fp32, then one rounding per element
      FloatBuffer acc(M * N);
      gemm_fp32_out(acc.get(), a, b, static_cast<const float*>(nullptr), trans_a, trans_b, M, N, K, alpha, 0.0f);
      T* c = static_cast<T*>(C);
      const T* bias_c = static_cast<const T*>(bias);
      parallel_for(M, std::max<int64_t>(1, (1 << 14) / N), [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          for (int64_t j = 0; j < N; ++j) {
            float v = acc.get()[i * N + j];
            if (beta != 0.0f) v += beta * load(c[i * N + j]);
            if (bias_c) v += load(bias_c[j]);
            c[i * N + j] = store<T>(v);
          }
        }
      });
    }
  });
}

void bias_grad(lmt_ctx&, float* dbias, const void* dY, int64_t M, int64_t N, lmt_dtype dt) {
  constexpr int64_t kCols = 256;  // columns per parallel item; each column is summed over all rows in order
  LMT_DISPATCH_FLOAT(dt, T, {
    const T* dy = static_cast<const T*>(dY);
    int64_t chunks = (N + kCols - 1) / kCols;
    parallel_for(chunks, std::max<int64_t>(1, (1 << 16) / (M * kCols)), [&](int64_t lo, int64_t hi) {
      double sum[kCols];
      for (int64_t chunk = lo; chunk < hi; ++chunk) {
        const int64_t j0 = chunk * kCols, cols = std::min(kCols, N - j0);
        std::fill(sum, sum + cols, 0.0);
        for (int64_t i = 0; i < M; ++i) {
          const T* row = dy + i * N + j0;
          for (int64_t j = 0; j < cols; ++j) sum[j] += load(row[j]);
        }
        for (int64_t j = 0; j < cols; ++j) dbias[j0 + j] += static_cast<float>(sum[j]);
      }
    });
  });
}

}  // namespace lmt::cpu
