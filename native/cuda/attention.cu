// attention.cu — CUDA backend: fused multi-head scaled dot-product attention, forward and backward.
//
//   qkv (B, T, 3C) dt: row (b, t) = q | k | v, each C = NH heads of hd = C / NH
//   out (B, T, C) dt, lse (B, NH, T) F32 = log-sum-exp of each query's (masked) scores
//   forward:  S_ts = (causal && s > t ? MIN : q_t . k_s / sqrt(hd)) + (key_mask[b, s] == 0 ? MIN : 0)
//             with MIN = float32-min, P = softmax(S), out = dropout(P) v
//   backward: dqkv (B, T, 3C) dt (activation gradient: overwritten) from dout (B, T, C), qkv, out, lse:
//             D = rowsum(dout * out), dP = dout v^T, dS = P * (dropout(dP) - D), except dS = 0 where
//             the causal mask replaced the score (s > t): dq = dS k / sqrt(hd), dk = dS^T q / sqrt(hd),
//             dv = dropout(P)^T dout
// Masks follow Hugging Face and the CPU backend, in fp32 literally: the causal mask replaces the
// score by MIN, the padding mask adds MIN (MIN + MIN = -inf). A row with an unpadded visible key
// (s <= t) has a finite maximum, so every causally excluded key has probability exactly 0 and the
// key loops stop at the causal limit. A row whose visible keys are all padded ("blind": with causal
// masking, the queries before the first unpadded key, see LeftPadding) has maximum MIN: it attends
// uniformly over its visible keys and, causally excluded but tied at MIN, every later unpadded key;
// the loops over keys (forward) and queries (dk/dv) reach those pairs only for such sequences. A
// blind row has lse = MIN (log(count) is lost in rounding), so the backward recognises it by
// lse < -FLT_MAX / 2 and uses P = 1 / count, the forward's exact probabilities. Dropout element
// ((b * NH + h) * T + t) * T + s uses dropout_keep(seed, offset + element, p) like the CPU.
//
// Flash-attention structure: the T x T matrix never reaches global memory. Head dims 32, 64 and
// 128 (template on HD); others are an UNSUPPORTED error.
//   forward:  online softmax (running max and sum, rescaled output accumulators in registers) over
//             64-key tiles; lse saved.
//   backward: D in a pre-pass; then two kernels that recompute S and P from lse per tile, dP and dS:
//             one per block of 64 keys accumulating dk, dv over all query tiles, one per block of
//             queries accumulating dq over all key tiles. Every gradient element is owned by one
//             thread and summed in a fixed order: deterministic, no atomics.
//   bf16/f16: tensor cores (mma.sync m16n8k16, fp32 accumulation), 4 warps x 16 rows per block,
//             16-bit tiles in shared memory read with ldmatrix; the softmax and dS math runs on the
//             accumulator fragments in fp32, and P / dS are rounded to 16 bits only as operands of
//             the second product (P V, P^T dout, dS^T q, dS k), as FlashAttention-2 does.
//   fp32:     SIMT fp32 (tensor cores would lose precision): 256 threads, tiles converted to fp32 in
//             shared memory with rows padded to hd + 1 floats so column reads are conflict-free.
#include <cfloat>
#include <type_traits>

#include "common.cuh"
#include "helpers.cuh"
#include "mma.cuh"
#include "rng.h"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kFwdQ = 64;   // forward: queries per block
constexpr int kFwdK = 64;   // forward: keys per tile
constexpr int kBwdQ = 32;   // backward: queries per tile
constexpr int kBwdK = 64;   // backward: keys per tile
constexpr int kScoreStride = 64 + 1;

/** Everything the kernels need to know about the problem besides the tensors. */
struct AttentionParams {
  const int32_t* key_mask;  // (B, T), nullable
  int64_t T, C, NH;
  float scale;              // 1 / sqrt(hd)
  bool causal;
  float dropout_p;          // 0 disables dropout
  float keep_scale;         // 1 / (1 - dropout_p)
  uint64_t seed, offset;
};

/**
 * The score S_ts of query t and key s given their dot product (see the header): scaled, or MIN when
 * the causal mask replaces it, plus MIN for a padded key; -inf for tile padding (t or s beyond T).
 */
__device__ __forceinline__ float masked_score(const AttentionParams& p, float dot, int64_t b, int64_t t, int64_t s) {
  if (t >= p.T || s >= p.T) return -INFINITY;
  const bool padded = p.key_mask != nullptr && p.key_mask[b * p.T + s] == 0;
  if (p.causal && s > t) return padded ? -INFINITY : -FLT_MAX;  // MIN + MIN overflows to -inf
  float v = dot * p.scale;
  if (padded) v += -FLT_MAX;
  return v;
}

/**
 * Left padding of sequence b under causal masking: queries t < blind_queries see only padded keys
 * among 0 .. t, so their causally excluded unpadded keys tie with the row maximum MIN and they
 * attend uniformly over keys 0 .. t and all real_keys unpadded keys (which lie after t). Both are 0
 * (no such query) unless the attention is causal and masked, key 0 is padded and the sequence has
 * an unpadded key: a fully padded sequence attends over keys 0 .. t only, without extra work.
 */
struct LeftPadding {
  int64_t blind_queries;  // the first unpadded key
  int64_t real_keys;      // the number of unpadded keys
};

/**
 * Every warp scans the mask of sequence b, 32 keys per step, and gets the same result: no shared
 * memory and no barrier. Must be called by whole warps. Returns at once when key 0 is unpadded.
 */
__device__ __forceinline__ LeftPadding left_padding(const AttentionParams& p, int64_t b) {
  if (!p.causal || p.key_mask == nullptr || p.key_mask[b * p.T] != 0) return {0, 0};
  const int32_t* mask = p.key_mask + b * p.T;
  const int lane = threadIdx.x % kWarp;
  int64_t first = p.T, count = 0;
  for (int64_t s0 = 0; s0 < p.T; s0 += kWarp) {
    const int64_t s = s0 + lane;
    const unsigned real = __ballot_sync(0xffffffffu, s < p.T && mask[s] != 0);
    if (first == p.T && real != 0u) first = s0 + __ffs(static_cast<int>(real)) - 1;
    count += __popc(real);
  }
  if (count == 0) return {0, 0};
  return {first, count};
}

/**
 * The key loop's end for queries q0 .. q0 + rows - 1: the causal limit, unless the first of them is
 * blind (then they may attend to any later unpadded key), or T without causal masking.
 */
__device__ __forceinline__ int64_t key_loop_end(const AttentionParams& p, const LeftPadding& lp, int64_t q0,
                                                int64_t rows) {
  return p.causal && q0 >= lp.blind_queries ? min(p.T, q0 + rows) : p.T;
}

/**
 * The first query tile at or after q0 that can see a key of k0 .. k_end - 1 (tiles start at
 * multiples of the tile size, as k0 does): under causal masking queries before k0 see none, except
 * blind queries when the block holds a key at or after the first unpadded one.
 */
