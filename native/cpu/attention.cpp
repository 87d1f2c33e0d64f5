// attention.cpp — CPU backend: multi-head scaled dot-product attention from a packed projection.
//
//   qkv (B, T, 3C): row (b, t) is q | k | v, each (C) = NH heads of hd = C / NH
//   forward:  S_ts = (causal && s > t ? MIN : q_t . k_s / sqrt(hd)) + (key_mask[b, s] == 0 ? MIN : 0)
//             with MIN = -FLT_MAX (Hugging Face: the causal mask replaces, the padding mask adds),
//             P = softmax_s(S), Pd = dropout(P) (keep (seed, offset + ((b NH + h) T + t) T + s),
//             kept values / (1 - p)), out (B, T, C) = Pd V, lse (B, NH, T) F32 = logsumexp_s S_ts
//   backward: dqkv (B, T, 3C) overwritten (activation gradient), recomputing P from lse:
//             dV = Pd^T dO, dP = dropout(dO V^T), D_t = dO_t . O_t, dS = P * (dP - D),
//             dQ = dS K / sqrt(hd), dK = dS^T Q / sqrt(hd); dS is 0 where the causal mask
//             replaced the score (no path to q, k), while the additive padding mask lets it through.
// The masks are applied literally in fp32, so a row whose keys are all masked attends uniformly,
// as in Hugging Face. Such a row's lse rounds to -FLT_MAX; the backward then renormalises the row
// itself instead of using lse.
// Each head's q, k, v (and dO) are gathered into zero-padded fp32 buffers (k and v also transposed),
// and queries are processed in blocks of kQ rows: scores, probabilities and their products with
// V / K come from kQ x kW register tiles. The T x T matrix is never stored; a block's (kQ, T)
// scores live in per-thread scratch. Work is split over (b, h); each head is computed sequentially,
// so results do not depend on the thread count.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <vector>

#include "backends.h"
#include "parallel.h"
#include "rng.h"
#include "vec_math.h"

// The per-head loops are compiled twice, for AVX2 and for the baseline ISA, and picked at load
// time; the helpers they call are forced inline (LMT_VEC_INLINE) so they are vectorised for the same ISA.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LMT_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LMT_VECTOR_CLONES
#endif

namespace lmt::cpu {
namespace {

constexpr float kMaskedScore = -FLT_MAX;  // torch.finfo(torch.float32).min

struct Problem {
  int64_t T, NH, hd;
  bool causal;
  float scale;        // 1 / sqrt(hd)
  float dropout_p;    // 0 disables dropout
  float keep_scale;   // 1 / (1 - dropout_p)
  uint64_t seed, offset;
  const int32_t* key_mask;  // (B, T) or nullptr

  Problem(int64_t T_, int64_t C, int64_t NH_, int causal_, float p, uint64_t seed_, uint64_t offset_,
          const int32_t* key_mask_)
      : T(T_), NH(NH_), hd(C / NH_), causal(causal_ != 0), scale(1.0f / std::sqrt(static_cast<float>(C / NH_))),
        dropout_p(p), keep_scale(1.0f / (1.0f - p)), seed(seed_), offset(offset_), key_mask(key_mask_) {}

  /** Whether dropout keeps element (t, s) of head (b, h)'s probability matrix. */
  LMT_VEC_INLINE bool keep(int64_t b, int64_t h, int64_t t, int64_t s) const {
    if (dropout_p == 0.0f) return true;
    uint64_t index = static_cast<uint64_t>(((b * NH + h) * T + t) * T + s);
    return dropout_keep(seed, offset + index, dropout_p);
  }

