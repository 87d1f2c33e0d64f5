// softmax_cross_entropy.cpp — CPU backend: fused softmax + cross-entropy loss and its gradient.
//
//   logits (N, V) dt, labels (N) in [0, V) or ignore_index, row_weight w (N) F32 (nullable: 1)
//   row_loss (N) F32  = logsumexp(logits_i) - logits_i[label_i], 0 for ignored rows
//   loss_sum (1) F32  = sum_i w_i * row_loss_i over non-ignored rows, added in row order
//   dlogits (N, V) dt = grad_scale * w_i * (softmax(logits_i) - onehot(label_i)), 0 for ignored rows
// The loss is a function of its inputs only, so there is no separate backward: dlogits is the
// gradient of grad_scale * loss_sum and is computed in the same call (in place when it aliases
// logits). Each row reads the logits twice (max, then exp), keeps the exponentials in a per-task
// buffer and writes dlogits once. Rows run in parallel; every reduction is within one row or in
// row order, so the results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends.h"
#include "parallel.h"

namespace lmt::cpu {
namespace {

constexpr int64_t kElementsPerTask = 1 << 15;
constexpr int kLanes = 8;

/** Every label is in [0, V) or ignore_index; checked before any output is written. */
void check_labels(const int32_t* labels, int64_t N, int64_t V, int32_t ignore_index) {
  for (int64_t i = 0; i < N; ++i) {
    const int32_t label = labels[i];
    require(label == ignore_index || (label >= 0 && label < V), "labels[", i, "] = ", label,
            " is out of range [0, V = ", V, ") and is not ignore_index (", ignore_index, ")");
  }
}

/** max of row[0..V) over kLanes interleaved maxima (vectorisable). */
template <typename T>
float row_max(const T* row, int64_t V) {
  float acc[kLanes];
  for (int k = 0; k < kLanes; ++k) acc[k] = -INFINITY;
  int64_t j = 0;
  for (; j + kLanes <= V; j += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const float v = load(row[j + k]);
      acc[k] = v > acc[k] ? v : acc[k];
    }
  }
  for (; j < V; ++j) acc[0] = std::max(acc[0], load(row[j]));
  return *std::max_element(acc, acc + kLanes);
}

}  // namespace

void softmax_cross_entropy(lmt_ctx&, float* loss_sum, float* row_loss, void* dlogits, const void* logits,
                           const int32_t* labels, const float* row_weight, int64_t N, int64_t V,
                           int32_t ignore_index, float grad_scale, lmt_dtype dt) {
  check_labels(labels, N, V, ignore_index);
  std::vector<float> loss_buffer(row_loss == nullptr ? static_cast<size_t>(N) : 0);
  float* loss = row_loss != nullptr ? row_loss : loss_buffer.data();
  LMT_DISPATCH_FLOAT(dt, T, {
    const T* x = static_cast<const T*>(logits);
    T* d = static_cast<T*>(dlogits);
    parallel_for(N, std::max<int64_t>(1, kElementsPerTask / V), [&](int64_t lo, int64_t hi) {
      std::vector<float> exps(d != nullptr ? static_cast<size_t>(V) : 0);  // exp(logit - max) of one row
      for (int64_t i = lo; i < hi; ++i) {
        const int32_t label = labels[i];
        T* di = d != nullptr ? d + i * V : nullptr;
        if (label == ignore_index) {
          loss[i] = 0.0f;
          if (di != nullptr) std::fill(di, di + V, store<T>(0.0f));
          continue;
        }
        const T* xi = x + i * V;
        const float target = load(xi[label]);  // read before di (possibly the same row) is written
        const float mx = row_max(xi, V);
        double sum = 0.0;
        if (di != nullptr) {
          for (int64_t j = 0; j < V; ++j) {
            exps[j] = std::exp(load(xi[j]) - mx);
            sum += exps[j];
          }
        } else {
          for (int64_t j = 0; j < V; ++j) sum += std::exp(load(xi[j]) - mx);
        }
        loss[i] = static_cast<float>(mx + std::log(sum) - target);
        if (di != nullptr) {
          const float w = row_weight != nullptr ? row_weight[i] : 1.0f;
          const float scale = static_cast<float>(grad_scale * w / sum);
          for (int64_t j = 0; j < V; ++j) di[j] = store<T>(exps[j] * scale);
          di[label] = store<T>(static_cast<float>((exps[label] / sum - 1.0) * grad_scale * w));
        }
      }
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