__device__ __forceinline__ int64_t seeing_query_tile(const AttentionParams& p, const LeftPadding& lp, int64_t k0,
                                                     int64_t k_end, int64_t q0) {
  if (!p.causal || q0 >= k0) return q0;
  const bool blind_sees_block = q0 < lp.blind_queries && k_end > lp.blind_queries;
  return blind_sees_block ? q0 : k0;
}

/** Dropout keep decision of probability element (b, h, t, s). */
__device__ __forceinline__ bool keep_element(const AttentionParams& p, int64_t bh, int64_t t, int64_t s) {
  const uint64_t element = static_cast<uint64_t>((bh * p.T + t) * p.T + s);
  return dropout_keep(p.seed, p.offset + element, p.dropout_p);
}

/**
 * One entry (query t, key s) of the backward from its dot products q.k and dout.v and the query's
 * lse and D: the probability after dropout (for dv) and the score gradient dS (for dq, dk; before
 * the 1 / sqrt(hd)). P is recomputed as exp(score - lse), except in a blind row (lse = MIN): the
 * forward attended uniformly there, so P = 1 / count over the keys whose score is not -inf. dS is 0
 * where the causal mask replaced the score (only a blind row has P > 0 there).
 */
__device__ __forceinline__ void score_gradient(const AttentionParams& p, const LeftPadding& lp, float qk, float dov,
                                               int64_t b, int64_t bh, int64_t t, int64_t s, float row_lse,
                                               float row_D, float& dropped_prob, float& ds) {
  const float score = masked_score(p, qk, b, t, s);
  float prob = 0.0f;
  if (score != -INFINITY) {
    if (row_lse < -0.5f * FLT_MAX) {
      const int64_t visible = p.causal ? t + 1 : p.T;
      const int64_t later = t < lp.blind_queries ? lp.real_keys : 0;
      prob = 1.0f / static_cast<float>(visible + later);
    } else {
      prob = expf(score - row_lse);
    }
  }
  float dp = dov;
  if (p.dropout_p > 0.0f) {
    const bool keep = prob != 0.0f && keep_element(p, bh, t, s);
    dropped_prob = keep ? prob * p.keep_scale : 0.0f;
    dp = keep ? dp * p.keep_scale : 0.0f;
  } else {
    dropped_prob = prob;
  }
  ds = p.causal && s > t ? 0.0f : prob * (dp - row_D);
}

/**
 * dst (rows, HD) fp32 with row stride HD + 1 = rows t0 .. t0 + rows - 1 of one head's slice of a
 * (B, T, row_len) tensor starting at column col0; rows at or beyond T are zero.
 */
template <typename T, int HD>
__device__ __forceinline__ void load_head_rows(float* dst, int rows, const T* src, int64_t b, int64_t t0,
                                               int64_t T_len, int64_t row_len, int64_t col0) {
  for (int e = threadIdx.x; e < rows * HD; e += blockDim.x) {
    const int r = e / HD;
    const int d = e % HD;
    const int64_t t = t0 + r;
    dst[r * (HD + 1) + d] = t < T_len ? load(src[(b * T_len + t) * row_len + col0 + d]) : 0.0f;
  }
}

// ------------------------------------------------------------------ forward in fp32 (SIMT)

template <int HD>
struct ForwardSmem {
  float q[kFwdQ][HD + 1];
  float k[kFwdK][HD + 1];
  float v[kFwdK][HD + 1];
  float p[kFwdQ][kScoreStride];  // scores, then dropped-out probabilities of the current key tile
  float row_max[kFwdQ];
  float row_sum[kFwdQ];
  float row_rescale[kFwdQ];
};

template <typename T, int HD>
__global__ void __launch_bounds__(kThreads) attention_forward_kernel(T* __restrict__ out, float* __restrict__ lse,
                                                                     const T* __restrict__ qkv, AttentionParams p) {
  extern __shared__ __align__(16) unsigned char smem_bytes[];
  ForwardSmem<HD>& sm = *reinterpret_cast<ForwardSmem<HD>*>(smem_bytes);
  const int64_t bh = blockIdx.y;
  const int64_t b = bh / p.NH;
  const int64_t h = bh % p.NH;
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kFwdQ;
  const int64_t row_len = 3 * p.C;
  const int tid = threadIdx.x;

  load_head_rows<T, HD>(&sm.q[0][0], kFwdQ, qkv, b, q0, p.T, row_len, h * HD);
  if (tid < kFwdQ) {
    sm.row_max[tid] = -INFINITY;
    sm.row_sum[tid] = 0.0f;
  }

  // Output accumulators: row o_row, dims o_d0 + 4 k.
  constexpr int kOutDims = HD / 4;
  const int o_row = tid / 4;
  const int o_d0 = tid % 4;
  float acc[kOutDims];
#pragma unroll
  for (int k = 0; k < kOutDims; ++k) acc[k] = 0.0f;

  // Score ownership: column s_col, rows s_row0 + 4 r.
  constexpr int kScoreRows = kFwdQ * kFwdK / kThreads;
  const int s_col = tid % kFwdK;
  const int s_row0 = tid / kFwdK;
  const int warp = tid / kWarp;
  const int lane = tid % kWarp;
  constexpr int kRowsPerWarp = kFwdQ / (kThreads / kWarp);

  const int64_t kv_end = key_loop_end(p, left_padding(p, b), q0, kFwdQ);
  for (int64_t k0 = 0; k0 < kv_end; k0 += kFwdK) {
    __syncthreads();  // the previous tile's k, v and p are no longer read
    load_head_rows<T, HD>(&sm.k[0][0], kFwdK, qkv, b, k0, p.T, row_len, p.C + h * HD);
    load_head_rows<T, HD>(&sm.v[0][0], kFwdK, qkv, b, k0, p.T, row_len, 2 * p.C + h * HD);
    __syncthreads();

    float dot[kScoreRows];
#pragma unroll
    for (int r = 0; r < kScoreRows; ++r) dot[r] = 0.0f;
#pragma unroll 8
    for (int d = 0; d < HD; ++d) {
      const float kd = sm.k[s_col][d];
#pragma unroll
      for (int r = 0; r < kScoreRows; ++r) dot[r] = fmaf(sm.q[s_row0 + 4 * r][d], kd, dot[r]);
    }
#pragma unroll
    for (int r = 0; r < kScoreRows; ++r) {
      const int i = s_row0 + 4 * r;
      sm.p[i][s_col] = masked_score(p, dot[r], b, q0 + i, k0 + s_col);
    }
    __syncthreads();

    // Online softmax, one warp per row, two keys per lane.
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
      const int i = warp * kRowsPerWarp + rr;
      const float s0 = sm.p[i][lane];
      const float s1 = sm.p[i][lane + kWarp];
      const float m_old = sm.row_max[i];
      const float m_new = fmaxf(m_old, warp_max(fmaxf(s0, s1)));
      float p0 = 0.0f, p1 = 0.0f, rescale = 1.0f;
      if (m_new != -INFINITY) {  // else nothing allowed so far: keep the zero state
        p0 = expf(s0 - m_new);
        p1 = expf(s1 - m_new);
        rescale = expf(m_old - m_new);
      }
      const float tile_sum = warp_sum(p0 + p1);
      if (p.dropout_p > 0.0f) {
        const int64_t t = q0 + i;
        if (p0 != 0.0f) p0 = keep_element(p, bh, t, k0 + lane) ? p0 * p.keep_scale : 0.0f;
        if (p1 != 0.0f) p1 = keep_element(p, bh, t, k0 + lane + kWarp) ? p1 * p.keep_scale : 0.0f;
      }
      sm.p[i][lane] = p0;
      sm.p[i][lane + kWarp] = p1;
      if (lane == 0) {
        sm.row_max[i] = m_new;
        sm.row_sum[i] = sm.row_sum[i] * rescale + tile_sum;
        sm.row_rescale[i] = rescale;
      }
    }
    __syncthreads();

    const float rescale = sm.row_rescale[o_row];
#pragma unroll
    for (int k = 0; k < kOutDims; ++k) acc[k] *= rescale;
    for (int j = 0; j < kFwdK; ++j) {
      const float pj = sm.p[o_row][j];
#pragma unroll
      for (int k = 0; k < kOutDims; ++k) acc[k] = fmaf(pj, sm.v[j][o_d0 + 4 * k], acc[k]);
    }
  }
  __syncthreads();

  const int64_t t = q0 + o_row;
  if (t < p.T) {
    const float inv_sum = 1.0f / sm.row_sum[o_row];
    T* o = out + (b * p.T + t) * p.C + h * HD;
#pragma unroll
    for (int k = 0; k < kOutDims; ++k) o[o_d0 + 4 * k] = store<T>(acc[k] * inv_sum);
  }
  if (tid < kFwdQ && q0 + tid < p.T) {
    lse[bh * p.T + q0 + tid] = sm.row_max[tid] + logf(sm.row_sum[tid]);
  }
}