  /** Work per head, for the parallel grain. */
  int64_t head_flops() const { return 4 * T * T * hd + 1; }
};

constexpr int64_t kQ = 4;   // query rows per block: the rows of a register tile
constexpr int64_t kW = 16;  // columns of a register tile (two 8-float vectors)

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/**
 * Padded fp32 sizes of one head's scratch, so every register tile is full: Tq = T rounded up to
 * kQ (query rows), Tp = T rounded up to kW (key columns), hdp = hd rounded up to kW. Padding
 * entries are zero.
 */
struct Padded {
  int64_t Tq, Tp, hdp;
  explicit Padded(const Problem& pb) : Tq(round_up(pb.T, kQ)), Tp(round_up(pb.T, kW)), hdp(round_up(pb.hd, kW)) {}
};

/**
 * out (kQ, kW) = a (kQ, n) . b (n, kW), with row strides ldo, lda, ldb. The kQ x kW accumulators
 * stay in registers; b is read once for all kQ rows.
 */
LMT_VEC_INLINE void tile_product(float* out, int64_t ldo, const float* a, int64_t lda, const float* b, int64_t ldb,
                             int64_t n) {
  static_assert(kW == 16, "a tile row is two F8");
  F8 acc[kQ][2] = {};
  for (int64_t k = 0; k < n; ++k) {
    F8 b0, b1;
    std::memcpy(&b0, b + k * ldb, sizeof b0);
    std::memcpy(&b1, b + k * ldb + 8, sizeof b1);
    for (int64_t r = 0; r < kQ; ++r) {
      const float a_rk = a[r * lda + k];
      acc[r][0] += a_rk * b0;
      acc[r][1] += a_rk * b1;
    }
  }
  for (int64_t r = 0; r < kQ; ++r) {
    std::memcpy(out + r * ldo, &acc[r][0], sizeof(F8));
    std::memcpy(out + r * ldo + 8, &acc[r][1], sizeof(F8));
  }
}

/** out (kQ, cols) = a (kQ, n) . b (n, cols) for cols a multiple of kW; strides as in tile_product. */
LMT_VEC_INLINE void block_product(float* out, int64_t ldo, const float* a, int64_t lda, const float* b, int64_t ldb,
                              int64_t n, int64_t cols) {
  for (int64_t j = 0; j < cols; j += kW) tile_product(out + j, ldo, a, lda, b + j, ldb, n);
}

/**
 * y (n) += sum over r < kQ of alpha[r * alpha_stride] x_r (n), x_r = x + r * ldx, added in r order:
 * a rank-kQ update of one row that reads and writes y once.
 */
LMT_VEC_INLINE void rank_update_row(float* y, const float* alpha, int64_t alpha_stride, const float* x, int64_t ldx,
                                    int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float acc = y[i];
    for (int64_t r = 0; r < kQ; ++r) acc += alpha[r * alpha_stride] * x[r * ldx + i];
    y[i] = acc;
  }
}

/** dst (T, ld) fp32 = head (b, h)'s slice of columns [col, col + C) of src (B, T, width). */
template <typename E>
void gather_rows(float* dst, int64_t ld, const E* src, const Problem& pb, int64_t width, int64_t col, int64_t b,
                 int64_t h) {
  for (int64_t t = 0; t < pb.T; ++t) {
    const E* row = src + (b * pb.T + t) * width + col + h * pb.hd;
    for (int64_t i = 0; i < pb.hd; ++i) dst[t * ld + i] = load(row[i]);
  }
}

/** dst (hd, ld) fp32 = the transpose of the slice gather_rows reads. */
template <typename E>
void gather_transposed(float* dst, int64_t ld, const E* src, const Problem& pb, int64_t width, int64_t col,
                       int64_t b, int64_t h) {
  for (int64_t t = 0; t < pb.T; ++t) {
    const E* row = src + (b * pb.T + t) * width + col + h * pb.hd;
    for (int64_t i = 0; i < pb.hd; ++i) dst[i * ld + t] = load(row[i]);
  }
}

/** The reverse of gather_rows: writes src (T, ld) into head (b, h)'s slice of dst, converting to E. */
template <typename E>
void scatter_rows(E* dst, const float* src, int64_t ld, const Problem& pb, int64_t width, int64_t col, int64_t b,
                  int64_t h) {
  for (int64_t t = 0; t < pb.T; ++t) {
    E* row = dst + (b * pb.T + t) * width + col + h * pb.hd;
    for (int64_t i = 0; i < pb.hd; ++i) row[i] = store<E>(src[t * ld + i]);
  }
}

/** Scores of one query row: S_ts for keys [0, end), the rest having probability exactly 0. */
struct RowScores {
  int64_t end;
  float max;
};

/**
 * row[s] holds q_t . k_s for the keys s < visible(t); makes it S_ts (see the header) for s < end.
 * Causally excluded keys are left out unless every visible key is masked: then their MIN scores tie
 * with the row maximum and take part, as in Hugging Face.
 */
LMT_VEC_INLINE RowScores finish_scores(float* row, const Problem& pb, const int32_t* mask_b, int64_t t) {
  const int64_t visible = pb.causal ? t + 1 : pb.T;
  float max = -INFINITY;
  for (int64_t s = 0; s < visible; ++s) {
    float score = pb.scale * row[s];
    if (mask_b && mask_b[s] == 0) score += kMaskedScore;
    row[s] = score;
    max = std::max(max, score);
  }
  if (visible == pb.T || std::exp(kMaskedScore - max) == 0.0f) return {visible, max};
  for (int64_t s = visible; s < pb.T; ++s) {
    row[s] = kMaskedScore + (mask_b && mask_b[s] == 0 ? kMaskedScore : 0.0f);  // -inf when padded too
  }
  return {pb.T, max};
}

/**
 * p (kQ, Tp) = the probabilities P_ts of queries t = t0 + r (rows past T are 0) from q (Tq, hd) and
 * kt (hd, Tp). The forward (saved_lse null) normalises each row and writes lse; the backward
 * reuses saved_lse, except for fully masked rows whose lse rounded to MIN. Returns n: every key
 * s >= n has probability 0 in all rows of the block (and p is 0 there up to n).
 */
LMT_VEC_INLINE int64_t block_probabilities(float* p, const float* q, const float* kt, const Problem& pb,
                                       const Padded& sz, const int32_t* mask_b, int64_t t0, float* lse,
                                       const float* saved_lse) {
  const int64_t keys = pb.causal ? std::min(pb.T, t0 + kQ) : pb.T;  // keys with a dot product
  block_product(p, sz.Tp, q + t0 * pb.hd, pb.hd, kt, sz.Tp, pb.hd, round_up(keys, kW));
  int64_t end[kQ];
  int64_t n = 0;
  for (int64_t r = 0; r < kQ; ++r) {
    const int64_t t = t0 + r;
    end[r] = 0;
    if (t >= pb.T) continue;
    float* row = p + r * sz.Tp;
    const RowScores scores = finish_scores(row, pb, mask_b, t);
    end[r] = scores.end;
    n = std::max(n, scores.end);
    if (saved_lse && saved_lse[t] > kMaskedScore) {
      for (int64_t s = 0; s < scores.end; ++s) row[s] = std::exp(row[s] - saved_lse[t]);
      continue;
    }
    float sum = 0.0f;
    for (int64_t s = 0; s < scores.end; ++s) {
      row[s] = std::exp(row[s] - scores.max);
      sum += row[s];
    }
    const float inv_sum = 1.0f / sum;
    for (int64_t s = 0; s < scores.end; ++s) row[s] *= inv_sum;
    if (lse) lse[t] = scores.max + std::log(sum);
  }
  for (int64_t r = 0; r < kQ; ++r) std::fill(p + r * sz.Tp + end[r], p + r * sz.Tp + n, 0.0f);
  return n;
}

/**
 * out (Tq, hdp) and lse (T) of head (b, h) from q (Tq, hd), kt (hd, Tp), v (T, hdp); p is a
 * (kQ, Tp) scratch block.
 */
LMT_VECTOR_CLONES void head_forward(float* out, float* lse, float* p, const float* q, const float* kt, const float* v,
                                    const Problem& pb, const Padded& sz, int64_t b, int64_t h) {
  const int32_t* mask_b = pb.key_mask ? pb.key_mask + b * pb.T : nullptr;
  for (int64_t t0 = 0; t0 < pb.T; t0 += kQ) {
    const int64_t n = block_probabilities(p, q, kt, pb, sz, mask_b, t0, lse, nullptr);
    if (pb.dropout_p > 0.0f) {
      for (int64_t r = 0; r < kQ && t0 + r < pb.T; ++r) {
        float* row = p + r * sz.Tp;
        for (int64_t s = 0; s < n; ++s) row[s] = pb.keep(b, h, t0 + r, s) ? row[s] * pb.keep_scale : 0.0f;
      }
    }
    block_product(out + t0 * sz.hdp, sz.hdp, p, sz.Tp, v, sz.hdp, n, sz.hdp);
  }
}

/**
 * dq (Tq, hdp), dk, dv (T, hdp), overwritten, of head (b, h) from q, dout (Tq, hd), k (T, hdp),
 * kt, vt (hd, Tp), D (Tq) = dO_t . O_t and the saved lse (T); p and ds are (kQ, Tp) scratch blocks.
 */
LMT_VECTOR_CLONES void head_backward(float* dq, float* dk, float* dv, float* p, float* ds, const float* q,
                                     const float* dout, const float* k, const float* kt, const float* vt,
                                     const float* D, const float* lse, const Problem& pb, const Padded& sz, int64_t b,
                                     int64_t h) {
  const int32_t* mask_b = pb.key_mask ? pb.key_mask + b * pb.T : nullptr;
  std::fill(dk, dk + pb.T * sz.hdp, 0.0f);
  std::fill(dv, dv + pb.T * sz.hdp, 0.0f);
  for (int64_t t0 = 0; t0 < pb.T; t0 += kQ) {
    const int64_t n = block_probabilities(p, q, kt, pb, sz, mask_b, t0, nullptr, lse);
    block_product(ds, sz.Tp, dout + t0 * pb.hd, pb.hd, vt, sz.Tp, pb.hd, round_up(n, kW));  // dPd = dO V^T
    for (int64_t r = 0; r < kQ; ++r) {
      const int64_t t = t0 + r;
      float* p_row = p + r * sz.Tp;
      float* ds_row = ds + r * sz.Tp;
      for (int64_t s = 0; s < n; ++s) {
        if (p_row[s] == 0.0f) {
          ds_row[s] = 0.0f;
          continue;
        }
        const float keep = pb.keep(b, h, t, s) ? pb.keep_scale : 0.0f;
        const float dp = ds_row[s] * keep;  // d loss / d P_ts through the dropout mask
        // the causal mask replaced the score of s > t, so no gradient reaches q, k there (only a
        // fully masked row has p > 0 at such s)
        ds_row[s] = pb.causal && s > t ? 0.0f : p_row[s] * (dp - D[t]) * pb.scale;
        p_row[s] *= keep;  // now Pd
      }
    }
    block_product(dq + t0 * sz.hdp, sz.hdp, ds, sz.Tp, k, sz.hdp, n, sz.hdp);  // dQ = dS K scale
    for (int64_t s = 0; s < n; ++s) {  // rank-kQ updates: dV += Pd^T dO, dK += dS^T Q scale
      rank_update_row(dv + s * sz.hdp, p + s, sz.Tp, dout + t0 * pb.hd, pb.hd, pb.hd);
      rank_update_row(dk + s * sz.hdp, ds + s, sz.Tp, q + t0 * pb.hd, pb.hd, pb.hd);
    }
  }
}

}  // namespace

