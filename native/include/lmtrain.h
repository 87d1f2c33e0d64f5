/*
 * lmtrain.h — the whole C ABI of the lmtrain native core.
 *
 * Conventions
 *  - Every function returns an lmt_status. LMT_OK is 0; on any other value the reason is in
 *    lmt_last_error() (a thread-local, NUL-terminated message naming the function, the argument
 *    and what was expected). No function ever calls exit() or abort().
 *  - Arguments: the context first, then outputs, then const inputs, then sizes and scalars.
 *    Every pointer carries its shape in a comment; tensors are dense and row-major.
 *  - The context decides the backend: a CPU context (device -1) runs the C++ kernels on a thread
 *    pool, a CUDA context (device >= 0) runs the CUDA kernels on the context's stream. Pointers
 *    must live on the context's device (host memory for the CPU, device memory for CUDA).
 *  - "dt" arguments give the storage type of activations and working weights (F32, BF16, F16).
 *    Arithmetic is fp32 in every kernel; statistics (LayerNorm mean/rstd, softmax log-sum-exp,
 *    losses), parameter gradients, AdamW master weights and moments are always F32.
 *  - Gradient rule: parameter gradients accumulate (+=), activation gradients overwrite (=).
 *  - Randomness (dropout) comes from a counter-based generator: the keep/drop decision of element
 *    i depends only on (seed, offset + i), never on thread count or scheduling.
 */
#ifndef LMTRAIN_H
#define LMTRAIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define LMT_API __declspec(dllexport)
#else
#define LMT_API __attribute__((visibility("default")))
#endif

typedef int lmt_status;
#define LMT_OK 0
#define LMT_ERR_INVALID_ARGUMENT 1
#define LMT_ERR_OUT_OF_MEMORY 2
#define LMT_ERR_UNSUPPORTED 3
#define LMT_ERR_DEVICE 4
#define LMT_ERR_INTERNAL 5
#define LMT_ERR_COMM 6 /* a collective failed or timed out (a peer died or hung); see lmt_comm_* */

/* Storage types. Values are part of the ABI (the Java DType enum uses the same codes). */
typedef enum lmt_dtype {
  LMT_F32 = 0,
  LMT_BF16 = 1,
  LMT_F16 = 2,
  LMT_I32 = 3,
  LMT_I64 = 4,
  LMT_U8 = 5,
  LMT_F64 = 6 /* collectives only (lmt_comm_all_reduce_host); no kernel takes it */
} lmt_dtype;

/* Direction of lmt_memcpy. */
typedef enum lmt_copy_kind {
  LMT_HOST_TO_DEVICE = 0,
  LMT_DEVICE_TO_HOST = 1,
  LMT_DEVICE_TO_DEVICE = 2
} lmt_copy_kind;

/* An execution context: a device (-1 = CPU) and, for CUDA, its stream. */
typedef struct lmt_ctx lmt_ctx;

/* ---------------------------------------------------------------- errors, version, devices */

/* Message of the last failed call on this thread ("" if none). Valid until the next failing call. */
LMT_API const char* lmt_last_error(void);
/* Version string of the native core, e.g. "0.1.0". */
LMT_API const char* lmt_version(void);
/* 1 if this library was compiled with the CUDA backend, else 0. */
LMT_API int lmt_has_cuda_backend(void);
/* *count = number of usable CUDA devices (0 without a driver, a GPU or the CUDA backend). */
LMT_API lmt_status lmt_cuda_device_count(int* count);
/* Threads of the CPU backend's pool (n >= 1). Results never depend on this number. */
LMT_API lmt_status lmt_set_num_threads(int n);
LMT_API int lmt_get_num_threads(void);

/* ---------------------------------------------------------------- context and memory */