// ------------------------------------------------------------------ tensor cores (bf16/f16)
//
// Tiles stay 16-bit in shared memory, rows padded by 8 elements (16 bytes) so the eight rows of an
// ldmatrix fall in distinct banks. Each warp owns 16 rows of its product; the fragment layouts are
// described in mma.cuh (element e of n8 tile j sits at row g + 8 (e / 2), column 8 j + 2 c + e % 2
// with g = lane / 4, c = lane % 4).

constexpr int kMmaThreads = 128;  // 4 warps, 16 rows each
constexpr int kMmaRows = 64;      // rows (queries or keys) owned by a block
constexpr int kMmaTile = 64;      // forward: keys per tile
constexpr int kMmaBwdTile = 32;   // backward: queries (dk/dv kernel) or keys (dq kernel) per tile

template <int HD>
constexpr int kMmaStride = HD + 8;

/**
 * dst (rows, HD) 16-bit, row stride HD + 8 = rows t0 .. t0 + rows - 1 of one head's slice (column
 * col0) of a (B, T, row_len) tensor, copied bit for bit; rows at or beyond T are zero. `vector`:
 * 16-byte copies (row_len and col0 multiples of 8, base 16-byte aligned), else element by element.
 */
template <int HD>
__device__ __forceinline__ void load_head_rows_16bit(uint16_t* dst, int rows, const void* src_tensor, int64_t b,
                                                     int64_t t0, int64_t T_len, int64_t row_len, int64_t col0,
                                                     bool vector) {
  const uint16_t* src = static_cast<const uint16_t*>(src_tensor);
  if (vector) {
    constexpr int kChunks = HD / 8;
    for (int e = threadIdx.x; e < rows * kChunks; e += blockDim.x) {
      const int r = e / kChunks;
      const int c = (e % kChunks) * 8;
      const int64_t t = t0 + r;
      uint4 chunk = make_uint4(0u, 0u, 0u, 0u);
      if (t < T_len) chunk = *reinterpret_cast<const uint4*>(src + (b * T_len + t) * row_len + col0 + c);
      *reinterpret_cast<uint4*>(dst + r * kMmaStride<HD> + c) = chunk;
    }
  } else {
    for (int e = threadIdx.x; e < rows * HD; e += blockDim.x) {
      const int r = e / HD;
      const int d = e % HD;
      const int64_t t = t0 + r;
      dst[r * kMmaStride<HD> + d] = t < T_len ? src[(b * T_len + t) * row_len + col0 + d] : uint16_t{0};
    }
  }
}

/**
 * acc (16 x 8 NT) += X (16 x HD) . Y (8 NT x HD)^T with X = rows x_row0.. of tile x and Y = rows
 * y_row0.. of tile y (both (rows, HD), stride HD + 8): X is the row-major A operand, Y read
 * without transposition is the column-major B operand.
 */
template <typename T, int HD, int NT>
__device__ __forceinline__ void mma_rows_by_rows(float (&acc)[NT][4], const uint16_t* x, int x_row0, const uint16_t* y,
                                                 int y_row0) {
  static_assert(NT % 2 == 0, "B fragments come in pairs of n8 tiles");
  const int lane = threadIdx.x % kWarp;
  const int lq = lane / 8, li = lane % 8;  // the 8x8 matrix this lane addresses, and its row in it
#pragma unroll
  for (int kk = 0; kk < HD / 16; ++kk) {
    uint32_t a[4];
    ldmatrix_x4(a, x + (x_row0 + lane % 16) * kMmaStride<HD> + kk * 16 + (lane / 16) * 8);
#pragma unroll
    for (int jj = 0; jj < NT / 2; ++jj) {
      uint32_t bf[4];
      ldmatrix_x4(bf, y + (y_row0 + jj * 16 + li + (lq / 2) * 8) * kMmaStride<HD> + kk * 16 + (lq % 2) * 8);
      mma_16816<T>(acc[2 * jj], a, bf[0], bf[1]);
      mma_16816<T>(acc[2 * jj + 1], a, bf[2], bf[3]);
    }
  }
}

/**
 * acc (16 x HD) += F (16 x 16 KC) . Z (16 KC x HD): F is a product held in accumulator fragments
 * (2 KC n8 tiles), rounded to 16 bits into A fragments (tiles 2 kk and 2 kk + 1 form k chunk kk);
 * Z = rows z_row0.. of tile z ((rows, HD), stride HD + 8), the B operand through ldmatrix.trans.
 */
