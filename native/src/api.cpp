// api.cpp — the C ABI: validates every argument, then dispatches to the CPU or CUDA kernels.
//
// Each lmt_* function runs its body inside guarded(), which turns any lmt::Error or C++ exception
// into a status code and a thread-local message for lmt_last_error(). Checks that hold for both
// backends live here, once; kernels assume valid arguments.
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "backends.h"
#include "comm.h"
#include "parallel.h"

namespace {

thread_local std::string last_error;

template <typename Body>
lmt_status guarded(const char* fn, Body&& body) {
  try {
    body();
    return LMT_OK;
  } catch (const lmt::Error& e) {
    last_error = std::string(fn) + ": " + e.what();
    return e.status();
  } catch (const std::bad_alloc&) {
    last_error = std::string(fn) + ": out of host memory";
    return LMT_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    last_error = std::string(fn) + ": " + e.what();
    return LMT_ERR_INTERNAL;
  } catch (...) {
    last_error = std::string(fn) + ": unknown native error";
    return LMT_ERR_INTERNAL;
  }
}

/** Argument checks with messages that name the argument and what was expected. */
struct Check {
  static void ctx(const lmt_ctx* c) { lmt::require(c != nullptr, "ctx is NULL (expected a context from lmt_ctx_create)"); }
  static void ptr(const void* p, const char* name, const char* shape) {
    lmt::require(p != nullptr, name, " is NULL (expected a ", shape, " tensor)");
  }
  static void positive(int64_t v, const char* name) { lmt::require(v > 0, name, " must be > 0 (got ", v, ")"); }
  static void non_negative(int64_t v, const char* name) { lmt::require(v >= 0, name, " must be >= 0 (got ", v, ")"); }
  static void float_dtype(lmt_dtype dt, const char* name) {
    lmt::require(lmt::is_float_dtype(dt), name, " must be F32, BF16 or F16 (got code ", static_cast<int>(dt), ")");
  }
  static void probability(float p, const char* name) {
    lmt::require(p >= 0.0f && p < 1.0f, name, " must be in [0, 1) (got ", p, ")");
  }
  static void finite(float v, const char* name) { lmt::require(std::isfinite(v), name, " must be finite (got ", v, ")"); }
};

#ifdef LMTRAIN_WITH_CUDA
#define LMT_DISPATCH(CTX, FN, ...) \
  ((CTX)->is_cuda() ? ::lmt::cuda::FN(*(CTX), ##__VA_ARGS__) : ::lmt::cpu::FN(*(CTX), ##__VA_ARGS__))
#else
#define LMT_DISPATCH(CTX, FN, ...) ::lmt::cpu::FN(*(CTX), ##__VA_ARGS__)
#endif

}  // namespace

extern "C" {

const char* lmt_last_error(void) { return last_error.c_str(); }

const char* lmt_version(void) { return LMTRAIN_VERSION; }

int lmt_has_cuda_backend(void) {
#ifdef LMTRAIN_WITH_CUDA
  return 1;
#else
  return 0;
#endif
}

lmt_status lmt_cuda_device_count(int* count) {
  return guarded(__func__, [&] {
    lmt::require(count != nullptr, "count is NULL");
#ifdef LMTRAIN_WITH_CUDA
    *count = lmt::cuda::device_count();
#else
    *count = 0;
#endif
  });
}

lmt_status lmt_set_num_threads(int n) {
  return guarded(__func__, [&] {
    Check::positive(n, "n");
    lmt::cpu::set_num_threads(n);
  });
}

int lmt_get_num_threads(void) { return lmt::cpu::num_threads(); }

lmt_status lmt_ctx_create(lmt_ctx** out, int device) {
  return guarded(__func__, [&] {
    lmt::require(out != nullptr, "out is NULL");
    lmt::require(device >= -1, "device must be -1 (CPU) or a CUDA ordinal >= 0 (got ", device, ")");
    *out = nullptr;
    auto* ctx = new lmt_ctx();
    ctx->device = device;
    try {
#ifdef LMTRAIN_WITH_CUDA
      if (device >= 0) lmt::cuda::context_init(*ctx);
#else
      if (device >= 0) throw lmt::Error(LMT_ERR_UNSUPPORTED, "this build of the native core has no CUDA backend");
#endif
    } catch (...) {
      delete ctx;
      throw;
    }
    *out = ctx;
  });
}

lmt_status lmt_ctx_destroy(lmt_ctx* ctx) {
  return guarded(__func__, [&] {
    if (ctx == nullptr) return;
#ifdef LMTRAIN_WITH_CUDA
    if (ctx->is_cuda()) lmt::cuda::context_release(*ctx);
#endif
    delete ctx;
  });
}

lmt_status lmt_synchronize(lmt_ctx* ctx) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    LMT_DISPATCH(ctx, synchronize);
  });
}

