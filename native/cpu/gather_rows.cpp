// gather_rows.cpp — CPU backend: the rows of a matrix picked by an index, and their gradient.
//
//   forward:  out (M, C) dt:  out[i] = x[index[i]]                 x (N, C) dt
//   backward: dx (N, C) dt:   dx[index[i]] = dout[i], 0 elsewhere  dout (M, C) dt   (activation grad: =)
//   index (M) int32, strictly increasing in [0, N): checked before anything is written.
// The loss of a language model needs logits only at the positions that take a loss (BERT's masked
// tokens, GPT-2's positions that have a next token), so the LM head runs on the gathered rows and its
// input gradient goes back through the backward. Row i of the backward also zeroes the rows between
// index[i - 1] and index[i] (the first and last also the rows before / after all indexed ones), so
// each row of dx is written once, by one task: no races, the same bits for any thread count.
#include <algorithm>
#include <cstring>

#include "backends.h"
#include "parallel.h"

namespace lmt::cpu {
namespace {

constexpr int64_t kElementsPerTask = 1 << 14;

void check_index(const int32_t* index, int64_t M, int64_t N) {
  for (int64_t i = 0; i < M; ++i) {
    require(index[i] >= 0 && index[i] < N, "index[", i, "] = ", index[i], " is out of range [0, N = ", N, ")");
    require(i == 0 || index[i] > index[i - 1], "index[", i, "] = ", index[i], " is not greater than index[", i - 1,
            "] = ", index[i - 1], " (the index must be strictly increasing)");
  }
}

}  // namespace

void gather_rows(lmt_ctx&, void* out, const void* x, const int32_t* index, int64_t M, int64_t N, int64_t C,
                 lmt_dtype dt) {
  check_index(index, M, N);
  const size_t row_bytes = static_cast<size_t>(C) * dtype_size(dt);
  const char* src = static_cast<const char*>(x);
  char* dst = static_cast<char*>(out);
  parallel_for(M, std::max<int64_t>(1, kElementsPerTask / C), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) std::memcpy(dst + i * row_bytes, src + index[i] * row_bytes, row_bytes);
  });
}

void gather_rows_backward(lmt_ctx&, void* dx, const void* dout, const int32_t* index, int64_t M, int64_t N,
                          int64_t C, lmt_dtype dt) {
  check_index(index, M, N);
  const size_t row_bytes = static_cast<size_t>(C) * dtype_size(dt);
  const char* src = static_cast<const char*>(dout);
  char* dst = static_cast<char*>(dx);
  parallel_for(M, std::max<int64_t>(1, kElementsPerTask / C), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t gap_begin = i == 0 ? 0 : index[i - 1] + 1;  // rows no index picks: zero (all bits 0 in every dt)
      std::memset(dst + gap_begin * row_bytes, 0, (index[i] - gap_begin) * row_bytes);
      std::memcpy(dst + index[i] * row_bytes, src + i * row_bytes, row_bytes);
      if (i == M - 1) std::memset(dst + (index[i] + 1) * row_bytes, 0, (N - 1 - index[i]) * row_bytes);
    }
  });
}

}  // namespace lmt::cpu