template <typename T, int HD, int KC>
__device__ __forceinline__ void mma_fragments_by_rows(float (&acc)[HD / 8][4], const float (&f)[2 * KC][4],
                                                      const uint16_t* z, int z_row0) {
  const int lane = threadIdx.x % kWarp;
  const int lq = lane / 8, li = lane % 8;
#pragma unroll
  for (int kk = 0; kk < KC; ++kk) {
    const uint32_t a[4] = {pack_pair<T>(f[2 * kk][0], f[2 * kk][1]), pack_pair<T>(f[2 * kk][2], f[2 * kk][3]),
                           pack_pair<T>(f[2 * kk + 1][0], f[2 * kk + 1][1]),
                           pack_pair<T>(f[2 * kk + 1][2], f[2 * kk + 1][3])};
#pragma unroll
    for (int jd = 0; jd < HD / 16; ++jd) {
      uint32_t bf[4];
      ldmatrix_x4_trans(bf, z + (z_row0 + kk * 16 + li + (lq % 2) * 8) * kMmaStride<HD> + jd * 16 + (lq / 2) * 8);
      mma_16816<T>(acc[2 * jd], a, bf[0], bf[1]);
      mma_16816<T>(acc[2 * jd + 1], a, bf[2], bf[3]);
    }
  }
}

template <int N>
__device__ __forceinline__ void zero_fragments(float (&acc)[N][4]) {
#pragma unroll
  for (int j = 0; j < N; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) acc[j][e] = 0.0f;
}

/**
 * Writes a warp's 16 x HD fragment product, times `scale`, to rows row0 + (g, g + 8) of a
 * (B, T, row_len) tensor at column col0; rows at or beyond T are skipped.
 */
template <typename T, int HD>
__device__ __forceinline__ void store_fragment_rows(T* dst, const float (&acc)[HD / 8][4], float scale, int64_t b,
                                                    int64_t row0, int64_t T_len, int64_t row_len, int64_t col0) {
  const int lane = threadIdx.x % kWarp;
  const int g = lane / 4, c = lane % 4;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t t = row0 + g + 8 * r;
    if (t >= T_len) continue;
    T* row = dst + (b * T_len + t) * row_len + col0;
#pragma unroll
    for (int j = 0; j < HD / 8; ++j) {
      row[j * 8 + 2 * c] = store<T>(acc[j][2 * r] * scale);
      row[j * 8 + 2 * c + 1] = store<T>(acc[j][2 * r + 1] * scale);
    }
  }
}

template <int HD>
struct MmaForwardSmem {
  uint16_t q[kMmaRows][kMmaStride<HD>];
  uint16_t k[kMmaTile][kMmaStride<HD>];
  uint16_t v[kMmaTile][kMmaStride<HD>];
};

/**
 * The forward (FlashAttention-2 layout): warp w owns queries q0 + 16 w .. + 15. Per 64-key tile:
 * S = Q K^T on tensor cores, masks and the online softmax on the accumulator fragments (a thread
 * holds rows g and g + 8; quad shuffles reduce a row), then O += P V with P rounded to 16 bits
 * straight from the S fragments. Row sums use the fp32 probabilities before dropout.
 */
template <typename T, int HD>
__global__ void __launch_bounds__(kMmaThreads) attention_forward_mma_kernel(T* __restrict__ out,
                                                                           float* __restrict__ lse,
                                                                           const T* __restrict__ qkv,
                                                                           AttentionParams p, bool vector) {
  extern __shared__ __align__(16) unsigned char smem_bytes[];
  MmaForwardSmem<HD>& sm = *reinterpret_cast<MmaForwardSmem<HD>*>(smem_bytes);
  const int64_t bh = blockIdx.y;
  const int64_t b = bh / p.NH;
  const int64_t h = bh % p.NH;
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kMmaRows;
  const int64_t row_len = 3 * p.C;
  const int lane = threadIdx.x % kWarp;
  const int c = lane % 4;
  const int warp_row0 = (threadIdx.x / kWarp) * 16;

  load_head_rows_16bit<HD>(&sm.q[0][0], kMmaRows, qkv, b, q0, p.T, row_len, h * HD, vector);
  float o_acc[HD / 8][4];
  zero_fragments(o_acc);
  float row_max[2] = {-INFINITY, -INFINITY};
  float row_sum[2] = {0.0f, 0.0f};  // this thread's part of the row sums (its 2 columns per n8 tile)
  const int64_t t_row[2] = {q0 + warp_row0 + lane / 4, q0 + warp_row0 + lane / 4 + 8};

  const int64_t kv_end = key_loop_end(p, left_padding(p, b), q0, kMmaRows);
  for (int64_t k0 = 0; k0 < kv_end; k0 += kMmaTile) {
    __syncthreads();  // q is loaded; the previous tile's k and v are no longer read
    load_head_rows_16bit<HD>(&sm.k[0][0], kMmaTile, qkv, b, k0, p.T, row_len, p.C + h * HD, vector);
    load_head_rows_16bit<HD>(&sm.v[0][0], kMmaTile, qkv, b, k0, p.T, row_len, 2 * p.C + h * HD, vector);
    __syncthreads();

    float s_acc[kMmaTile / 8][4];
    zero_fragments(s_acc);
    mma_rows_by_rows<T, HD, kMmaTile / 8>(s_acc, &sm.q[0][0], warp_row0, &sm.k[0][0], 0);

    float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int j = 0; j < kMmaTile / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = e / 2;
        s_acc[j][e] = masked_score(p, s_acc[j][e], b, t_row[r], k0 + j * 8 + 2 * c + e % 2);
        tile_max[r] = fmaxf(tile_max[r], s_acc[j][e]);
      }
    }
    float rescale[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
      const float m_new = fmaxf(row_max[r], tile_max[r]);
      rescale[r] = m_new == -INFINITY ? 1.0f : expf(row_max[r] - m_new);  // -inf: nothing allowed yet
      row_max[r] = m_new;
      row_sum[r] *= rescale[r];
    }
#pragma unroll
    for (int j = 0; j < kMmaTile / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = e / 2;
        float prob = row_max[r] == -INFINITY ? 0.0f : expf(s_acc[j][e] - row_max[r]);
        row_sum[r] += prob;
        if (p.dropout_p > 0.0f && prob != 0.0f) {
          prob = keep_element(p, bh, t_row[r], k0 + j * 8 + 2 * c + e % 2) ? prob * p.keep_scale : 0.0f;
        }
        s_acc[j][e] = prob;
      }
    }
#pragma unroll
    for (int j = 0; j < HD / 8; ++j) {
      o_acc[j][0] *= rescale[0];
      o_acc[j][1] *= rescale[0];
      o_acc[j][2] *= rescale[1];
      o_acc[j][3] *= rescale[1];
    }
    mma_fragments_by_rows<T, HD, kMmaTile / 16>(o_acc, s_acc, &sm.v[0][0], 0);
  }

  float inv_sum[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 1);
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 2);
    inv_sum[r] = 1.0f / row_sum[r];
  }
  // Rows of one fragment share a scale only per half: apply 1 / sum before the store.