LMT_API lmt_status lmt_ctx_create(lmt_ctx** out, int device);
LMT_API lmt_status lmt_ctx_destroy(lmt_ctx* ctx);
/* Waits until all work queued on the context is done (no-op on the CPU). */
LMT_API lmt_status lmt_synchronize(lmt_ctx* ctx);
/* *out = 256-byte aligned, uninitialised memory of `bytes` (> 0) on the context's device. */
LMT_API lmt_status lmt_malloc(lmt_ctx* ctx, void** out, size_t bytes);
LMT_API lmt_status lmt_free(lmt_ctx* ctx, void* ptr);
/* Copies `bytes`; host pointers are ordinary host memory. Synchronous for DEVICE_TO_HOST. */
LMT_API lmt_status lmt_memcpy(lmt_ctx* ctx, void* dst, const void* src, size_t bytes, lmt_copy_kind kind);
/* Sets `bytes` bytes of device memory to the byte `value`. */
LMT_API lmt_status lmt_memset(lmt_ctx* ctx, void* dst, int value, size_t bytes);

/* ---------------------------------------------------------------- matmul (matmul.cpp / matmul.cu) */

/*
 * C = alpha * op(A) . op(B) + beta * C (+ bias broadcast over rows), fp32 accumulation.
 *   op(A) is (M, K): A is stored (M, K), or (K, M) when trans_a.
 *   op(B) is (K, N): B is stored (K, N), or (N, K) when trans_b.
 *   C (M, N) of type c_dt; A and B of type ab_dt; bias (N) of type c_dt or NULL.
 *   c_dt is ab_dt, or F32 (e.g. a weight gradient accumulated into the fp32 gradient buffer).
 *   beta = 0 overwrites C (its old contents are never read, NaN included).
 * A Linear layer y = x W^T + b (W is (out, in)) is trans_b = 1; GPT-2's Conv1D y = x W + b is trans_b = 0.
 */
LMT_API lmt_status lmt_matmul(lmt_ctx* ctx,
                              void* C,              /* (M, N) c_dt */
                              const void* A,        /* (M, K) or (K, M) ab_dt */
                              const void* B,        /* (K, N) or (N, K) ab_dt */
                              const void* bias,     /* (N) c_dt, nullable */
                              int trans_a, int trans_b,
                              int64_t M, int64_t N, int64_t K,
                              float alpha, float beta,
                              lmt_dtype ab_dt, lmt_dtype c_dt);

/* dbias (N) += sum over rows of dY (M, N): the bias gradient of a Linear layer. */
LMT_API lmt_status lmt_bias_grad(lmt_ctx* ctx,
                                 float* dbias,      /* (N) F32, accumulated */
                                 const void* dY,    /* (M, N) dt */
                                 int64_t M, int64_t N, lmt_dtype dt);

/* ---------------------------------------------------------------- layernorm (layernorm.cpp / .cu) */

/* out = (x - mean) * rstd * weight + bias over the last dimension; biased variance. */
LMT_API lmt_status lmt_layernorm_forward(lmt_ctx* ctx,
                                         void* out,          /* (N, C) dt */
                                         float* mean,        /* (N) F32 */
                                         float* rstd,        /* (N) F32 */
                                         const void* x,      /* (N, C) dt */
                                         const void* weight, /* (C) dt */
                                         const void* bias,   /* (C) dt */
                                         int64_t N, int64_t C, float eps, lmt_dtype dt);

LMT_API lmt_status lmt_layernorm_backward(lmt_ctx* ctx,
                                          void* dx,            /* (N, C) dt, overwritten */
                                          float* dweight,      /* (C) F32, accumulated */
                                          float* dbias,        /* (C) F32, accumulated */
                                          const void* dout,    /* (N, C) dt */
                                          const void* x,       /* (N, C) dt */
                                          const void* weight,  /* (C) dt */
                                          const float* mean,   /* (N) F32 */
                                          const float* rstd,   /* (N) F32 */
                                          int64_t N, int64_t C, lmt_dtype dt);

/* ---------------------------------------------------------------- gelu (gelu.cpp / gelu.cu) */

typedef enum lmt_gelu_kind {
  LMT_GELU_EXACT = 0, /* 0.5 x (1 + erf(x / sqrt 2))                        BERT "gelu" */
  LMT_GELU_TANH = 1   /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  GPT-2 "gelu_new" */
} lmt_gelu_kind;

LMT_API lmt_status lmt_gelu_forward(lmt_ctx* ctx, void* out /* (n) dt */, const void* x /* (n) dt */,
                                    int64_t n, lmt_gelu_kind kind, lmt_dtype dt);