lmt_status lmt_malloc(lmt_ctx* ctx, void** out, size_t bytes) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    lmt::require(out != nullptr, "out is NULL");
    lmt::require(bytes > 0, "bytes must be > 0");
    *out = LMT_DISPATCH(ctx, allocate, bytes);
  });
}

lmt_status lmt_free(lmt_ctx* ctx, void* ptr) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    if (ptr != nullptr) LMT_DISPATCH(ctx, release, ptr);
  });
}

lmt_status lmt_memcpy(lmt_ctx* ctx, void* dst, const void* src, size_t bytes, lmt_copy_kind kind) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    lmt::require(kind >= LMT_HOST_TO_DEVICE && kind <= LMT_DEVICE_TO_DEVICE, "kind must be 0, 1 or 2 (got ",
                 static_cast<int>(kind), ")");
    if (bytes == 0) return;
    Check::ptr(dst, "dst", "(bytes)");
    Check::ptr(src, "src", "(bytes)");
    LMT_DISPATCH(ctx, copy, dst, src, bytes, kind);
  });
}

lmt_status lmt_memset(lmt_ctx* ctx, void* dst, int value, size_t bytes) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    if (bytes == 0) return;
    Check::ptr(dst, "dst", "(bytes)");
    LMT_DISPATCH(ctx, fill_bytes, dst, value, bytes);
  });
}

lmt_status lmt_matmul(lmt_ctx* ctx, void* C, const void* A, const void* B, const void* bias, int trans_a,
                      int trans_b, int64_t M, int64_t N, int64_t K, float alpha, float beta, lmt_dtype ab_dt,
                      lmt_dtype c_dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(M, "M");
    Check::positive(N, "N");
    Check::positive(K, "K");
    Check::ptr(C, "C", "(M, N)");
    Check::ptr(A, "A", trans_a ? "(K, M)" : "(M, K)");
    Check::ptr(B, "B", trans_b ? "(N, K)" : "(K, N)");
    Check::float_dtype(ab_dt, "ab_dt");
    Check::float_dtype(c_dt, "c_dt");
    lmt::require(c_dt == ab_dt || c_dt == LMT_F32, "c_dt must equal ab_dt or be F32 (got ", lmt::dtype_name(c_dt),
                 " with ab_dt ", lmt::dtype_name(ab_dt), ")");
    lmt::require((trans_a == 0 || trans_a == 1) && (trans_b == 0 || trans_b == 1), "trans_a and trans_b must be 0 or 1");
    Check::finite(alpha, "alpha");
    Check::finite(beta, "beta");
    LMT_DISPATCH(ctx, matmul, C, A, B, bias, trans_a, trans_b, M, N, K, alpha, beta, ab_dt, c_dt);
  });
}

lmt_status lmt_bias_grad(lmt_ctx* ctx, float* dbias, const void* dY, int64_t M, int64_t N, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(M, "M");
    Check::positive(N, "N");
    Check::ptr(dbias, "dbias", "(N)");
    Check::ptr(dY, "dY", "(M, N)");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, bias_grad, dbias, dY, M, N, dt);
  });
}

lmt_status lmt_layernorm_forward(lmt_ctx* ctx, void* out, float* mean, float* rstd, const void* x,
                                 const void* weight, const void* bias, int64_t N, int64_t C, float eps,
                                 lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(N, "N");
    Check::positive(C, "C");
    Check::ptr(out, "out", "(N, C)");
    Check::ptr(mean, "mean", "(N)");
    Check::ptr(rstd, "rstd", "(N)");
    Check::ptr(x, "x", "(N, C)");
    Check::ptr(weight, "weight", "(C)");
    Check::ptr(bias, "bias", "(C)");
    lmt::require(eps > 0.0f && std::isfinite(eps), "eps must be a finite value > 0 (got ", eps, ")");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, layernorm_forward, out, mean, rstd, x, weight, bias, N, C, eps, dt);
  });
}