#pragma unroll
  for (int j = 0; j < HD / 8; ++j) {
    o_acc[j][0] *= inv_sum[0];
    o_acc[j][1] *= inv_sum[0];
    o_acc[j][2] *= inv_sum[1];
    o_acc[j][3] *= inv_sum[1];
  }
  store_fragment_rows<T, HD>(out, o_acc, 1.0f, b, q0 + warp_row0, p.T, p.C, h * HD);
  if (c == 0) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      if (t_row[r] < p.T) lse[bh * p.T + t_row[r]] = row_max[r] + logf(row_sum[r]);
    }
  }
}

template <int HD>
struct MmaBackwardSmem {
  uint16_t own_a[kMmaRows][kMmaStride<HD>];     // the block's rows: k (dk/dv kernel) or q (dq kernel)
  uint16_t own_b[kMmaRows][kMmaStride<HD>];     // v or dout
  uint16_t tile_a[kMmaBwdTile][kMmaStride<HD>]; // the streamed tile: q or k
  uint16_t tile_b[kMmaBwdTile][kMmaStride<HD>]; // dout or v
  float lse[kMmaRows];                          // per query: of the streamed tile (dk/dv) or own rows (dq)
  float D[kMmaRows];
};

/** lse and D of queries q0 .. q0 + n - 1 into shared memory (0 beyond T). */
__device__ __forceinline__ void load_query_stats(float* lse_dst, float* D_dst, const float* lse, const float* D,
                                                 int64_t bh, int64_t q0, int n, int64_t T_len) {
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t t = q0 + i;
    lse_dst[i] = t < T_len ? lse[bh * T_len + t] : 0.0f;
    D_dst[i] = t < T_len ? D[bh * T_len + t] : 0.0f;
  }
}

/**
 * dk, dv for keys k0 .. k0 + 63 of one (b, h); warp w owns keys k0 + 16 w .. + 15 and works on the
 * transposed products: S^T = K Q^T and dP^T = V dout^T (16 keys x 32 queries per tile), then
 * dv += dropout(P)^T dout and dk += dS^T q straight from those fragments.
 */
template <typename T, int HD>
__global__ void __launch_bounds__(kMmaThreads) attention_backward_kv_mma_kernel(
    T* __restrict__ dqkv, const T* __restrict__ dout, const T* __restrict__ qkv, const float* __restrict__ lse,
    const float* __restrict__ D, AttentionParams p, bool vector) {
  extern __shared__ __align__(16) unsigned char smem_bytes[];
  MmaBackwardSmem<HD>& sm = *reinterpret_cast<MmaBackwardSmem<HD>*>(smem_bytes);
  const int64_t bh = blockIdx.y;
  const int64_t b = bh / p.NH;
  const int64_t h = bh % p.NH;
  const int64_t k0 = static_cast<int64_t>(blockIdx.x) * kMmaRows;
  const int64_t row_len = 3 * p.C;
  const int lane = threadIdx.x % kWarp;
  const int c = lane % 4;
  const int warp_row0 = (threadIdx.x / kWarp) * 16;
  const int64_t s_row[2] = {k0 + warp_row0 + lane / 4, k0 + warp_row0 + lane / 4 + 8};

  load_head_rows_16bit<HD>(&sm.own_a[0][0], kMmaRows, qkv, b, k0, p.T, row_len, p.C + h * HD, vector);
  load_head_rows_16bit<HD>(&sm.own_b[0][0], kMmaRows, qkv, b, k0, p.T, row_len, 2 * p.C + h * HD, vector);
  float dk[HD / 8][4], dv[HD / 8][4];
  zero_fragments(dk);
  zero_fragments(dv);

  const LeftPadding lp = left_padding(p, b);
  const int64_t k_end = min(p.T, k0 + kMmaRows);
  for (int64_t q0 = seeing_query_tile(p, lp, k0, k_end, 0); q0 < p.T;
       q0 = seeing_query_tile(p, lp, k0, k_end, q0 + kMmaBwdTile)) {
    __syncthreads();  // own rows are loaded; the previous query tile is no longer read
    load_head_rows_16bit<HD>(&sm.tile_a[0][0], kMmaBwdTile, qkv, b, q0, p.T, row_len, h * HD, vector);
    load_head_rows_16bit<HD>(&sm.tile_b[0][0], kMmaBwdTile, dout, b, q0, p.T, p.C, h * HD, vector);
    load_query_stats(sm.lse, sm.D, lse, D, bh, q0, kMmaBwdTile, p.T);
    __syncthreads();

    float st[kMmaBwdTile / 8][4], dpt[kMmaBwdTile / 8][4];
    zero_fragments(st);
    zero_fragments(dpt);
    mma_rows_by_rows<T, HD, kMmaBwdTile / 8>(st, &sm.own_a[0][0], warp_row0, &sm.tile_a[0][0], 0);
    mma_rows_by_rows<T, HD, kMmaBwdTile / 8>(dpt, &sm.own_b[0][0], warp_row0, &sm.tile_b[0][0], 0);
    // Element e of tile j: key s_row[e / 2], query q0 + 8 j + 2 c + e % 2.
#pragma unroll
    for (int j = 0; j < kMmaBwdTile / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int i = j * 8 + 2 * c + e % 2;
        score_gradient(p, lp, st[j][e], dpt[j][e], b, bh, q0 + i, s_row[e / 2], sm.lse[i], sm.D[i], st[j][e],
                       dpt[j][e]);
      }
    }
    mma_fragments_by_rows<T, HD, kMmaBwdTile / 16>(dv, st, &sm.tile_b[0][0], 0);
    mma_fragments_by_rows<T, HD, kMmaBwdTile / 16>(dk, dpt, &sm.tile_a[0][0], 0);
  }
  store_fragment_rows<T, HD>(dqkv, dk, p.scale, b, k0 + warp_row0, p.T, row_len, p.C + h * HD);
  store_fragment_rows<T, HD>(dqkv, dv, 1.0f, b, k0 + warp_row0, p.T, row_len, 2 * p.C + h * HD);
}

/**
 * dq for queries q0 .. q0 + 63 of one (b, h); warp w owns queries q0 + 16 w .. + 15: per 32-key
 * tile S = Q K^T and dP = dout V^T, then dq += dS k straight from the fragments.
 */
