// elementwise.cpp — CPU backend: residual add, scale, casts, and the deterministic reductions
// (sum of squares for the global gradient norm, non-finite count for loss-scale overflow).
//
//   add:              out (n) = a (n) + b (n)
//   scale:            x (n) *= alpha
//   cast:             dst (n) dst_dt = src (n) src_dt
//   sum_squares:      out (1) = sum x_i^2, over fixed blocks of kBlock elements combined in order
//   count_nonfinite:  out (1) = #{i : x_i is NaN or infinite}
// These ops have no backward of their own: add's gradient is the identity on both inputs, scale's
// is scale, and a cast's is the reverse cast.
#include <cmath>
#include <vector>

#include "backends.h"
#include "parallel.h"

namespace lmt::cpu {
namespace {
constexpr int64_t kGrain = 1 << 14;
constexpr int64_t kBlock = 1 << 12;  // reduction block: the result depends on n only, not on threads
}  // namespace

void add(lmt_ctx&, void* out, const void* a, const void* b, int64_t n, lmt_dtype dt) {
  LMT_DISPATCH_FLOAT(dt, T, {
    T* o = static_cast<T*>(out);
    const T* x = static_cast<const T*>(a);
    const T* y = static_cast<const T*>(b);
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = store<T>(load(x[i]) + load(y[i]));
    });
  });
}

void scale(lmt_ctx&, void* x, float alpha, int64_t n, lmt_dtype dt) {
  LMT_DISPATCH_FLOAT(dt, T, {
    T* p = static_cast<T*>(x);
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) p[i] = store<T>(load(p[i]) * alpha);
    });
  });
}

void cast(lmt_ctx&, void* dst, lmt_dtype dst_dt, const void* src, lmt_dtype src_dt, int64_t n) {
  LMT_DISPATCH_FLOAT(dst_dt, D, {
    LMT_DISPATCH_FLOAT(src_dt, S, {
      D* d = static_cast<D*>(dst);
      const S* s = static_cast<const S*>(src);
      parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) d[i] = store<D>(load(s[i]));
      });
    });
  });
}

void sum_squares(lmt_ctx&, float* out, const void* x, int64_t n, lmt_dtype dt) {
  int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks));
  LMT_DISPATCH_FLOAT(dt, T, {
    const T* p = static_cast<const T*>(x);
    parallel_for(blocks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t blk = lo; blk < hi; ++blk) {
        double acc = 0.0;
        int64_t end = std::min(n, (blk + 1) * kBlock);
        for (int64_t i = blk * kBlock; i < end; ++i) {
          double v = load(p[i]);
          acc += v * v;
        }
        partial[static_cast<size_t>(blk)] = acc;
      }
    });
  });
  double total = 0.0;
  for (double v : partial) total += v;
  *out = static_cast<float>(total);
}

void count_nonfinite(lmt_ctx&, int64_t* out, const void* x, int64_t n, lmt_dtype dt) {
  int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<int64_t> partial(static_cast<size_t>(blocks));
  LMT_DISPATCH_FLOAT(dt, T, {
    const T* p = static_cast<const T*>(x);
    parallel_for(blocks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t blk = lo; blk < hi; ++blk) {
        int64_t count = 0;
        int64_t end = std::min(n, (blk + 1) * kBlock);
        for (int64_t i = blk * kBlock; i < end; ++i) count += std::isfinite(load(p[i])) ? 0 : 1;
        partial[static_cast<size_t>(blk)] = count;
      }
    });
  });
  int64_t total = 0;
  for (int64_t c : partial) total += c;
  *out = total;
}

}  // namespace lmt::cpu