lmt_status lmt_layernorm_backward(lmt_ctx* ctx, void* dx, float* dweight, float* dbias, const void* dout,
                                  const void* x, const void* weight, const float* mean, const float* rstd,
                                  int64_t N, int64_t C, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(N, "N");
    Check::positive(C, "C");
    Check::ptr(dx, "dx", "(N, C)");
    Check::ptr(dweight, "dweight", "(C)");
    Check::ptr(dbias, "dbias", "(C)");
    Check::ptr(dout, "dout", "(N, C)");
    Check::ptr(x, "x", "(N, C)");
    Check::ptr(weight, "weight", "(C)");
    Check::ptr(mean, "mean", "(N)");
    Check::ptr(rstd, "rstd", "(N)");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, layernorm_backward, dx, dweight, dbias, dout, x, weight, mean, rstd, N, C, dt);
  });
}

static void check_gelu_kind(lmt_gelu_kind kind) {
  lmt::require(kind == LMT_GELU_EXACT || kind == LMT_GELU_TANH, "kind must be 0 (exact) or 1 (tanh) (got ",
               static_cast<int>(kind), ")");
}

lmt_status lmt_gelu_forward(lmt_ctx* ctx, void* out, const void* x, int64_t n, lmt_gelu_kind kind, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(out, "out", "(n)");
    Check::ptr(x, "x", "(n)");
    check_gelu_kind(kind);
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, gelu_forward, out, x, n, kind, dt);
  });
}

lmt_status lmt_gelu_backward(lmt_ctx* ctx, void* dx, const void* x, const void* dout, int64_t n,
                             lmt_gelu_kind kind, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(dx, "dx", "(n)");
    Check::ptr(x, "x", "(n)");
    Check::ptr(dout, "dout", "(n)");
    check_gelu_kind(kind);
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, gelu_backward, dx, x, dout, n, kind, dt);
  });
}

lmt_status lmt_tanh_forward(lmt_ctx* ctx, void* out, const void* x, int64_t n, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(out, "out", "(n)");
    Check::ptr(x, "x", "(n)");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, tanh_forward, out, x, n, dt);
  });
}

lmt_status lmt_tanh_backward(lmt_ctx* ctx, void* dx, const void* y, const void* dout, int64_t n, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(dx, "dx", "(n)");
    Check::ptr(y, "y", "(n)");
    Check::ptr(dout, "dout", "(n)");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, tanh_backward, dx, y, dout, n, dt);
  });
}

static void check_attention_sizes(int64_t B, int64_t T, int64_t C, int64_t NH, float dropout_p, lmt_dtype dt) {
  Check::positive(B, "B");
  Check::positive(T, "T");
  Check::positive(C, "C");
  Check::positive(NH, "NH");
  lmt::require(C % NH == 0, "C (", C, ") must be divisible by NH (", NH, ")");
  Check::probability(dropout_p, "dropout_p");
  Check::float_dtype(dt, "dt");
}

lmt_status lmt_attention_forward(lmt_ctx* ctx, void* out, float* lse, const void* qkv, const int32_t* key_mask,
                                 int64_t B, int64_t T, int64_t C, int64_t NH, int causal, float dropout_p,
                                 uint64_t seed, uint64_t offset, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    check_attention_sizes(B, T, C, NH, dropout_p, dt);
    Check::ptr(out, "out", "(B, T, C)");
    Check::ptr(lse, "lse", "(B, NH, T)");
    Check::ptr(qkv, "qkv", "(B, T, 3C)");
    LMT_DISPATCH(ctx, attention_forward, out, lse, qkv, key_mask, B, T, C, NH, causal, dropout_p, seed, offset, dt);
  });
}