void attention_forward(lmt_ctx&, void* out, float* lse, const void* qkv, const int32_t* key_mask, int64_t B,
                       int64_t T, int64_t C, int64_t NH, int causal, float dropout_p, uint64_t seed, uint64_t offset,
                       lmt_dtype dt) {
  const Problem pb(T, C, NH, causal, dropout_p, seed, offset, key_mask);
  const Padded sz(pb);
  LMT_DISPATCH_FLOAT(dt, E, {
    const E* in = static_cast<const E*>(qkv);
    E* o = static_cast<E*>(out);
    parallel_for(B * NH, std::max<int64_t>(1, (1 << 18) / pb.head_flops()), [&](int64_t lo, int64_t hi) {
      // q (Tq, hd), kt (hd, Tp), v (T, hdp), out (Tq, hdp) of one head, a probability block (kQ, Tp);
      // zero-initialised, and the gathers never write the padding
      std::vector<float> scratch(
          static_cast<size_t>(sz.Tq * pb.hd + pb.hd * sz.Tp + T * sz.hdp + sz.Tq * sz.hdp + kQ * sz.Tp));
      float* q = scratch.data();
      float* kt = q + sz.Tq * pb.hd;
      float* v = kt + pb.hd * sz.Tp;
      float* o_head = v + T * sz.hdp;
      float* p = o_head + sz.Tq * sz.hdp;
      for (int64_t bh = lo; bh < hi; ++bh) {
        const int64_t b = bh / NH, h = bh % NH;
        gather_rows(q, pb.hd, in, pb, 3 * C, 0, b, h);
        gather_transposed(kt, sz.Tp, in, pb, 3 * C, C, b, h);
        gather_rows(v, sz.hdp, in, pb, 3 * C, 2 * C, b, h);
        head_forward(o_head, lse + bh * T, p, q, kt, v, pb, sz, b, h);
        scatter_rows(o, o_head, sz.hdp, pb, C, 0, b, h);
      }
    });
  });
}

