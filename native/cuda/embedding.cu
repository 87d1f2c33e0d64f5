// embedding.cu — CUDA backend: token + position (+ token-type) embeddings, forward and backward.
//
//   forward:  out (B, T, C) dt = wte (V, C)[ids[b, t]] + wpe (P, C)[pos_offset + t] + wtt (TT, C)[type_ids[b, t]]
//             (wpe and wtt/type_ids nullable; the sum is fp32, rounded once)
//   backward: dwte (V, C)  F32 += sum over tokens with ids[b, t] = v of dout[b, t]      (parameter gradients:
//             dwpe (P, C)  F32 += sum over b of dout[b, t] at row pos_offset + t         accumulated)
//             dwtt (TT, C) F32 += sum over tokens with type_ids[b, t] = k of dout[b, t]
// Deterministic backward without float atomics, summing in token order like the CPU backend:
//   dwte: the token indices are radix-sorted by id (cub, stable, so equal ids keep token order);
//         one block per run of equal ids adds the run's dout rows in order onto the table row.
//   dwpe: one thread per (t, c) adds dout[b, t, c] for b = 0..B-1.
//   dwtt: one thread per (type, c) walks all tokens in order (TT is tiny: 2 for BERT).
// Ids are not range-checked on the GPU (that would need the ids on the host); out-of-range ids read
// or write out of bounds — the CPU backend reports them as errors.
#include <cub/device/device_radix_sort.cuh>

#include "common.cuh"
#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kThreads = 256;

template <typename E>
__global__ void embedding_forward_kernel(E* __restrict__ out, const int32_t* __restrict__ ids,
                                         const int32_t* __restrict__ type_ids, const E* __restrict__ wte,
                                         const E* __restrict__ wpe, const E* __restrict__ wtt, int64_t T, int64_t C,
                                         int64_t total, int64_t pos_offset) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t n = i / C;
    const int64_t c = i - n * C;
    float v = load(wte[static_cast<int64_t>(ids[n]) * C + c]);
    if (wpe != nullptr) v += load(wpe[(pos_offset + n % T) * C + c]);
    if (wtt != nullptr) v += load(wtt[static_cast<int64_t>(type_ids[n]) * C + c]);
    out[i] = store<E>(v);
  }
}

__global__ void token_index_kernel(int32_t* __restrict__ index, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) index[i] = static_cast<int32_t>(i);
}

/**
 * Block (r, channel block): if sorted position r starts a run of equal ids, dwte[id] += the dout
 * rows of the run's tokens, in token order.
 */
template <typename E>
__global__ void token_grad_kernel(float* __restrict__ dwte, const E* __restrict__ dout,
                                  const uint32_t* __restrict__ sorted_ids, const int32_t* __restrict__ sorted_tokens,
                                  int64_t n_tokens, int64_t C) {
  const int64_t r = blockIdx.x;
  const uint32_t id = sorted_ids[r];
  if (r > 0 && sorted_ids[r - 1] == id) return;
  const int64_t c = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float* row = dwte + static_cast<int64_t>(id) * C + c;
  float acc = *row;
  for (int64_t k = r; k < n_tokens && sorted_ids[k] == id; ++k) {
    acc += load(dout[static_cast<int64_t>(sorted_tokens[k]) * C + c]);
  }
  *row = acc;
}

/** Thread (t, c): dwpe[pos_offset + t, c] += dout[b, t, c] for b in order. */
template <typename E>
__global__ void position_grad_kernel(float* __restrict__ dwpe, const E* __restrict__ dout, int64_t B, int64_t T,
                                     int64_t C, int64_t pos_offset) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= T * C) return;
  const int64_t t = i / C;
  const int64_t c = i - t * C;
  float* cell = dwpe + (pos_offset + t) * C + c;
  float acc = *cell;
  for (int64_t b = 0; b < B; ++b) acc += load(dout[(b * T + t) * C + c]);
  *cell = acc;
}

/** Thread (k, c): dwtt[k, c] += dout[n, c] over tokens n with type_ids[n] = k, in order. */
template <typename E>
__global__ void type_grad_kernel(float* __restrict__ dwtt, const E* __restrict__ dout,
                                 const int32_t* __restrict__ type_ids, int64_t n_tokens, int64_t C, int64_t TT) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= TT * C) return;
  const int64_t k = i / C;
  const int64_t c = i - k * C;
  float acc = dwtt[i];
  for (int64_t n = 0; n < n_tokens; ++n) {
    if (type_ids[n] == k) acc += load(dout[n * C + c]);
  }
  dwtt[i] = acc;
}