lmt_status lmt_attention_backward(lmt_ctx* ctx, void* dqkv, const void* dout, const void* qkv, const void* out,
                                  const float* lse, const int32_t* key_mask, int64_t B, int64_t T, int64_t C,
                                  int64_t NH, int causal, float dropout_p, uint64_t seed, uint64_t offset,
                                  lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    check_attention_sizes(B, T, C, NH, dropout_p, dt);
    Check::ptr(dqkv, "dqkv", "(B, T, 3C)");
    Check::ptr(dout, "dout", "(B, T, C)");
    Check::ptr(qkv, "qkv", "(B, T, 3C)");
    Check::ptr(out, "out", "(B, T, C)");
    Check::ptr(lse, "lse", "(B, NH, T)");
    LMT_DISPATCH(ctx, attention_backward, dqkv, dout, qkv, out, lse, key_mask, B, T, C, NH, causal, dropout_p, seed,
                 offset, dt);
  });
}

lmt_status lmt_softmax_cross_entropy(lmt_ctx* ctx, float* loss_sum, float* row_loss, int32_t* predictions,
                                     void* dlogits, const void* logits, const int32_t* labels, const float* row_weight,
                                     int64_t N, int64_t V, int64_t ld, int32_t ignore_index, float grad_scale,
                                     lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(N, "N");
    Check::positive(V, "V");
    lmt::require(ld >= V, "ld (", ld, ") must be >= V (", V, "): each row holds V scored and ld - V padding columns");
    Check::ptr(logits, "logits", "(N, ld)");
    Check::ptr(labels, "labels", "(N)");
    lmt::require(loss_sum != nullptr || row_loss != nullptr || predictions != nullptr || dlogits != nullptr,
                 "loss_sum, row_loss, predictions and dlogits are all NULL (nothing to compute)");
    Check::finite(grad_scale, "grad_scale");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, softmax_cross_entropy, loss_sum, row_loss, predictions, dlogits, logits, labels, row_weight, N,
                 V, ld, ignore_index, grad_scale, dt);
  });
}

static void check_embedding_sizes(const void* wpe, const int32_t* type_ids, const void* wtt, int64_t B, int64_t T,
                                  int64_t C, int64_t V, int64_t P, int64_t TT, int64_t pos_offset, lmt_dtype dt) {
  Check::positive(B, "B");
  Check::positive(T, "T");
  Check::positive(C, "C");
  Check::positive(V, "V");
  Check::non_negative(pos_offset, "pos_offset");
  if (wpe != nullptr) {
    Check::positive(P, "P");
    lmt::require(pos_offset + T <= P, "positions ", pos_offset, "..", pos_offset + T - 1,
                 " exceed the position table (P = ", P, ", max_position_embeddings)");
  }
  lmt::require((type_ids == nullptr) == (wtt == nullptr), "type_ids and the token-type table must both be given or both be NULL");
  if (wtt != nullptr) Check::positive(TT, "TT");
  Check::float_dtype(dt, "dt");
}

lmt_status lmt_embedding_forward(lmt_ctx* ctx, void* out, const int32_t* ids, const int32_t* type_ids,
                                 const void* wte, const void* wpe, const void* wtt, int64_t B, int64_t T, int64_t C,
                                 int64_t V, int64_t P, int64_t TT, int64_t pos_offset, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::ptr(out, "out", "(B, T, C)");
    Check::ptr(ids, "ids", "(B, T)");
    Check::ptr(wte, "wte", "(V, C)");
    check_embedding_sizes(wpe, type_ids, wtt, B, T, C, V, P, TT, pos_offset, dt);
    LMT_DISPATCH(ctx, embedding_forward, out, ids, type_ids, wte, wpe, wtt, B, T, C, V, P, TT, pos_offset, dt);
  });
}

lmt_status lmt_embedding_backward(lmt_ctx* ctx, float* dwte, float* dwpe, float* dwtt, const void* dout,
                                  const int32_t* ids, const int32_t* type_ids, int64_t B, int64_t T, int64_t C,
                                  int64_t V, int64_t P, int64_t TT, int64_t pos_offset, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::ptr(dwte, "dwte", "(V, C)");
    Check::ptr(dout, "dout", "(B, T, C)");
    Check::ptr(ids, "ids", "(B, T)");
    check_embedding_sizes(dwpe, type_ids, dwtt, B, T, C, V, P, TT, pos_offset, dt);
    LMT_DISPATCH(ctx, embedding_backward, dwte, dwpe, dwtt, dout, ids, type_ids, B, T, C, V, P, TT, pos_offset, dt);
  });
}