template <typename T, int HD>
__global__ void __launch_bounds__(kMmaThreads) attention_backward_q_mma_kernel(
    T* __restrict__ dqkv, const T* __restrict__ dout, const T* __restrict__ qkv, const float* __restrict__ lse,
    const float* __restrict__ D, AttentionParams p, bool vector) {
  extern __shared__ __align__(16) unsigned char smem_bytes[];
  MmaBackwardSmem<HD>& sm = *reinterpret_cast<MmaBackwardSmem<HD>*>(smem_bytes);
  const int64_t bh = blockIdx.y;
  const int64_t b = bh / p.NH;
  const int64_t h = bh % p.NH;
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kMmaRows;
  const int64_t row_len = 3 * p.C;
  const int lane = threadIdx.x % kWarp;
  const int c = lane % 4;
  const int warp_row0 = (threadIdx.x / kWarp) * 16;
  const int i_row[2] = {warp_row0 + lane / 4, warp_row0 + lane / 4 + 8};

  load_head_rows_16bit<HD>(&sm.own_a[0][0], kMmaRows, qkv, b, q0, p.T, row_len, h * HD, vector);
  load_head_rows_16bit<HD>(&sm.own_b[0][0], kMmaRows, dout, b, q0, p.T, p.C, h * HD, vector);
  load_query_stats(sm.lse, sm.D, lse, D, bh, q0, kMmaRows, p.T);
  float dq[HD / 8][4];
  zero_fragments(dq);

  // A blind row's later keys have dS = 0 (causally replaced scores): no dq from them, so the loop
  // stops at the causal limit; the row only needs its probability count.
  const LeftPadding lp = left_padding(p, b);
  const int64_t kv_end = p.causal ? min(p.T, q0 + kMmaRows) : p.T;
  for (int64_t k0 = 0; k0 < kv_end; k0 += kMmaBwdTile) {
    __syncthreads();  // own rows are loaded; the previous key tile is no longer read
    load_head_rows_16bit<HD>(&sm.tile_a[0][0], kMmaBwdTile, qkv, b, k0, p.T, row_len, p.C + h * HD, vector);
    load_head_rows_16bit<HD>(&sm.tile_b[0][0], kMmaBwdTile, qkv, b, k0, p.T, row_len, 2 * p.C + h * HD, vector);
    __syncthreads();

    float s_acc[kMmaBwdTile / 8][4], dp[kMmaBwdTile / 8][4];
    zero_fragments(s_acc);
    zero_fragments(dp);
    mma_rows_by_rows<T, HD, kMmaBwdTile / 8>(s_acc, &sm.own_a[0][0], warp_row0, &sm.tile_a[0][0], 0);
    mma_rows_by_rows<T, HD, kMmaBwdTile / 8>(dp, &sm.own_b[0][0], warp_row0, &sm.tile_b[0][0], 0);
    // Element e of tile j: query q0 + i_row[e / 2], key k0 + 8 j + 2 c + e % 2.
#pragma unroll
    for (int j = 0; j < kMmaBwdTile / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int i = i_row[e / 2];
        float unused_prob;
        score_gradient(p, lp, s_acc[j][e], dp[j][e], b, bh, q0 + i, k0 + j * 8 + 2 * c + e % 2, sm.lse[i],
                       sm.D[i], unused_prob, dp[j][e]);
      }
    }
    mma_fragments_by_rows<T, HD, kMmaBwdTile / 16>(dq, dp, &sm.tile_a[0][0], 0);
  }
  store_fragment_rows<T, HD>(dqkv, dq, p.scale, b, q0 + warp_row0, p.T, row_len, h * HD);
}

// ------------------------------------------------------------------ backward in fp32 (SIMT), and the D pre-pass

/** D (B, NH, T) = rowsum(dout * out) per head, one warp per (b, h, t). */
template <typename T>
__global__ void attention_row_dot_kernel(float* __restrict__ D, const T* __restrict__ dout, const T* __restrict__ out,
                                         int64_t B, int64_t T_len, int64_t C, int64_t NH) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp;
  if (row >= B * NH * T_len) return;
  const int lane = threadIdx.x % kWarp;
  const int64_t t = row % T_len;
  const int64_t bh = row / T_len;
  const int64_t b = bh / NH;
  const int64_t h = bh % NH;
  const int64_t hd = C / NH;
  const int64_t base = (b * T_len + t) * C + h * hd;
  float acc = 0.0f;
  for (int64_t d = lane; d < hd; d += kWarp) acc += load(dout[base + d]) * load(out[base + d]);
  acc = warp_sum(acc);
  if (lane == 0) D[row] = acc;
}

template <int HD>
struct BackwardSmem {
  float q[kBwdQ][HD + 1];
  float dout[kBwdQ][HD + 1];
  float k[kBwdK][HD + 1];
  float v[kBwdK][HD + 1];
  float p[kBwdQ][kScoreStride];   // dropped-out probabilities of the tile
  float ds[kBwdQ][kScoreStride];  // score gradients of the tile (before the 1 / sqrt(hd))
  float lse[kBwdQ];
  float D[kBwdQ];
};

/** Loads q, dout, lse, D of queries q0 .. q0 + kBwdQ - 1 (zero beyond T). */
template <typename T, int HD>
__device__ __forceinline__ void load_query_tile(BackwardSmem<HD>& sm, const T* qkv, const T* dout, const float* lse,
                                                const float* D, const AttentionParams& p, int64_t bh, int64_t q0) {
  const int64_t b = bh / p.NH;
  const int64_t h = bh % p.NH;
  load_head_rows<T, HD>(&sm.q[0][0], kBwdQ, qkv, b, q0, p.T, 3 * p.C, h * HD);
  load_head_rows<T, HD>(&sm.dout[0][0], kBwdQ, dout, b, q0, p.T, p.C, h * HD);
  if (threadIdx.x < kBwdQ) {
    const int64_t t = q0 + threadIdx.x;
    sm.lse[threadIdx.x] = t < p.T ? lse[bh * p.T + t] : 0.0f;
    sm.D[threadIdx.x] = t < p.T ? D[bh * p.T + t] : 0.0f;
  }
}

/** Loads k and v of keys k0 .. k0 + kBwdK - 1 (zero beyond T). */
template <typename T, int HD>
__device__ __forceinline__ void load_key_tile(BackwardSmem<HD>& sm, const T* qkv, const AttentionParams& p, int64_t bh,
                                              int64_t k0) {
  const int64_t b = bh / p.NH;
  const int64_t h = bh % p.NH;
  load_head_rows<T, HD>(&sm.k[0][0], kBwdK, qkv, b, k0, p.T, 3 * p.C, p.C + h * HD);
  load_head_rows<T, HD>(&sm.v[0][0], kBwdK, qkv, b, k0, p.T, 3 * p.C, 2 * p.C + h * HD);
}

/**
 * With the query tile (q0) and key tile (k0) in shared memory, fills sm.p with the dropped-out
 * probabilities and sm.ds with dS = P * (dropout(dP) - D) for the kBwdQ x kBwdK tile. Ends with a
 * barrier. Each thread computes whole dot products of its own entries (column tid % 64, rows
 * tid / 64 + 4 r), so no barrier is needed between the products and the elementwise step.
 */