/* dx = dout * gelu'(x); dx may alias dout. */
LMT_API lmt_status lmt_gelu_backward(lmt_ctx* ctx, void* dx /* (n) dt */, const void* x /* (n) dt */,
                                     const void* dout /* (n) dt */, int64_t n, lmt_gelu_kind kind, lmt_dtype dt);

/* ---------------------------------------------------------------- tanh (tanh.cpp / tanh.cu) */

/* out = tanh(x), elementwise (the BERT pooler's activation). */
LMT_API lmt_status lmt_tanh_forward(lmt_ctx* ctx, void* out /* (n) dt */, const void* x /* (n) dt */, int64_t n,
                                    lmt_dtype dt);
/* dx = dout * (1 - y^2) from the forward's output y = tanh(x); dx may alias dout. */
LMT_API lmt_status lmt_tanh_backward(lmt_ctx* ctx, void* dx /* (n) dt */, const void* y /* (n) dt */,
                                     const void* dout /* (n) dt */, int64_t n, lmt_dtype dt);

/* ---------------------------------------------------------------- attention (attention.cpp / .cu) */

/*
 * Multi-head scaled dot-product attention from a packed projection.
 *   qkv (B, T, 3C): for token (b, t) the row holds q | k | v, each (C) = NH heads of hd = C / NH.
 *   out (B, T, C): heads concatenated in the same order.
 *   Scores q.k / sqrt(hd); causal: key s > query t is excluded; key_mask (B, T) int32, nullable:
 *   0 marks a padded key, which gets the additive mask float32-min exactly as Hugging Face does
 *   (so a row whose keys are all masked attends uniformly, as HF's does).
 *   lse (B, NH, T) F32: log-sum-exp of each query's scores, saved for the backward.
 *   Dropout on the probabilities with probability dropout_p (0 disables) from (seed, offset):
 *   element index ((b * NH + h) * T + t) * T + s of the (B, NH, T, T) probability tensor.
 */
LMT_API lmt_status lmt_attention_forward(lmt_ctx* ctx,
                                         void* out,            /* (B, T, C) dt */
                                         float* lse,           /* (B, NH, T) F32 */
                                         const void* qkv,      /* (B, T, 3C) dt */
                                         const int32_t* key_mask, /* (B, T), nullable */
                                         int64_t B, int64_t T, int64_t C, int64_t NH,
                                         int causal, float dropout_p, uint64_t seed, uint64_t offset,
                                         lmt_dtype dt);

/* dqkv (B, T, 3C) = gradient of the loss w.r.t. qkv, given dout; same masks and dropout stream. */
LMT_API lmt_status lmt_attention_backward(lmt_ctx* ctx,
                                          void* dqkv,           /* (B, T, 3C) dt, overwritten */
                                          const void* dout,     /* (B, T, C) dt */
                                          const void* qkv,      /* (B, T, 3C) dt */
                                          const void* out,      /* (B, T, C) dt, from the forward */
                                          const float* lse,     /* (B, NH, T) F32, from the forward */
                                          const int32_t* key_mask, /* (B, T), nullable */
                                          int64_t B, int64_t T, int64_t C, int64_t NH,
                                          int causal, float dropout_p, uint64_t seed, uint64_t offset,
                                          lmt_dtype dt);

/* ---------------------------------------------------------------- softmax cross-entropy (softmax_cross_entropy.cpp / .cu) */

/*
 * Fused softmax + cross-entropy over rows of logits whose first V of ld columns are scored: columns
 * [V, ld) are padding (a vocabulary padded to a multiple of 128 in the weight layout) and are never
 * read, as if their logits were -inf.
 *   loss_i = logsumexp(logits_i[0:V]) - logits_i[label_i] for rows with label_i != ignore_index, else 0.
 *   loss_sum (1) F32, nullable:  = sum_i w_i * loss_i over non-ignored rows (w_i = 1 without row_weight).
 *   row_loss (N) F32, nullable:  = loss_i (0 for ignored rows).
 *   predictions (N), nullable:   = argmax of logits_i[0:V] (the lowest column among ties), -1 for ignored rows.
 *   dlogits (N, ld) dt, nullable: = grad_scale * w_i * (softmax(logits_i[0:V]) - onehot(label_i)) in columns
 *   [0, V), and 0 in the padding columns and in ignored rows. dlogits may alias logits (computed in place).
 * For the mean loss over non-ignored positions pass grad_scale = 1 / count(non-ignored).
 * Labels must lie in [0, V) or equal ignore_index; anything else is an error (on the CPU).
 */
