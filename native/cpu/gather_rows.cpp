// gather_rows.cpp — CPU backend: picking rows of a matrix, and the gradient of that pick.
//
//   forward:  out (M, C) = x (N, C)[rows (M)]
//   backward: dx (N, C) = 0, then dx[rows[m]] = dout[m]   (activation gradient: overwritten)
// api.cpp has checked that the rows lie in [0, N) and are distinct, so each row of dx is written by
// at most one m and the backward needs no accumulation (results are exact copies).
#include <algorithm>
#include <cstring>

#include "backends.h"
#include "parallel.h"

namespace lmt::cpu {

void gather_rows_forward(lmt_ctx&, void* out, const void* x, const int32_t* rows, int64_t M, int64_t, int64_t C,
                         lmt_dtype dt) {
  const size_t row_bytes = static_cast<size_t>(C) * dtype_size(dt);
  char* o = static_cast<char*>(out);
  const char* in = static_cast<const char*>(x);
  parallel_for(M, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t m = lo; m < hi; ++m) {
      std::memcpy(o + m * row_bytes, in + static_cast<int64_t>(rows[m]) * row_bytes, row_bytes);
    }
  });
}

void gather_rows_backward(lmt_ctx&, void* dx, const void* dout, const int32_t* rows, int64_t M, int64_t N,
                          int64_t C, lmt_dtype dt) {
  const size_t row_bytes = static_cast<size_t>(C) * dtype_size(dt);
  char* d = static_cast<char*>(dx);
  const char* g = static_cast<const char*>(dout);
  // Zero bits are +0 in every float type.
  parallel_for(N, std::max<int64_t>(1, (1 << 16) / C), [&](int64_t lo, int64_t hi) {
    std::memset(d + lo * row_bytes, 0, static_cast<size_t>(hi - lo) * row_bytes);
  });
  parallel_for(M, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t m = lo; m < hi; ++m) {
      std::memcpy(d + static_cast<int64_t>(rows[m]) * row_bytes, g + m * row_bytes, row_bytes);
    }
  });
}

}  // namespace lmt::cpu
