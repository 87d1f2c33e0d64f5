// layernorm.cpp — CPU backend: LayerNorm over the last dimension, forward and backward.
//
//   forward:  mean (N), rstd (N) F32 = statistics of each row of x (N, C) (biased variance)
//             out (N, C) = (x - mean) * rstd * weight (C) + bias (C)
//   backward: with xhat = (x - mean) * rstd and g = dout * weight,
//             dx (N, C)      = rstd * (g - mean_c(g) - xhat * mean_c(g * xhat))   (activation gradient: overwritten)
//             dweight (C)   += sum over rows of dout * xhat                        (parameter gradients: accumulated)
//             dbias (C)     += sum over rows of dout
// Rows are independent and run in parallel. The parameter gradients are reduced per fixed block of
// kRowsPerBlock rows (boundaries depend on N only), then the block partials are added in block
// order, so the result has the same bits for any thread count. Row sums use kLanes interleaved
// accumulators: a fixed order the compiler can vectorise.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends.h"
#include "parallel.h"

namespace lmt::cpu {
namespace {

constexpr int64_t kRowsPerBlock = 32;
constexpr int64_t kElementsPerTask = 1 << 14;
constexpr int kLanes = 8;

/** sum of term(j) for j in [0, n) over kLanes interleaved partial sums (order depends on n only). */
template <typename Term>
float lane_sum(int64_t n, Term term) {
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int k = 0; k < kLanes; ++k) acc[k] += term(j + k);
  }
  for (int k = 0; j < n; ++j, ++k) acc[k] += term(j);
  float total = 0.0f;
  for (int k = 0; k < kLanes; ++k) total += acc[k];
  return total;
}

template <typename T>
std::vector<float> to_float(const void* src, int64_t n) {
  const T* s = static_cast<const T*>(src);
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) out[j] = load(s[j]);
  return out;
}

int64_t rows_per_task(int64_t C) { return std::max<int64_t>(1, kElementsPerTask / C); }

}  // namespace

void layernorm_forward(lmt_ctx&, void* out, float* mean, float* rstd, const void* x, const void* weight,
                       const void* bias, int64_t N, int64_t C, float eps, lmt_dtype dt) {
  LMT_DISPATCH_FLOAT(dt, T, {
    const std::vector<float> w = to_float<T>(weight, C);
    const std::vector<float> b = to_float<T>(bias, C);
    const T* in = static_cast<const T*>(x);
    T* o = static_cast<T*>(out);
    parallel_for(N, rows_per_task(C), [&](int64_t lo, int64_t hi) {
      std::vector<float> centered(static_cast<size_t>(C));
      float* xc = centered.data();
      for (int64_t i = lo; i < hi; ++i) {
        const T* xi = in + i * C;
        T* oi = o + i * C;
        for (int64_t j = 0; j < C; ++j) xc[j] = load(xi[j]);
        const float mu = lane_sum(C, [&](int64_t j) { return xc[j]; }) / static_cast<float>(C);
        for (int64_t j = 0; j < C; ++j) xc[j] -= mu;
        const float var = lane_sum(C, [&](int64_t j) { return xc[j] * xc[j]; }) / static_cast<float>(C);
        const float r = 1.0f / std::sqrt(var + eps);
        for (int64_t j = 0; j < C; ++j) oi[j] = store<T>(xc[j] * r * w[j] + b[j]);
        mean[i] = mu;
        rstd[i] = r;
      }
    });
  });
}

void layernorm_backward(lmt_ctx&, void* dx, float* dweight, float* dbias, const void* dout, const void* x,
                        const void* weight, const float* mean, const float* rstd, int64_t N, int64_t C,
                        lmt_dtype dt) {
  const int64_t blocks = (N + kRowsPerBlock - 1) / kRowsPerBlock;
  // (blocks, C) partial sums of dout * xhat and of dout, one row per block of kRowsPerBlock rows
  std::vector<float> dweight_partial(static_cast<size_t>(blocks * C), 0.0f);
  std::vector<float> dbias_partial(static_cast<size_t>(blocks * C), 0.0f);
  LMT_DISPATCH_FLOAT(dt, T, {
    const std::vector<float> w = to_float<T>(weight, C);
    const T* in = static_cast<const T*>(x);
    const T* gout = static_cast<const T*>(dout);
    T* gin = static_cast<T*>(dx);
    const int64_t blocks_per_task = std::max<int64_t>(1, rows_per_task(C) / kRowsPerBlock);
    parallel_for(blocks, blocks_per_task, [&](int64_t block_lo, int64_t block_hi) {
      std::vector<float> xhat_row(static_cast<size_t>(C));
      std::vector<float> dout_row(static_cast<size_t>(C));
      float* xhat = xhat_row.data();
      float* dy = dout_row.data();
      for (int64_t blk = block_lo; blk < block_hi; ++blk) {
        float* pdw = dweight_partial.data() + blk * C;
        float* pdb = dbias_partial.data() + blk * C;
        const int64_t row_end = std::min(N, (blk + 1) * kRowsPerBlock);
        for (int64_t i = blk * kRowsPerBlock; i < row_end; ++i) {
          const T* xi = in + i * C;
          const T* gi = gout + i * C;
          const float mu = mean[i];
          const float r = rstd[i];
          for (int64_t j = 0; j < C; ++j) {
            xhat[j] = (load(xi[j]) - mu) * r;
            dy[j] = load(gi[j]);
            pdw[j] += dy[j] * xhat[j];
            pdb[j] += dy[j];
          }
          const float inv_c = 1.0f / static_cast<float>(C);
          const float g_mean = lane_sum(C, [&](int64_t j) { return dy[j] * w[j]; }) * inv_c;
          const float g_xhat_mean = lane_sum(C, [&](int64_t j) { return dy[j] * w[j] * xhat[j]; }) * inv_c;
          T* dxi = gin + i * C;  // written after the row is read, so dx may even alias dout
          for (int64_t j = 0; j < C; ++j) dxi[j] = store<T>(r * (dy[j] * w[j] - g_mean - xhat[j] * g_xhat_mean));
        }
      }
    });
  });
  // dweight, dbias (C) += block partials summed in block order
  parallel_for(C, kElementsPerTask / blocks + 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> dw(static_cast<size_t>(hi - lo), 0.0f);
    std::vector<float> db(static_cast<size_t>(hi - lo), 0.0f);
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const float* pdw = dweight_partial.data() + blk * C + lo;
      const float* pdb = dbias_partial.data() + blk * C + lo;
      for (int64_t j = 0; j < hi - lo; ++j) {
        dw[j] += pdw[j];
        db[j] += pdb[j];
      }
    }
    for (int64_t j = 0; j < hi - lo; ++j) {
      dweight[lo + j] += dw[j];
      dbias[lo + j] += db[j];
    }
  });
}

}  // namespace lmt::cpu
