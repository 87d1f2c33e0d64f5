// softmax_cross_entropy.cu — CUDA backend: fused softmax + cross-entropy loss and its gradient.
//
//   logits (N, ld) dt: the first V columns of a row are scored, columns [V, ld) are padding (never read)
//   labels (N) in [0, V) or ignore_index, row_weight w (N) F32 (nullable: 1)
//   row_loss (N) F32     = logsumexp(logits_i[0:V]) - logits_i[label_i], 0 for ignored rows
//   loss_sum (1) F32     = sum_i w_i * row_loss_i over non-ignored rows
//   predictions (N) I32  = argmax of logits_i[0:V] (lowest column among ties), -1 for ignored rows
//   dlogits (N, ld) dt   = grad_scale * w_i * (softmax(logits_i[0:V]) - onehot(label_i)) in [0, V);
//                          0 in the padding columns and in ignored rows
// The loss is a function of its inputs only, so there is no separate backward: dlogits is the
// gradient of grad_scale * loss_sum and is computed in the same call (in place when it aliases
// logits).
//
// One block per row: one read pass keeps a per-thread online (max, sum of exp, first column of the
// max) triple, merged across the block in a fixed tree; one write pass produces dlogits. loss_sum is deterministic: per-row
// losses go to row_loss (or a stream-ordered scratch) and a single block adds them in a fixed order
// (fp64). Labels are not range-checked on the GPU (that needs the data on the host); a label outside
// [0, V) that is not ignore_index reads out of bounds — the CPU backend reports it as an error.
#include <cfloat>

#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 512;
constexpr int kFinalThreads = 1024;

/** The online softmax state: running max, sum of exp(x - max), and the lowest column holding the max. */
struct MaxSum {
  float max;
  float sum;
  int32_t arg;
};

constexpr int32_t kNoColumn = 0x7fffffff;

__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
  const float mx = fmaxf(a.max, b.max);
  const int32_t arg = a.max == b.max ? min(a.arg, b.arg) : (a.max > b.max ? a.arg : b.arg);
  if (mx == -INFINITY) return {mx, 0.0f, arg};
  return {mx, a.sum * expf(a.max - mx) + b.sum * expf(b.max - mx), arg};
}

/** (max, sum) over the block, fixed order; result to every thread. */
__device__ MaxSum block_max_sum(MaxSum v) {
  __shared__ MaxSum warp_results[kWarp];
  const int lane = threadIdx.x % kWarp;
  const int warp = threadIdx.x / kWarp;
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) {
    MaxSum other{__shfl_xor_sync(0xffffffffu, v.max, o), __shfl_xor_sync(0xffffffffu, v.sum, o),
                 __shfl_xor_sync(0xffffffffu, v.arg, o)};
    v = merge(v, other);
  }
  if (lane == 0) warp_results[warp] = v;
  __syncthreads();
  v = lane < kThreads / kWarp ? warp_results[lane] : MaxSum{-INFINITY, 0.0f, kNoColumn};
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) {
    MaxSum other{__shfl_xor_sync(0xffffffffu, v.max, o), __shfl_xor_sync(0xffffffffu, v.sum, o),
                 __shfl_xor_sync(0xffffffffu, v.arg, o)};
    v = merge(v, other);
  }
  return v;
}