lmt_status lmt_adamw_step(lmt_ctx* ctx, float* params, void* params_work, float* m, float* v, const float* grads,
                          const uint8_t* decay_mask, int64_t n, float lr, float beta1, float beta2, float eps,
                          float weight_decay, int64_t step, float grad_scale, lmt_dtype work_dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(params, "params", "(n)");
    Check::ptr(m, "m", "(n)");
    Check::ptr(v, "v", "(n)");
    Check::ptr(grads, "grads", "(n)");
    lmt::require(std::isfinite(lr) && lr >= 0.0f, "lr must be finite and >= 0 (got ", lr, ")");
    lmt::require(beta1 >= 0.0f && beta1 < 1.0f, "beta1 must be in [0, 1) (got ", beta1, ")");
    lmt::require(beta2 >= 0.0f && beta2 < 1.0f, "beta2 must be in [0, 1) (got ", beta2, ")");
    lmt::require(eps > 0.0f && std::isfinite(eps), "eps must be finite and > 0 (got ", eps, ")");
    lmt::require(std::isfinite(weight_decay) && weight_decay >= 0.0f, "weight_decay must be finite and >= 0 (got ",
                 weight_decay, ")");
    Check::positive(step, "step");
    Check::finite(grad_scale, "grad_scale");
    Check::float_dtype(work_dt, "work_dt");
    LMT_DISPATCH(ctx, adamw_step, params, params_work, m, v, grads, decay_mask, n, lr, beta1, beta2, eps,
                 weight_decay, step, grad_scale, work_dt);
  });
}

lmt_status lmt_dropout_forward(lmt_ctx* ctx, void* out, const void* x, int64_t n, float p, uint64_t seed,
                               uint64_t offset, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(out, "out", "(n)");
    Check::ptr(x, "x", "(n)");
    Check::probability(p, "p");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, dropout_forward, out, x, n, p, seed, offset, dt);
  });
}

lmt_status lmt_dropout_backward(lmt_ctx* ctx, void* dx, const void* dout, int64_t n, float p, uint64_t seed,
                                uint64_t offset, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(dx, "dx", "(n)");
    Check::ptr(dout, "dout", "(n)");
    Check::probability(p, "p");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, dropout_backward, dx, dout, n, p, seed, offset, dt);
  });
}

/** Sizes, and on the CPU the rows themselves: in [0, N) and pairwise distinct. */
static void check_gather_rows(const lmt_ctx* ctx, const int32_t* rows, int64_t M, int64_t N, int64_t C,
                              lmt_dtype dt) {
  Check::positive(M, "M");
  Check::positive(N, "N");
  Check::positive(C, "C");
  Check::ptr(rows, "rows", "(M)");
  Check::float_dtype(dt, "dt");
  lmt::require(M <= N, "M (", M, ") must be <= N (", N, "): the rows are distinct rows of x");
  if (ctx->is_cuda()) return;  // device memory: the kernels' precondition
  std::vector<bool> taken(static_cast<size_t>(N));
  for (int64_t m = 0; m < M; ++m) {
    lmt::require(rows[m] >= 0 && rows[m] < N, "rows[", m, "] = ", rows[m], " is out of range [0, N = ", N, ")");
    lmt::require(!taken[static_cast<size_t>(rows[m])], "rows[", m, "] = ", rows[m],
                 " repeats an earlier row (rows must be distinct)");
    taken[static_cast<size_t>(rows[m])] = true;
  }
}

lmt_status lmt_gather_rows_forward(lmt_ctx* ctx, void* out, const void* x, const int32_t* rows, int64_t M, int64_t N,
                                   int64_t C, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::ptr(out, "out", "(M, C)");
    Check::ptr(x, "x", "(N, C)");
    check_gather_rows(ctx, rows, M, N, C, dt);
    LMT_DISPATCH(ctx, gather_rows_forward, out, x, rows, M, N, C, dt);
  });
}

lmt_status lmt_gather_rows_backward(lmt_ctx* ctx, void* dx, const void* dout, const int32_t* rows, int64_t M,
                                    int64_t N, int64_t C, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::ptr(dx, "dx", "(N, C)");
    Check::ptr(dout, "dout", "(M, C)");
    check_gather_rows(ctx, rows, M, N, C, dt);
    LMT_DISPATCH(ctx, gather_rows_backward, dx, dout, rows, M, N, C, dt);
  });
}

