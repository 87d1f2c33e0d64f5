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
// itself instead of using lse. The T x T matrix is never stored: each query row is recomputed in a
// per-thread scratch row. Work is split over (b, h); each head's result is computed sequentially,
// so it does not depend on the thread count.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "backends.h"
#include "parallel.h"
#include "rng.h"

// The per-head loops are compiled twice, for AVX2 and for the baseline ISA, and picked at load
// time; the helpers they call are forced inline so they are vectorised for the same ISA.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LMT_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#define LMT_INLINE inline __attribute__((always_inline))
#else
#define LMT_VECTOR_CLONES
#define LMT_INLINE inline
#endif

namespace lmt::cpu {
namespace {

constexpr float kMaskedScore = -FLT_MAX;  // torch.finfo(torch.float32).min

struct Problem {
  int64_t B, T, C, NH, hd;
  bool causal;
  float scale;        // 1 / sqrt(hd)
  float dropout_p;    // 0 disables dropout
  float keep_scale;   // 1 / (1 - dropout_p)
  uint64_t seed, offset;
  const int32_t* key_mask;  // (B, T) or nullptr

  Problem(int64_t B_, int64_t T_, int64_t C_, int64_t NH_, int causal_, float p, uint64_t seed_, uint64_t offset_,
          const int32_t* key_mask_)
      : B(B_), T(T_), C(C_), NH(NH_), hd(C_ / NH_), causal(causal_ != 0),
        scale(1.0f / std::sqrt(static_cast<float>(C_ / NH_))), dropout_p(p), keep_scale(1.0f / (1.0f - p)),
        seed(seed_), offset(offset_), key_mask(key_mask_) {}

  /** Whether dropout keeps element (t, s) of head (b, h)'s probability matrix. */
  LMT_INLINE bool keep(int64_t b, int64_t h, int64_t t, int64_t s) const {
    if (dropout_p == 0.0f) return true;
    uint64_t index = static_cast<uint64_t>(((b * NH + h) * T + t) * T + s);
    return dropout_keep(seed, offset + index, dropout_p);
  }