// dlogits may alias logits: the target logit is read before the barrier that precedes every write,
// and each element is read and written by the same thread.
template <typename T>
__global__ void __launch_bounds__(kThreads) softmax_cross_entropy_kernel(
    float* __restrict__ row_loss, int32_t* __restrict__ predictions, T* dlogits, const T* logits,
    const int32_t* __restrict__ labels, const float* __restrict__ row_weight, int64_t V, int64_t ld,
    int32_t ignore_index, float grad_scale) {
  const int64_t row = blockIdx.x;
  const int32_t label = labels[row];
  T* d = dlogits != nullptr ? dlogits + row * ld : nullptr;
  if (label == ignore_index) {
    if (threadIdx.x == 0) {
      row_loss[row] = 0.0f;
      if (predictions != nullptr) predictions[row] = -1;
    }
    if (d != nullptr) {
      for (int64_t j = threadIdx.x; j < ld; j += kThreads) d[j] = store<T>(0.0f);
    }
    return;
  }
  const T* x = logits + row * ld;
  const float target = load(x[label]);
  MaxSum acc{-INFINITY, 0.0f, kNoColumn};
  for (int64_t j = threadIdx.x; j < V; j += kThreads) {
    const float v = load(x[j]);
    if (v > acc.max) {
      acc.sum = acc.sum * expf(acc.max - v) + 1.0f;
      acc.max = v;
      acc.arg = static_cast<int32_t>(j);  // this thread's columns rise: the first one holding a new max
    } else if (v != -INFINITY) {  // a -inf logit adds exp(-inf) = 0 (and -inf - -inf would be NaN)
      acc.sum += expf(v - acc.max);
    }
  }
  const MaxSum total = block_max_sum(acc);  // ends after a barrier: every target read is done
  const float lse = total.max + logf(total.sum);
  if (threadIdx.x == 0) {
    row_loss[row] = lse - target;
    if (predictions != nullptr) predictions[row] = total.arg == kNoColumn ? 0 : total.arg;
  }
  if (d == nullptr) return;
  const float w = row_weight != nullptr ? row_weight[row] : 1.0f;
  const float scale = grad_scale * w;
  for (int64_t j = threadIdx.x; j < V; j += kThreads) {
    const float p = expf(load(x[j]) - lse);
    d[j] = store<T>((p - (j == label ? 1.0f : 0.0f)) * scale);
  }
  for (int64_t j = V + threadIdx.x; j < ld; j += kThreads) d[j] = store<T>(0.0f);
}

/** loss_sum (1) = sum over non-ignored rows of w_i * row_loss_i, in a fixed order (one block, fp64). */
__global__ void loss_sum_kernel(float* __restrict__ loss_sum, const float* __restrict__ row_loss,
                                const int32_t* __restrict__ labels, const float* __restrict__ row_weight,
                                int64_t N, int32_t ignore_index) {
  __shared__ double scratch[kWarp];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
    if (labels[i] != ignore_index) {
      acc += static_cast<double>(row_weight != nullptr ? row_weight[i] : 1.0f) * row_loss[i];
    }
  }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) *loss_sum = static_cast<float>(acc);
}

}  // namespace

void softmax_cross_entropy(lmt_ctx& ctx, float* loss_sum, float* row_loss, int32_t* predictions, void* dlogits,
                           const void* logits, const int32_t* labels, const float* row_weight, int64_t N, int64_t V,
                           int64_t ld, int32_t ignore_index, float grad_scale, lmt_dtype dt) {
  use_device(ctx);
  cudaStream_t stream = stream_of(ctx);
  if (N == 0) {
    if (loss_sum != nullptr) check_cuda(cudaMemsetAsync(loss_sum, 0, sizeof(float), stream), "cudaMemsetAsync");
    return;
  }
  StreamScratch scratch(stream, row_loss == nullptr ? static_cast<size_t>(N) * sizeof(float) : 0);
  float* losses = row_loss != nullptr ? row_loss : scratch.as<float>();
  LMT_DISPATCH_FLOAT(dt, T, {
    softmax_cross_entropy_kernel<T><<<static_cast<unsigned>(N), kThreads, 0, stream>>>(
        losses, predictions, static_cast<T*>(dlogits), static_cast<const T*>(logits), labels, row_weight, V, ld,
        ignore_index, grad_scale);
  });
  check_launch("softmax_cross_entropy_kernel");
  if (loss_sum != nullptr) {
    loss_sum_kernel<<<1, kFinalThreads, 0, stream>>>(loss_sum, losses, labels, row_weight, N, ignore_index);
    check_launch("loss_sum_kernel");
  }
}

}  // namespace lmt::cuda