template <int HD>
__device__ __forceinline__ void compute_tile_gradients(BackwardSmem<HD>& sm, const AttentionParams& p,
                                                       const LeftPadding& lp, int64_t bh, int64_t q0, int64_t k0) {
  constexpr int kRows = kBwdQ * kBwdK / kThreads;
  const int col = threadIdx.x % kBwdK;
  const int row0 = threadIdx.x / kBwdK;
  float s_dot[kRows], dp_dot[kRows];
#pragma unroll
  for (int r = 0; r < kRows; ++r) s_dot[r] = dp_dot[r] = 0.0f;
#pragma unroll 8
  for (int d = 0; d < HD; ++d) {
    const float kd = sm.k[col][d];
    const float vd = sm.v[col][d];
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      s_dot[r] = fmaf(sm.q[row0 + 4 * r][d], kd, s_dot[r]);
      dp_dot[r] = fmaf(sm.dout[row0 + 4 * r][d], vd, dp_dot[r]);
    }
  }
  const int64_t b = bh / p.NH;
#pragma unroll
  for (int r = 0; r < kRows; ++r) {
    const int i = row0 + 4 * r;
    score_gradient(p, lp, s_dot[r], dp_dot[r], b, bh, q0 + i, k0 + col, sm.lse[i], sm.D[i], sm.p[i][col],
                   sm.ds[i][col]);
  }
  __syncthreads();
}

/** dk, dv for keys k0 .. k0 + 63 of one (b, h): thread owns key tid / 4, dims tid % 4 + 4 k. */
template <typename T, int HD>
__global__ void __launch_bounds__(kThreads) attention_backward_kv_kernel(T* __restrict__ dqkv, const T* __restrict__ dout,
                                                                         const T* __restrict__ qkv,
                                                                         const float* __restrict__ lse,
                                                                         const float* __restrict__ D, AttentionParams p) {
  extern __shared__ __align__(16) unsigned char smem_bytes[];
  BackwardSmem<HD>& sm = *reinterpret_cast<BackwardSmem<HD>*>(smem_bytes);
  const int64_t bh = blockIdx.y;
  const int64_t k0 = static_cast<int64_t>(blockIdx.x) * kBwdK;
  load_key_tile<T, HD>(sm, qkv, p, bh, k0);

  constexpr int kDims = HD / 4;
  const int j = threadIdx.x / 4;
  const int d0 = threadIdx.x % 4;
  float dk[kDims], dv[kDims];
#pragma unroll
  for (int k = 0; k < kDims; ++k) dk[k] = dv[k] = 0.0f;

  const LeftPadding lp = left_padding(p, bh / p.NH);
  const int64_t k_end = min(p.T, k0 + kBwdK);
  for (int64_t q0 = seeing_query_tile(p, lp, k0, k_end, 0); q0 < p.T;
       q0 = seeing_query_tile(p, lp, k0, k_end, q0 + kBwdQ)) {
    __syncthreads();  // the previous query tile is no longer read
    load_query_tile<T, HD>(sm, qkv, dout, lse, D, p, bh, q0);
    __syncthreads();
    compute_tile_gradients<HD>(sm, p, lp, bh, q0, k0);
    for (int i = 0; i < kBwdQ; ++i) {
      const float pij = sm.p[i][j];
      const float dsij = sm.ds[i][j];
#pragma unroll
      for (int k = 0; k < kDims; ++k) {
        dv[k] = fmaf(pij, sm.dout[i][d0 + 4 * k], dv[k]);
        dk[k] = fmaf(dsij, sm.q[i][d0 + 4 * k], dk[k]);
      }
    }
  }

  const int64_t s = k0 + j;
  if (s < p.T) {
    const int64_t b = bh / p.NH;
    const int64_t h = bh % p.NH;
    T* row = dqkv + (b * p.T + s) * 3 * p.C + h * HD;
#pragma unroll
    for (int k = 0; k < kDims; ++k) {
      row[p.C + d0 + 4 * k] = store<T>(dk[k] * p.scale);
      row[2 * p.C + d0 + 4 * k] = store<T>(dv[k]);
    }
  }
}

/** dq for queries q0 .. q0 + 31 of one (b, h): thread owns query tid / 8, dims tid % 8 + 8 k. */
template <typename T, int HD>
__global__ void __launch_bounds__(kThreads) attention_backward_q_kernel(T* __restrict__ dqkv, const T* __restrict__ dout,
                                                                        const T* __restrict__ qkv,
                                                                        const float* __restrict__ lse,
                                                                        const float* __restrict__ D, AttentionParams p) {
  extern __shared__ __align__(16) unsigned char smem_bytes[];
  BackwardSmem<HD>& sm = *reinterpret_cast<BackwardSmem<HD>*>(smem_bytes);
  const int64_t bh = blockIdx.y;
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kBwdQ;
  load_query_tile<T, HD>(sm, qkv, dout, lse, D, p, bh, q0);

  constexpr int kDims = HD / 8;
  const int i = threadIdx.x / 8;
  const int d0 = threadIdx.x % 8;
  float dq[kDims];
#pragma unroll
  for (int k = 0; k < kDims; ++k) dq[k] = 0.0f;

  // As in the 16-bit dq kernel: no dq from a blind row's later keys, only its probability count.
  const LeftPadding lp = left_padding(p, bh / p.NH);
  const int64_t kv_end = p.causal ? min(p.T, q0 + kBwdQ) : p.T;
  for (int64_t k0 = 0; k0 < kv_end; k0 += kBwdK) {
    __syncthreads();  // the previous key tile is no longer read
    load_key_tile<T, HD>(sm, qkv, p, bh, k0);
    __syncthreads();
    compute_tile_gradients<HD>(sm, p, lp, bh, q0, k0);
    for (int j = 0; j < kBwdK; ++j) {
      const float dsij = sm.ds[i][j];
#pragma unroll
      for (int k = 0; k < kDims; ++k) dq[k] = fmaf(dsij, sm.k[j][d0 + 8 * k], dq[k]);
    }
  }

  const int64_t t = q0 + i;
  if (t < p.T) {
    const int64_t b = bh / p.NH;
    const int64_t h = bh % p.NH;
    T* row = dqkv + (b * p.T + t) * 3 * p.C + h * HD;
#pragma unroll
    for (int k = 0; k < kDims; ++k) row[d0 + 8 * k] = store<T>(dq[k] * p.scale);
  }
}

// ------------------------------------------------------------------ launchers

AttentionParams make_params(const int32_t* key_mask, int64_t T, int64_t C, int64_t NH, int causal, float dropout_p,
                            uint64_t seed, uint64_t offset) {
  AttentionParams p{};
  p.key_mask = key_mask;
  p.T = T;
  p.C = C;
  p.NH = NH;
  p.scale = 1.0f / sqrtf(static_cast<float>(C / NH));
  p.causal = causal != 0;
  p.dropout_p = dropout_p;
  p.keep_scale = 1.0f / (1.0f - dropout_p);
  p.seed = seed;
  p.offset = offset;
  return p;
}