lmt_status lmt_pointwise_loss(lmt_ctx* ctx, float* loss_sum, void* dlogits, const void* logits, const float* targets,
                              int64_t n, lmt_pointwise_loss_kind kind, float grad_scale, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(logits, "logits", "(n)");
    Check::ptr(targets, "targets", "(n)");
    lmt::require(loss_sum != nullptr || dlogits != nullptr, "loss_sum and dlogits are both NULL (nothing to compute)");
    lmt::require(kind == LMT_LOSS_BCE_WITH_LOGITS || kind == LMT_LOSS_MSE,
                 "kind must be 0 (BCE with logits) or 1 (MSE) (got ", static_cast<int>(kind), ")");
    Check::finite(grad_scale, "grad_scale");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, pointwise_loss, loss_sum, dlogits, logits, targets, n, kind, grad_scale, dt);
  });
}

lmt_status lmt_add(lmt_ctx* ctx, void* out, const void* a, const void* b, int64_t n, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(out, "out", "(n)");
    Check::ptr(a, "a", "(n)");
    Check::ptr(b, "b", "(n)");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, add, out, a, b, n, dt);
  });
}

lmt_status lmt_scale(lmt_ctx* ctx, void* x, float alpha, int64_t n, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(x, "x", "(n)");
    Check::finite(alpha, "alpha");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, scale, x, alpha, n, dt);
  });
}

lmt_status lmt_cast(lmt_ctx* ctx, void* dst, lmt_dtype dst_dt, const void* src, lmt_dtype src_dt, int64_t n) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(dst, "dst", "(n)");
    Check::ptr(src, "src", "(n)");
    Check::float_dtype(dst_dt, "dst_dt");
    Check::float_dtype(src_dt, "src_dt");
    LMT_DISPATCH(ctx, cast, dst, dst_dt, src, src_dt, n);
  });
}

lmt_status lmt_sum_squares(lmt_ctx* ctx, float* out, const void* x, int64_t n, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(out, "out", "(1)");
    Check::ptr(x, "x", "(n)");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, sum_squares, out, x, n, dt);
  });
}

lmt_status lmt_count_nonfinite(lmt_ctx* ctx, int64_t* out, const void* x, int64_t n, lmt_dtype dt) {
  return guarded(__func__, [&] {
    Check::ctx(ctx);
    Check::positive(n, "n");
    Check::ptr(out, "out", "(1)");
    Check::ptr(x, "x", "(n)");
    Check::float_dtype(dt, "dt");
    LMT_DISPATCH(ctx, count_nonfinite, out, x, n, dt);
  });
}

// ---------------------------------------------------------------- collectives (native/dist/)

static void check_comm(const lmt_comm* comm) {
  lmt::require(comm != nullptr && comm->engine != nullptr, "comm is NULL (expected a communicator from lmt_comm_init_*)");
}

static void check_timeout(double timeout_s) {
  lmt::require(timeout_s > 0 && std::isfinite(timeout_s), "timeout_s must be a finite number of seconds > 0 (got ",
               timeout_s, ")");
}

static void check_reduction(const void* buf, int64_t n, lmt_dtype dt, lmt_reduce_op op) {
  Check::non_negative(n, "n");
  if (n > 0) Check::ptr(buf, "buf", "(n)");
  lmt::require(dt == LMT_F32 || dt == LMT_F64 || dt == LMT_I32 || dt == LMT_I64, "dt must be F32, F64, I32 or I64 (got ",
               lmt::dtype_name(dt), ")");
  lmt::require(op == LMT_REDUCE_SUM || op == LMT_REDUCE_MIN || op == LMT_REDUCE_MAX,
               "op must be 0 (sum), 1 (min) or 2 (max) (got ", static_cast<int>(op), ")");
}

lmt_status lmt_comm_init_mpi(lmt_comm** out, const char* shim_path, double timeout_s) {
  return guarded(__func__, [&] {
    lmt::require(out != nullptr, "out is NULL");
    *out = nullptr;
    check_timeout(timeout_s);
    auto comm = std::make_unique<lmt_comm>();
    comm->engine = lmt::dist::open_mpi(shim_path, timeout_s);
    *out = comm.release();
  });
}

