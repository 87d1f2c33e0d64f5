// softmax_cross_entropy.cpp — CPU backend: fused softmax + cross-entropy loss and its gradient.
//
//   logits (N, ld) dt: the first V columns of a row are scored, columns [V, ld) are padding (never read)
//   labels (N) in [0, V) or ignore_index, row_weight w (N) F32 (nullable: 1)
//   row_loss (N) F32     = logsumexp(logits_i[0:V]) - logits_i[label_i], 0 for ignored rows
//   loss_sum (1) F32     = sum_i w_i * row_loss_i over non-ignored rows, added in row order
//   predictions (N) I32  = argmax of logits_i[0:V] (lowest column among ties), -1 for ignored rows
//   dlogits (N, ld) dt   = grad_scale * w_i * (softmax(logits_i[0:V]) - onehot(label_i)) in [0, V);
//                          0 in the padding columns and in ignored rows
// The loss is a function of its inputs only, so there is no separate backward: dlogits is the
// gradient of grad_scale * loss_sum and is computed in the same call (in place when it aliases
// logits). Each row reads its logits twice (max, then exp), keeps the exponentials in a per-task
// buffer and writes dlogits once. The max, exp and scaling run 8 lanes wide (vec_math.h's exp8,
// at most 1.01 ulp); the sum of exponentials adds each block of 256 columns in 8 float lanes and the
// blocks in double, in column order. Rows run in parallel and every reduction is within one row or
// in row order, so the results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends.h"
#include "parallel.h"
#include "vec_math.h"

namespace lmt::cpu {
namespace {

constexpr int64_t kElementsPerTask = 1 << 15;
constexpr int64_t kSumBlock = 256;  // columns summed in float lanes before the block joins the double sum

/** Every label is in [0, V) or ignore_index; checked before any output is written. */
void check_labels(const int32_t* labels, int64_t N, int64_t V, int32_t ignore_index) {
  for (int64_t i = 0; i < N; ++i) {
    const int32_t label = labels[i];
    require(label == ignore_index || (label >= 0 && label < V), "labels[", i, "] = ", label,
            " is out of range [0, V = ", V, ") and is not ignore_index (", ignore_index, ")");
  }
}

/** max of row[0..V). */
template <typename T>
LMT_VEC_INLINE float row_max(const T* row, int64_t V) {
  F8 acc = splat(-INFINITY);
  int64_t j = 0;
  for (; j + kLanes <= V; j += kLanes) {
    const F8 v = load8(row + j, kLanes);
    acc = v > acc ? v : acc;
  }
  float mx = -INFINITY;
  for (int64_t l = 0; l < kLanes; ++l) mx = std::max(mx, acc[l]);
  for (; j < V; ++j) mx = std::max(mx, load(row[j]));
  return mx;
}

/** The lowest column of row[0..V) holding mx (the row's maximum). */
template <typename T>
int32_t first_index_of(const T* row, int64_t V, float mx) {
  for (int64_t j = 0; j < V; ++j) {
    if (load(row[j]) == mx) return static_cast<int32_t>(j);
  }
  return 0;  // no column equals the max: the row holds NaN only
}

/** sum over j < V of exp(row[j] - mx), each exponential also stored in exps (when not null). */
template <typename T>
LMT_VEC_INLINE double sum_exp(const T* row, int64_t V, float mx, float* exps) {
  double sum = 0.0;
  for (int64_t b = 0; b < V; b += kSumBlock) {
    const int64_t end = std::min(V, b + kSumBlock);
    F8 acc = splat(0.0f);
    for (int64_t j = b; j < end; j += kLanes) {
      const int64_t n = std::min<int64_t>(kLanes, end - j);
      F8 e = exp8(load8(row + j, n) - splat(mx));
      if (n < kLanes) {
        for (int64_t l = n; l < kLanes; ++l) e[l] = 0.0f;
      }
      if (exps != nullptr) store8(exps + j, e, n);
      acc += e;
    }
    float block = 0.0f;
    for (int64_t l = 0; l < kLanes; ++l) block += acc[l];
    sum += block;
  }
  return sum;
}

/** d[j] = exps[j] * scale for j < V (8 lanes wide). */
template <typename T>
LMT_VEC_INLINE void scaled_store(T* d, const float* exps, int64_t V, float scale) {
  for (int64_t j = 0; j < V; j += kLanes) {
    const int64_t n = std::min<int64_t>(kLanes, V - j);
    store8(d + j, load8(exps + j, n) * splat(scale), n);
  }
}

}  // namespace

void softmax_cross_entropy(lmt_ctx&, float* loss_sum, float* row_loss, int32_t* predictions, void* dlogits,
                           const void* logits, const int32_t* labels, const float* row_weight, int64_t N, int64_t V,
                           int64_t ld, int32_t ignore_index, float grad_scale, lmt_dtype dt) {
  check_labels(labels, N, V, ignore_index);
  std::vector<float> loss_buffer(row_loss == nullptr ? static_cast<size_t>(N) : 0);
  float* loss = row_loss != nullptr ? row_loss : loss_buffer.data();
  LMT_DISPATCH_FLOAT(dt, T, {
    const T* x = static_cast<const T*>(logits);
    T* d = static_cast<T*>(dlogits);
    parallel_for(N, std::max<int64_t>(1, kElementsPerTask / V), [&](int64_t lo, int64_t hi) {
      std::vector<float> exps(d != nullptr ? static_cast<size_t>(V) : 0);  // exp(logit - max) of one row
      with_best_isa([&]() LMT_INLINE_LAMBDA {
        for (int64_t i = lo; i < hi; ++i) {
          const int32_t label = labels[i];
          T* di = d != nullptr ? d + i * ld : nullptr;
          if (label == ignore_index) {
            loss[i] = 0.0f;
            if (predictions != nullptr) predictions[i] = -1;
            if (di != nullptr) std::fill(di, di + ld, store<T>(0.0f));
            continue;
          }
          const T* xi = x + i * ld;
          const float target = load(xi[label]);  // read before di (possibly the same row) is written
          const float mx = row_max(xi, V);
          if (predictions != nullptr) predictions[i] = first_index_of(xi, V, mx);
          const double sum = sum_exp(xi, V, mx, di != nullptr ? exps.data() : nullptr);
          loss[i] = static_cast<float>(mx + std::log(sum) - target);
          if (di != nullptr) {
            const float w = row_weight != nullptr ? row_weight[i] : 1.0f;
            scaled_store(di, exps.data(), V, static_cast<float>(grad_scale * w / sum));
            di[label] = store<T>(static_cast<float>((exps[label] / sum - 1.0) * grad_scale * w));
            std::fill(di + V, di + ld, store<T>(0.0f));
          }
        }
      });
    });
  });
  if (loss_sum != nullptr) {
    double total = 0.0;
    for (int64_t i = 0; i < N; ++i) {
      if (labels[i] != ignore_index) total += static_cast<double>(row_weight != nullptr ? row_weight[i] : 1.0f) * loss[i];
    }
    *loss_sum = static_cast<float>(total);
  }
}

}  // namespace lmt::cpu