/** Number of low bits that hold every id in [0, V). */
int id_bits(int64_t V) {
  int bits = 1;
  while (bits < 32 && (int64_t{1} << bits) < V) ++bits;
  return bits;
}

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

}  // namespace

void embedding_forward(lmt_ctx& ctx, void* out, const int32_t* ids, const int32_t* type_ids, const void* wte,
                       const void* wpe, const void* wtt, int64_t B, int64_t T, int64_t C, int64_t, int64_t,
                       int64_t, int64_t pos_offset, lmt_dtype dt) {
  use_device(ctx);
  const int64_t total = B * T * C;
  if (total == 0) return;
  LMT_DISPATCH_FLOAT(dt, E, {
    embedding_forward_kernel<E><<<grid_stride_blocks(total, kThreads), kThreads, 0, stream_of(ctx)>>>(
        static_cast<E*>(out), ids, type_ids, static_cast<const E*>(wte), static_cast<const E*>(wpe),
        static_cast<const E*>(wtt), T, C, total, pos_offset);
  });
  check_launch("embedding_forward_kernel");
}

void embedding_backward(lmt_ctx& ctx, float* dwte, float* dwpe, float* dwtt, const void* dout, const int32_t* ids,
                        const int32_t* type_ids, int64_t B, int64_t T, int64_t C, int64_t V, int64_t, int64_t TT,
                        int64_t pos_offset, lmt_dtype dt) {
  use_device(ctx);
  const int64_t n_tokens = B * T;
  if (n_tokens == 0 || C == 0) return;
  require(n_tokens < (int64_t{1} << 31), "embedding_backward: B * T = ", n_tokens, " tokens exceed the CUDA limit 2^31");
  cudaStream_t stream = stream_of(ctx);
  const int n = static_cast<int>(n_tokens);
  const int end_bit = id_bits(V);

  // Scratch: sorted ids (n u32) | token index (n i32) | sorted token index (n i32) | cub temp storage.
  size_t sort_bytes = 0;
  check_cuda(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, static_cast<const uint32_t*>(nullptr),
                                             static_cast<uint32_t*>(nullptr), static_cast<const int32_t*>(nullptr),
                                             static_cast<int32_t*>(nullptr), n, 0, end_bit, stream),
             "cub::DeviceRadixSort::SortPairs (size query)");
  const size_t list_bytes = align256(static_cast<size_t>(n) * 4);
  StreamScratch scratch(stream, 3 * list_bytes + sort_bytes);
  char* base = scratch.as<char>();
  uint32_t* sorted_ids = reinterpret_cast<uint32_t*>(base);
  int32_t* token_index = reinterpret_cast<int32_t*>(base + list_bytes);
  int32_t* sorted_tokens = reinterpret_cast<int32_t*>(base + 2 * list_bytes);
  void* sort_temp = base + 3 * list_bytes;

  token_index_kernel<<<blocks_for(n_tokens, kThreads), kThreads, 0, stream>>>(token_index, n_tokens);
  check_launch("token_index_kernel");
  // ids are non-negative, so their bits sort correctly as unsigned keys.
  check_cuda(cub::DeviceRadixSort::SortPairs(sort_temp, sort_bytes, reinterpret_cast<const uint32_t*>(ids), sorted_ids,
                                             token_index, sorted_tokens, n, 0, end_bit, stream),
             "cub::DeviceRadixSort::SortPairs");

  LMT_DISPATCH_FLOAT(dt, E, {
    const E* g = static_cast<const E*>(dout);
    const dim3 token_grid(static_cast<unsigned>(n_tokens), blocks_for(C, kThreads));
    token_grad_kernel<E><<<token_grid, kThreads, 0, stream>>>(dwte, g, sorted_ids, sorted_tokens, n_tokens, C);
    check_launch("token_grad_kernel");
    if (dwpe != nullptr) {
      position_grad_kernel<E><<<blocks_for(T * C, kThreads), kThreads, 0, stream>>>(dwpe, g, B, T, C, pos_offset);
      check_launch("position_grad_kernel");
    }
    if (dwtt != nullptr) {
      type_grad_kernel<E><<<blocks_for(TT * C, kThreads), kThreads, 0, stream>>>(dwtt, g, type_ids, n_tokens, C, TT);
      check_launch("type_grad_kernel");
    }
  });
}

}  // namespace lmt::cuda