LMT_API lmt_status lmt_softmax_cross_entropy(lmt_ctx* ctx,
                                             float* loss_sum,         /* (1) F32, nullable */
                                             float* row_loss,         /* (N) F32, nullable */
                                             int32_t* predictions,    /* (N), nullable */
                                             void* dlogits,           /* (N, ld) dt, nullable, may alias logits */
                                             const void* logits,      /* (N, ld) dt */
                                             const int32_t* labels,   /* (N) */
                                             const float* row_weight, /* (N) F32, nullable */
                                             int64_t N, int64_t V, int64_t ld, int32_t ignore_index,
                                             float grad_scale, lmt_dtype dt);

/* ---------------------------------------------------------------- embeddings (embedding.cpp / .cu) */

/*
 * out[b, t] = wte[ids[b, t]] + wpe[pos_offset + t] (+ wtt[type_ids[b, t]]).
 * wpe and wtt may be NULL (no positional / token-type table). Ids out of range are an error.
 */
LMT_API lmt_status lmt_embedding_forward(lmt_ctx* ctx,
                                         void* out,               /* (B, T, C) dt */
                                         const int32_t* ids,      /* (B, T) in [0, V) */
                                         const int32_t* type_ids, /* (B, T) in [0, TT), nullable */
                                         const void* wte,         /* (V, C) dt */
                                         const void* wpe,         /* (P, C) dt, nullable */
                                         const void* wtt,         /* (TT, C) dt, nullable */
                                         int64_t B, int64_t T, int64_t C,
                                         int64_t V, int64_t P, int64_t TT, int64_t pos_offset,
                                         lmt_dtype dt);

/* Accumulates the table gradients; deterministic (no order-dependent float atomics). */
LMT_API lmt_status lmt_embedding_backward(lmt_ctx* ctx,
                                          float* dwte,             /* (V, C) F32, accumulated */
                                          float* dwpe,             /* (P, C) F32, accumulated, nullable */
                                          float* dwtt,             /* (TT, C) F32, accumulated, nullable */
                                          const void* dout,        /* (B, T, C) dt */
                                          const int32_t* ids,      /* (B, T) */
                                          const int32_t* type_ids, /* (B, T), nullable */
                                          int64_t B, int64_t T, int64_t C,
                                          int64_t V, int64_t P, int64_t TT, int64_t pos_offset,
                                          lmt_dtype dt);

/* ---------------------------------------------------------------- AdamW (adamw.cpp / .cu) */

/*
 * One AdamW step over a contiguous parameter buffer of n elements:
 *   g = grads * grad_scale                      (grad_scale folds clipping and loss-scale undo)
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 *   p -= lr * ( (m / (1 - beta1^step)) / (sqrt(v / (1 - beta2^step)) + eps) + wd * p )
 * where wd = weight_decay for elements whose decay_mask is 1 (all of them if decay_mask is NULL)
 * and 0 elsewhere (PyTorch/HF AdamW: decoupled decay, applied as p *= 1 - lr * wd first).
 * If params_work is not NULL the updated parameters are also written there in work_dt.
 */
LMT_API lmt_status lmt_adamw_step(lmt_ctx* ctx,
                                  float* params,            /* (n) F32 master weights */
                                  void* params_work,        /* (n) work_dt, nullable */
                                  float* m,                 /* (n) F32 */
                                  float* v,                 /* (n) F32 */
                                  const float* grads,       /* (n) F32 */
                                  const uint8_t* decay_mask,/* (n) 0/1, nullable */
                                  int64_t n, float lr, float beta1, float beta2, float eps,
                                  float weight_decay, int64_t step, float grad_scale,
                                  lmt_dtype work_dt);

/* ---------------------------------------------------------------- dropout (dropout.cpp / .cu) */

/* out = keep ? x / (1 - p) : 0, keep decided by (seed, offset + i); out may alias x. */
LMT_API lmt_status lmt_dropout_forward(lmt_ctx* ctx, void* out /* (n) dt */, const void* x /* (n) dt */,
                                       int64_t n, float p, uint64_t seed, uint64_t offset, lmt_dtype dt);