/** Calls fn(std::integral_constant<int, HD>) for a supported head dim, else an UNSUPPORTED error. */
template <typename Fn>
void dispatch_head_dim(int64_t hd, const char* op, Fn&& fn) {
  switch (hd) {
    case 32: fn(std::integral_constant<int, 32>{}); break;
    case 64: fn(std::integral_constant<int, 64>{}); break;
    case 128: fn(std::integral_constant<int, 128>{}); break;
    default:
      throw Error(LMT_ERR_UNSUPPORTED,
                  concat(op, ": head dim C / NH = ", hd, " is not supported by the CUDA backend (32, 64 or 128)"));
  }
}

template <typename Kernel>
void allow_shared_memory(Kernel kernel, size_t bytes) {
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
             "cudaFuncSetAttribute (attention shared memory)");
}

/** 16-byte tile copies are possible: every head slice starts at a multiple of 8 elements of aligned tensors. */
bool vector_loads_ok(int64_t C, const void* a, const void* b) {
  return C % 8 == 0 && reinterpret_cast<uintptr_t>(a) % 16 == 0 && reinterpret_cast<uintptr_t>(b) % 16 == 0;
}

/** Calls fn(type tag) with the 16-bit storage type of dt (bf16 or f16). */
template <typename Fn>
void dispatch_16bit(lmt_dtype dt, const char* op, Fn&& fn) {
  if (dt == LMT_BF16) fn(bf16{});
  else if (dt == LMT_F16) fn(f16{});
  else throw Error(LMT_ERR_UNSUPPORTED, concat(op, ": unsupported dtype ", dtype_name(dt)));
}

}  // namespace

void attention_forward(lmt_ctx& ctx, void* out, float* lse, const void* qkv, const int32_t* key_mask, int64_t B,
                       int64_t T, int64_t C, int64_t NH, int causal, float dropout_p, uint64_t seed, uint64_t offset,
                       lmt_dtype dt) {
  use_device(ctx);
  if (B == 0 || T == 0) return;
  require(B * NH <= 65535, "attention_forward: B * NH = ", B * NH, " exceeds the CUDA grid limit 65535");
  const AttentionParams p = make_params(key_mask, T, C, NH, causal, dropout_p, seed, offset);
  cudaStream_t stream = stream_of(ctx);
  dispatch_head_dim(C / NH, "attention_forward", [&](auto head_dim) {
    constexpr int HD = decltype(head_dim)::value;
    if (dt == LMT_F32) {
      const size_t smem = sizeof(ForwardSmem<HD>);
      allow_shared_memory(attention_forward_kernel<float, HD>, smem);
      attention_forward_kernel<float, HD><<<dim3(blocks_for(T, kFwdQ), static_cast<unsigned>(B * NH)), kThreads,
                                            smem, stream>>>(static_cast<float*>(out), lse,
                                                            static_cast<const float*>(qkv), p);
      check_launch("attention_forward_kernel");
      return;
    }
    const size_t smem = sizeof(MmaForwardSmem<HD>);
    const bool vector = vector_loads_ok(C, qkv, qkv);
    const dim3 grid(blocks_for(T, kMmaRows), static_cast<unsigned>(B * NH));
    dispatch_16bit(dt, "attention_forward", [&](auto type_tag) {
      using E = decltype(type_tag);
      allow_shared_memory(attention_forward_mma_kernel<E, HD>, smem);
      attention_forward_mma_kernel<E, HD><<<grid, kMmaThreads, smem, stream>>>(
          static_cast<E*>(out), lse, static_cast<const E*>(qkv), p, vector);
      check_launch("attention_forward_mma_kernel");
    });
  });
}

void attention_backward(lmt_ctx& ctx, void* dqkv, const void* dout, const void* qkv, const void* out,
                        const float* lse, const int32_t* key_mask, int64_t B, int64_t T, int64_t C, int64_t NH,
                        int causal, float dropout_p, uint64_t seed, uint64_t offset, lmt_dtype dt) {
  use_device(ctx);
  if (B == 0 || T == 0) return;
  require(B * NH <= 65535, "attention_backward: B * NH = ", B * NH, " exceeds the CUDA grid limit 65535");
  const AttentionParams p = make_params(key_mask, T, C, NH, causal, dropout_p, seed, offset);
  cudaStream_t stream = stream_of(ctx);
  dispatch_head_dim(C / NH, "attention_backward", [&](auto head_dim) {
    constexpr int HD = decltype(head_dim)::value;
    StreamScratch row_dot(stream, static_cast<size_t>(B * NH * T) * sizeof(float));
    float* D = row_dot.as<float>();
    constexpr int kRowsPerBlock = kThreads / kWarp;
    const unsigned heads = static_cast<unsigned>(B * NH);
    LMT_DISPATCH_FLOAT(dt, E, {
      attention_row_dot_kernel<E><<<blocks_for(B * NH * T, kRowsPerBlock), kThreads, 0, stream>>>(
          D, static_cast<const E*>(dout), static_cast<const E*>(out), B, T, C, NH);
    });
    check_launch("attention_row_dot_kernel");
    if (dt == LMT_F32) {
      const size_t smem = sizeof(BackwardSmem<HD>);
      float* dx = static_cast<float*>(dqkv);
      const float* g = static_cast<const float*>(dout);
      const float* x = static_cast<const float*>(qkv);
      allow_shared_memory(attention_backward_kv_kernel<float, HD>, smem);
      attention_backward_kv_kernel<float, HD><<<dim3(blocks_for(T, kBwdK), heads), kThreads, smem, stream>>>(
          dx, g, x, lse, D, p);
      check_launch("attention_backward_kv_kernel");
      allow_shared_memory(attention_backward_q_kernel<float, HD>, smem);
      attention_backward_q_kernel<float, HD><<<dim3(blocks_for(T, kBwdQ), heads), kThreads, smem, stream>>>(
          dx, g, x, lse, D, p);
      check_launch("attention_backward_q_kernel");
      return;
    }
    const size_t smem = sizeof(MmaBackwardSmem<HD>);
    const bool vector = vector_loads_ok(C, qkv, dout);
    const dim3 grid(blocks_for(T, kMmaRows), heads);
    dispatch_16bit(dt, "attention_backward", [&](auto type_tag) {
      using E = decltype(type_tag);
      E* dx = static_cast<E*>(dqkv);
      const E* g = static_cast<const E*>(dout);
      const E* x = static_cast<const E*>(qkv);
      allow_shared_memory(attention_backward_kv_mma_kernel<E, HD>, smem);
      attention_backward_kv_mma_kernel<E, HD><<<grid, kMmaThreads, smem, stream>>>(dx, g, x, lse, D, p, vector);
      check_launch("attention_backward_kv_mma_kernel");
      allow_shared_memory(attention_backward_q_mma_kernel<E, HD>, smem);
      attention_backward_q_mma_kernel<E, HD><<<grid, kMmaThreads, smem, stream>>>(dx, g, x, lse, D, p, vector);
      check_launch("attention_backward_q_mma_kernel");
    });
  });
}

}  // namespace lmt::cuda