  /** Work per head, for the parallel grain. */
  int64_t head_flops() const { return 4 * T * T * hd + 1; }
};

LMT_INLINE float dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {};  // eight partial sums: vectorises without reassociation flags
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

/** y (n) += alpha x (n). */
LMT_INLINE void axpy(float* y, float alpha, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

/** Head (b, h)'s slice (T, hd) of the columns [col, col + C) of a (B, T, width) tensor, in fp32. */
template <typename T>
void gather_head(float* dst, const T* src, const Problem& pb, int64_t width, int64_t col, int64_t b, int64_t h) {
  for (int64_t t = 0; t < pb.T; ++t) {
    const T* row = src + (b * pb.T + t) * width + col + h * pb.hd;
    for (int64_t i = 0; i < pb.hd; ++i) dst[t * pb.hd + i] = load(row[i]);
  }
}

/** The reverse of gather_head: writes a head's (T, hd) fp32 slice into dst, converting to T. */
template <typename T>
void scatter_head(T* dst, const float* src, const Problem& pb, int64_t width, int64_t col, int64_t b, int64_t h) {
  for (int64_t t = 0; t < pb.T; ++t) {
    T* row = dst + (b * pb.T + t) * width + col + h * pb.hd;
    for (int64_t i = 0; i < pb.hd; ++i) row[i] = store<T>(src[t * pb.hd + i]);
  }
}

/** Scores of one query row: S_ts for keys [0, end), the rest having probability exactly 0. */
struct RowScores {
  int64_t end;
  float max;
};

/**
 * scores[s] = S_ts (see the header) for s < end. Causally excluded keys are skipped unless the
 * visible keys are all masked: then their MIN scores tie with the row maximum and take part.
 */
LMT_INLINE RowScores row_scores(float* scores, const Problem& pb, const float* q, const float* k, const int32_t* mask_b,
                     int64_t t) {
  const int64_t visible = pb.causal ? t + 1 : pb.T;
  float max = -INFINITY;
  for (int64_t s = 0; s < visible; ++s) {
    float score = pb.scale * dot(q + t * pb.hd, k + s * pb.hd, pb.hd);
    if (mask_b && mask_b[s] == 0) score += kMaskedScore;
    scores[s] = score;
    max = std::max(max, score);
  }
  if (visible == pb.T || std::exp(kMaskedScore - max) == 0.0f) return {visible, max};
  for (int64_t s = visible; s < pb.T; ++s) {
    scores[s] = kMaskedScore + (mask_b && mask_b[s] == 0 ? kMaskedScore : 0.0f);  // -inf when padded too
  }
  return {pb.T, max};
}

/** out (T, hd) and lse (T) of head (b, h) from its q, k, v (T, hd); scores is a (T) scratch row. */
LMT_VECTOR_CLONES void head_forward(float* out, float* lse, float* scores, const float* q, const float* k,
                                    const float* v, const Problem& pb, int64_t b, int64_t h) {
  const int32_t* mask_b = pb.key_mask ? pb.key_mask + b * pb.T : nullptr;
  for (int64_t t = 0; t < pb.T; ++t) {
    const RowScores row = row_scores(scores, pb, q, k, mask_b, t);
    float sum = 0.0f;
    for (int64_t s = 0; s < row.end; ++s) {
      scores[s] = std::exp(scores[s] - row.max);
      sum += scores[s];
    }
    lse[t] = row.max + std::log(sum);
    float* o = out + t * pb.hd;
    std::fill(o, o + pb.hd, 0.0f);
    const float inv_sum = 1.0f / sum;
    for (int64_t s = 0; s < row.end; ++s) {
      if (scores[s] == 0.0f || !pb.keep(b, h, t, s)) continue;
      axpy(o, scores[s] * inv_sum * pb.keep_scale, v + s * pb.hd, pb.hd);
    }
  }
}

/**
 * dq, dk, dv (T, hd), overwritten, of head (b, h) from its q, k, v, dout (T, hd), the forward's
 * output rows dot products D (T) = dO_t . O_t and lse (T); scores is a (T) scratch row.
 */
LMT_VECTOR_CLONES void head_backward(float* dq, float* dk, float* dv, float* scores, const float* q, const float* k,
                                     const float* v, const float* dout, const float* D, const float* lse,
                                     const Problem& pb, int64_t b, int64_t h) {
  const int32_t* mask_b = pb.key_mask ? pb.key_mask + b * pb.T : nullptr;
  const int64_t n = pb.T * pb.hd;
  std::fill(dq, dq + n, 0.0f);
  std::fill(dk, dk + n, 0.0f);
  std::fill(dv, dv + n, 0.0f);
  for (int64_t t = 0; t < pb.T; ++t) {
    const RowScores row = row_scores(scores, pb, q, k, mask_b, t);
    if (lse[t] > kMaskedScore) {
      for (int64_t s = 0; s < row.end; ++s) scores[s] = std::exp(scores[s] - lse[t]);
    } else {  // all keys masked: lse rounded to MIN, so renormalise the (uniform) row here
      float sum = 0.0f;
      for (int64_t s = 0; s < row.end; ++s) {
        scores[s] = std::exp(scores[s] - row.max);
        sum += scores[s];
      }
      for (int64_t s = 0; s < row.end; ++s) scores[s] /= sum;
    }
    const float* q_t = q + t * pb.hd;
    const float* dout_t = dout + t * pb.hd;
    float* dq_t = dq + t * pb.hd;
    for (int64_t s = 0; s < row.end; ++s) {
      const float p = scores[s];
      if (p == 0.0f) continue;
      float dp = 0.0f;  // d loss / d P_ts through the dropout mask
      if (pb.keep(b, h, t, s)) {
        axpy(dv + s * pb.hd, p * pb.keep_scale, dout_t, pb.hd);
        dp = dot(dout_t, v + s * pb.hd, pb.hd) * pb.keep_scale;
      }
      if (pb.causal && s > t) continue;  // the causal mask replaced this score: no gradient to q, k
      const float ds = p * (dp - D[t]) * pb.scale;
      axpy(dq_t, ds, k + s * pb.hd, pb.hd);
      axpy(dk + s * pb.hd, ds, q_t, pb.hd);
    }
  }
}

}  // namespace

void attention_forward(lmt_ctx&, void* out, float* lse, const void* qkv, const int32_t* key_mask, int64_t B,
                       int64_t T, int64_t C, int64_t NH, int causal, float dropout_p, uint64_t seed, uint64_t offset,
                       lmt_dtype dt) {
  const Problem pb(B, T, C, NH, causal, dropout_p, seed, offset, key_mask);
  LMT_DISPATCH_FLOAT(dt, E, {
    const E* in = static_cast<const E*>(qkv);
    E* o = static_cast<E*>(out);
    parallel_for(B * NH, std::max<int64_t>(1, (1 << 18) / pb.head_flops()), [&](int64_t lo, int64_t hi) {
      const int64_t n = T * pb.hd;
      std::vector<float> scratch(static_cast<size_t>(4 * n + T));  // q, k, v, out of one head; a score row
      float *q = scratch.data(), *k = q + n, *v = k + n, *o_head = v + n, *scores = o_head + n;
      for (int64_t bh = lo; bh < hi; ++bh) {
        const int64_t b = bh / NH, h = bh % NH;
        gather_head(q, in, pb, 3 * C, 0, b, h);
        gather_head(k, in, pb, 3 * C, C, b, h);
        gather_head(v, in, pb, 3 * C, 2 * C, b, h);
        head_forward(o_head, lse + bh * T, scores, q, k, v, pb, b, h);
        scatter_head(o, o_head, pb, C, 0, b, h);
      }
    });
  });
}

void attention_backward(lmt_ctx&, void* dqkv, const void* dout, const void* qkv, const void* out, const float* lse,
                        const int32_t* key_mask, int64_t B, int64_t T, int64_t C, int64_t NH, int causal,
                        float dropout_p, uint64_t seed, uint64_t offset, lmt_dtype dt) {
  const Problem pb(B, T, C, NH, causal, dropout_p, seed, offset, key_mask);
  LMT_DISPATCH_FLOAT(dt, E, {
    const E* in = static_cast<const E*>(qkv);
    const E* d_out = static_cast<const E*>(dout);
    const E* o = static_cast<const E*>(out);
    E* d_in = static_cast<E*>(dqkv);
    parallel_for(B * NH, std::max<int64_t>(1, (1 << 18) / (2 * pb.head_flops())), [&](int64_t lo, int64_t hi) {
      const int64_t n = T * pb.hd;
      // q, k, v, dO, the forward's O, dq, dk, dv of one head; D; a score row
      std::vector<float> scratch(static_cast<size_t>(8 * n + 2 * T));
      float *q = scratch.data(), *k = q + n, *v = k + n, *dout_head = v + n, *o_head = dout_head + n;
      float *dq = o_head + n, *dk = dq + n, *dv = dk + n, *D = dv + n, *scores = D + T;
      for (int64_t bh = lo; bh < hi; ++bh) {
        const int64_t b = bh / NH, h = bh % NH;
        gather_head(q, in, pb, 3 * C, 0, b, h);
        gather_head(k, in, pb, 3 * C, C, b, h);
        gather_head(v, in, pb, 3 * C, 2 * C, b, h);
        gather_head(dout_head, d_out, pb, C, 0, b, h);
        gather_head(o_head, o, pb, C, 0, b, h);
        for (int64_t t = 0; t < T; ++t) D[t] = dot(dout_head + t * pb.hd, o_head + t * pb.hd, pb.hd);
        head_backward(dq, dk, dv, scores, q, k, v, dout_head, D, lse + bh * T, pb, b, h);
        scatter_head(d_in, dq, pb, 3 * C, 0, b, h);
        scatter_head(d_in, dk, pb, 3 * C, C, b, h);
        scatter_head(d_in, dv, pb, 3 * C, 2 * C, b, h);
      }
    });
  });
}

}  // namespace lmt::cpu