/* dx = keep ? dout / (1 - p) : 0 with the same mask; dx may alias dout. */
LMT_API lmt_status lmt_dropout_backward(lmt_ctx* ctx, void* dx /* (n) dt */, const void* dout /* (n) dt */,
                                        int64_t n, float p, uint64_t seed, uint64_t offset, lmt_dtype dt);

/* ---------------------------------------------------------------- row gather (gather_rows.cpp / .cu) */

/*
 * out[m] = x[rows[m]]: picks M rows of a (N, C) matrix, e.g. each sequence's [CLS] row (b * T) for
 * BERT's pooler or its last real token for GPT-2's classification head.
 * Rows must lie in [0, N) and be pairwise distinct (both checked on the CPU).
 */
LMT_API lmt_status lmt_gather_rows_forward(lmt_ctx* ctx,
                                           void* out,             /* (M, C) dt */
                                           const void* x,         /* (N, C) dt */
                                           const int32_t* rows,   /* (M) in [0, N), distinct */
                                           int64_t M, int64_t N, int64_t C, lmt_dtype dt);

/* dx[rows[m]] = dout[m], every other row of dx = 0 (an activation gradient: overwritten). */
LMT_API lmt_status lmt_gather_rows_backward(lmt_ctx* ctx,
                                            void* dx,              /* (N, C) dt, overwritten */
                                            const void* dout,      /* (M, C) dt */
                                            const int32_t* rows,   /* (M) in [0, N), distinct */
                                            int64_t M, int64_t N, int64_t C, lmt_dtype dt);

/* ---------------------------------------------------------------- pointwise losses (pointwise_loss.cpp / .cu) */

typedef enum lmt_pointwise_loss_kind {
  LMT_LOSS_BCE_WITH_LOGITS = 0, /* max(x, 0) - x y + log(1 + exp(-|x|)), gradient sigmoid(x) - y  (multi-label) */
  LMT_LOSS_MSE = 1              /* (x - y)^2, gradient 2 (x - y)                                    (regression) */
} lmt_pointwise_loss_kind;

/*
 * Losses of each logit against a float target, the heads of multi-label classification and regression.
 *   loss_sum (1) F32, nullable:   = sum_i loss_i, in fp64 over fixed blocks of i added in order
 *                                   (deterministic for any thread count or launch shape)
 *   dlogits (n) dt, nullable:     = grad_scale * dloss_i / dx_i; may alias logits
 * For the mean over all elements (PyTorch's reduction="mean") pass grad_scale = 1 / n.
 */
LMT_API lmt_status lmt_pointwise_loss(lmt_ctx* ctx,
                                      float* loss_sum,        /* (1) F32, nullable */
                                      void* dlogits,          /* (n) dt, nullable, may alias logits */
                                      const void* logits,     /* (n) dt */
                                      const float* targets,   /* (n) F32 */
                                      int64_t n, lmt_pointwise_loss_kind kind, float grad_scale, lmt_dtype dt);

/* ---------------------------------------------------------------- elementwise and reductions (elementwise.cpp / .cu) */

/* out = a + b (residual connection); out may alias a or b. */
LMT_API lmt_status lmt_add(lmt_ctx* ctx, void* out /* (n) dt */, const void* a /* (n) dt */,
                           const void* b /* (n) dt */, int64_t n, lmt_dtype dt);
/* x *= alpha in place. */
LMT_API lmt_status lmt_scale(lmt_ctx* ctx, void* x /* (n) dt */, float alpha, int64_t n, lmt_dtype dt);
/* dst (n) dst_dt = src (n) src_dt converted (round to nearest even for bf16/f16). */
LMT_API lmt_status lmt_cast(lmt_ctx* ctx, void* dst, lmt_dtype dst_dt, const void* src, lmt_dtype src_dt, int64_t n);
/*
 * *out = sum of x_i^2 in fp32 (x of type dt), deterministic: the same value for any thread count
 * or launch configuration. Used for the global gradient norm.
 */
LMT_API lmt_status lmt_sum_squares(lmt_ctx* ctx, float* out /* (1) F32 */, const void* x /* (n) dt */,
                                   int64_t n, lmt_dtype dt);