lmt_status lmt_nccl_unique_id(uint8_t* id, const char* nccl_library) {
  return guarded(__func__, [&] {
    Check::ptr(id, "id", "(128)");
#ifdef LMTRAIN_WITH_CUDA
    auto unique = lmt::dist::nccl_unique_id(nccl_library);
    std::memcpy(id, unique.data(), unique.size());
#else
    (void)nccl_library;
    throw lmt::Error(LMT_ERR_UNSUPPORTED, "this build of the native core has no CUDA backend, so no NCCL");
#endif
  });
}

lmt_status lmt_comm_init_nccl(lmt_comm** out, lmt_ctx* ctx, const uint8_t* id, int rank, int size,
                              const char* nccl_library, double timeout_s) {
  return guarded(__func__, [&] {
    lmt::require(out != nullptr, "out is NULL");
    *out = nullptr;
    Check::ctx(ctx);
    lmt::require(ctx->is_cuda(), "NCCL needs a CUDA context (got the CPU context; use lmt_comm_init_mpi)");
    Check::ptr(id, "id", "(128)");
    Check::positive(size, "size");
    lmt::require(rank >= 0 && rank < size, "rank must be in [0, size) = [0, ", size, ") (got ", rank, ")");
    check_timeout(timeout_s);
#ifdef LMTRAIN_WITH_CUDA
    auto comm = std::make_unique<lmt_comm>();
    comm->engine = lmt::dist::open_nccl(*ctx, id, rank, size, nccl_library, timeout_s);
    *out = comm.release();
#else
    (void)nccl_library;
    throw lmt::Error(LMT_ERR_UNSUPPORTED, "this build of the native core has no CUDA backend, so no NCCL");
#endif
  });
}

lmt_status lmt_comm_info(lmt_comm* comm, int* rank, int* size, int* local_rank, int* local_size) {
  return guarded(__func__, [&] {
    check_comm(comm);
    lmt::require(rank != nullptr && size != nullptr && local_rank != nullptr && local_size != nullptr,
                 "rank, size, local_rank and local_size must not be NULL");
    *rank = comm->engine->rank();
    *size = comm->engine->size();
    *local_rank = comm->engine->local_rank();
    *local_size = comm->engine->local_size();
  });
}

lmt_status lmt_comm_all_reduce(lmt_comm* comm, void* buf, int64_t n, lmt_dtype dt, lmt_reduce_op op) {
  return guarded(__func__, [&] {
    check_comm(comm);
    check_reduction(buf, n, dt, op);
    if (n > 0) comm->engine->all_reduce(buf, n, dt, op);
  });
}

lmt_status lmt_comm_all_reduce_host(lmt_comm* comm, void* values, int64_t n, lmt_dtype dt, lmt_reduce_op op) {
  return guarded(__func__, [&] {
    check_comm(comm);
    check_reduction(values, n, dt, op);
    if (n > 0) comm->engine->all_reduce_host(values, n, dt, op);
  });
}

lmt_status lmt_comm_broadcast(lmt_comm* comm, void* buf, int64_t bytes, int root) {
  return guarded(__func__, [&] {
    check_comm(comm);
    Check::non_negative(bytes, "bytes");
    if (bytes > 0) Check::ptr(buf, "buf", "(bytes)");
    int size = comm->engine->size();
    lmt::require(root >= 0 && root < size, "root must be in [0, ", size, ") (got ", root, ")");
    if (bytes > 0) comm->engine->broadcast(buf, bytes, root);
  });
}

lmt_status lmt_comm_barrier(lmt_comm* comm) {
  return guarded(__func__, [&] {
    check_comm(comm);
    comm->engine->barrier();
  });
}

lmt_status lmt_comm_abort(lmt_comm* comm, int code) {
  return guarded(__func__, [&] {
    check_comm(comm);
    comm->engine->abort(code);
  });
}

lmt_status lmt_comm_destroy(lmt_comm* comm) {
  return guarded(__func__, [&] {
    if (comm == nullptr) return;
    std::unique_ptr<lmt_comm> owned(comm);
    if (owned->engine != nullptr) owned->engine->finish();
  });
}

}  // extern "C"