void attention_backward(lmt_ctx&, void* dqkv, const void* dout, const void* qkv, const void* out, const float* lse,
                        const int32_t* key_mask, int64_t B, int64_t T, int64_t C, int64_t NH, int causal,
                        float dropout_p, uint64_t seed, uint64_t offset, lmt_dtype dt) {
  const Problem pb(T, C, NH, causal, dropout_p, seed, offset, key_mask);
  const Padded sz(pb);
  LMT_DISPATCH_FLOAT(dt, E, {
    const E* in = static_cast<const E*>(qkv);
    const E* d_out = static_cast<const E*>(dout);
    const E* o = static_cast<const E*>(out);
    E* d_in = static_cast<E*>(dqkv);
    parallel_for(B * NH, std::max<int64_t>(1, (1 << 18) / (2 * pb.head_flops())), [&](int64_t lo, int64_t hi) {
      // q, dout (Tq, hd); k, dk, dv (T, hdp); kt, vt (hd, Tp); dq (Tq, hdp); D (Tq); p, ds blocks (kQ, Tp);
      // zero-initialised, and the gathers never write the padding
      const int64_t rows = sz.Tq * pb.hd, cols = T * sz.hdp, transposed = pb.hd * sz.Tp;
      std::vector<float> scratch(
          static_cast<size_t>(2 * rows + 3 * cols + 2 * transposed + sz.Tq * sz.hdp + sz.Tq + 2 * kQ * sz.Tp));
      float* q = scratch.data();
      float* dout_head = q + rows;
      float* k = dout_head + rows;
      float* dk = k + cols;
      float* dv = dk + cols;
      float* kt = dv + cols;
      float* vt = kt + transposed;
      float* dq = vt + transposed;
      float* D = dq + sz.Tq * sz.hdp;
      float* p = D + sz.Tq;
      float* ds = p + kQ * sz.Tp;
      for (int64_t bh = lo; bh < hi; ++bh) {
        const int64_t b = bh / NH, h = bh % NH;
        gather_rows(q, pb.hd, in, pb, 3 * C, 0, b, h);
        gather_rows(k, sz.hdp, in, pb, 3 * C, C, b, h);
        gather_transposed(kt, sz.Tp, in, pb, 3 * C, C, b, h);
        gather_transposed(vt, sz.Tp, in, pb, 3 * C, 2 * C, b, h);
        gather_rows(dout_head, pb.hd, d_out, pb, C, 0, b, h);
        for (int64_t t = 0; t < T; ++t) {  // D_t = dO_t . O_t with the forward's (rounded) output
          const E* o_row = o + (b * T + t) * C + h * pb.hd;
          float sum = 0.0f;
          for (int64_t i = 0; i < pb.hd; ++i) sum += dout_head[t * pb.hd + i] * load(o_row[i]);
          D[t] = sum;
        }
        head_backward(dq, dk, dv, p, ds, q, dout_head, k, kt, vt, D, lse + bh * T, pb, sz, b, h);
        scatter_rows(d_in, dq, sz.hdp, pb, 3 * C, 0, b, h);
        scatter_rows(d_in, dk, sz.hdp, pb, 3 * C, C, b, h);
        scatter_rows(d_in, dv, sz.hdp, pb, 3 * C, 2 * C, b, h);
      }
    });
  });
}

}  // namespace lmt::cpu