/* *out = number of NaN or infinite elements of x (loss-scale overflow check). */
LMT_API lmt_status lmt_count_nonfinite(lmt_ctx* ctx, int64_t* out /* (1) */, const void* x /* (n) dt */,
                                       int64_t n, lmt_dtype dt);

/* ---------------------------------------------------------------- collectives (native/dist/) */

/*
 * A communicator joins the processes (ranks) of a data-parallel job. Two engines:
 *  - MPI, for CPU training and to start NCCL: lmt_comm_init_mpi loads the MPI shim
 *    (liblmtrain_mpi.so, built when CMake finds MPI) with dlopen, so this library never links
 *    libmpi. Its buffers are host memory. The process must have been started by an MPI launcher
 *    (mpirun, srun); MPI is initialised once per process and finalized by lmt_comm_destroy.
 *  - NCCL, for CUDA training: lmt_comm_init_nccl loads libnccl.so.2 with dlopen. Its buffers are
 *    device memory of the context's GPU; the work is queued on the context's stream and the call
 *    returns once it is done.
 * Every collective waits at most timeout_s seconds (given at creation) for the other ranks. Then
 * NCCL fails with LMT_ERR_COMM (the communicator is unusable: abort the job), and MPI, whose
 * blocking collectives cannot return early, prints one error line and aborts the job itself
 * (MPI_Abort from a watchdog thread). Other MPI or NCCL failures return LMT_ERR_COMM.
 * Collectives must be called in the same order with the same sizes on every rank.
 */
typedef struct lmt_comm lmt_comm;

typedef enum lmt_reduce_op {
  LMT_REDUCE_SUM = 0,
  LMT_REDUCE_MIN = 1,
  LMT_REDUCE_MAX = 2
} lmt_reduce_op;

/* Joins the MPI job through the shim at shim_path. */
LMT_API lmt_status lmt_comm_init_mpi(lmt_comm** out, const char* shim_path, double timeout_s);
/* id (128 bytes) = ncclGetUniqueId(), made by rank 0 and handed to every rank (over MPI or TCP). */
LMT_API lmt_status lmt_nccl_unique_id(uint8_t* id /* (128) */, const char* nccl_library /* nullable */);
/* Joins the NCCL clique named by id as `rank` of `size`, on the context's GPU. nccl_library NULL
 * means "libnccl.so.2" from the loader's search path. */
LMT_API lmt_status lmt_comm_init_nccl(lmt_comm** out, lmt_ctx* ctx, const uint8_t* id /* (128) */, int rank,
                                      int size, const char* nccl_library /* nullable */, double timeout_s);
/* rank and size in the job; local_rank and local_size on this node (-1 where the engine does not know). */
LMT_API lmt_status lmt_comm_info(lmt_comm* comm, int* rank, int* size, int* local_rank, int* local_size);
/* buf (n) dt, in the communicator's memory (host for MPI, device for NCCL) = the reduction of every
 * rank's buf. dt: F32, F64, I32 or I64. Every rank gets the same bits. */
LMT_API lmt_status lmt_comm_all_reduce(lmt_comm* comm, void* buf, int64_t n, lmt_dtype dt, lmt_reduce_op op);
/* The same for a few values in host memory, whatever the engine (NCCL stages them on the GPU). */
LMT_API lmt_status lmt_comm_all_reduce_host(lmt_comm* comm, void* values /* (n) dt, host */, int64_t n,
                                            lmt_dtype dt, lmt_reduce_op op);
/* buf (bytes), in the communicator's memory: root's bytes on every rank. */
LMT_API lmt_status lmt_comm_broadcast(lmt_comm* comm, void* buf, int64_t bytes, int root);
LMT_API lmt_status lmt_comm_barrier(lmt_comm* comm);
/* Ends every rank of the job with exit code `code` (MPI_Abort; for NCCL without MPI, ncclCommAbort
 * and an error). The one call here that may not return: it is the job's abort. */
LMT_API lmt_status lmt_comm_abort(lmt_comm* comm, int code);
/* Leaves the job (ncclCommDestroy / MPI_Finalize) and frees the communicator. */
LMT_API lmt_status lmt_comm_destroy(lmt_comm* comm);

#ifdef __cplusplus
}
#endif

#endif /* LMTRAIN_H */
