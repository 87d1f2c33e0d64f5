package ai.lmtrain.nativebridge;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP mapping of the C ABI in {@code native/include/lmtrain.h}, one static method per C function.
 *
 * <p>Pointers travel as {@code long} addresses; every function returns a status (0 = ok) and
 * {@link #lmt_last_error()} gives the message of a failure. Only {@link NativeCalls} and the
 * backends in {@code ai.lmtrain.tensor} use this class directly.
 */
@Platform(include = "lmtrain.h", link = "lmtrain")
public final class LmtNative {
  static {
    Loader.load();
  }

  private LmtNative() {}

  public static native @Cast("const char*") String lmt_last_error();

  public static native @Cast("const char*") String lmt_version();

  public static native int lmt_has_cuda_backend();

  public static native int lmt_cuda_device_count(int[] count);

  public static native int lmt_set_num_threads(int n);

  public static native int lmt_get_num_threads();

  public static native int lmt_ctx_create(@Cast("lmt_ctx**") long[] out, int device);

  public static native int lmt_ctx_destroy(@Cast("lmt_ctx*") long ctx);

  public static native int lmt_synchronize(@Cast("lmt_ctx*") long ctx);

  public static native int lmt_malloc(@Cast("lmt_ctx*") long ctx, @Cast("void**") long[] out, @Cast("size_t") long bytes);

  public static native int lmt_free(@Cast("lmt_ctx*") long ctx, @Cast("void*") long ptr);

  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dst, @Cast("const void*") long src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  /** Host array to device memory ({@code kind} = host-to-device). */
  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dst, @Cast("const void*") float[] src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dst, @Cast("const void*") int[] src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dst, @Cast("const void*") short[] src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dst, @Cast("const void*") byte[] src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dst, @Cast("const void*") long[] src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  /** Device memory to a host array ({@code kind} = device-to-host). */
  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") float[] dst, @Cast("const void*") long src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") int[] dst, @Cast("const void*") long src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") short[] dst, @Cast("const void*") long src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") byte[] dst, @Cast("const void*") long src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  public static native int lmt_memcpy(@Cast("lmt_ctx*") long ctx, @Cast("void*") long[] dst, @Cast("const void*") long src,
      @Cast("size_t") long bytes, @Cast("lmt_copy_kind") int kind);

  public static native int lmt_memset(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dst, int value, @Cast("size_t") long bytes);

  public static native int lmt_matmul(@Cast("lmt_ctx*") long ctx, @Cast("void*") long c, @Cast("const void*") long a,
      @Cast("const void*") long b, @Cast("const void*") long bias, int transA, int transB, long m, long n, long k,
      float alpha, float beta, @Cast("lmt_dtype") int abDt, @Cast("lmt_dtype") int cDt);

  public static native int lmt_bias_grad(@Cast("lmt_ctx*") long ctx, @Cast("float*") long dbias, @Cast("const void*") long dy,
      long m, long n, @Cast("lmt_dtype") int dt);

  public static native int lmt_layernorm_forward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long out, @Cast("float*") long mean,
      @Cast("float*") long rstd, @Cast("const void*") long x, @Cast("const void*") long weight,
      @Cast("const void*") long bias, long n, long c, float eps, @Cast("lmt_dtype") int dt);

  public static native int lmt_layernorm_backward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dx,
      @Cast("float*") long dweight, @Cast("float*") long dbias, @Cast("const void*") long dout,
      @Cast("const void*") long x, @Cast("const void*") long weight, @Cast("const float*") long mean,
      @Cast("const float*") long rstd, long n, long c, @Cast("lmt_dtype") int dt);

  public static native int lmt_gelu_forward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long out, @Cast("const void*") long x,
      long n, @Cast("lmt_gelu_kind") int kind, @Cast("lmt_dtype") int dt);

  public static native int lmt_gelu_backward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dx, @Cast("const void*") long x,
      @Cast("const void*") long dout, long n, @Cast("lmt_gelu_kind") int kind, @Cast("lmt_dtype") int dt);

  public static native int lmt_tanh_forward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long out, @Cast("const void*") long x,
      long n, @Cast("lmt_dtype") int dt);

  public static native int lmt_tanh_backward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dx, @Cast("const void*") long y,
      @Cast("const void*") long dout, long n, @Cast("lmt_dtype") int dt);

  public static native int lmt_attention_forward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long out, @Cast("float*") long lse,
      @Cast("const void*") long qkv, @Cast("const int32_t*") long keyMask, long b, long t, long c, long nh,
      int causal, float dropoutP, @Cast("uint64_t") long seed, @Cast("uint64_t") long offset,
      @Cast("lmt_dtype") int dt);

  public static native int lmt_attention_backward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dqkv,
      @Cast("const void*") long dout, @Cast("const void*") long qkv, @Cast("const void*") long out,
      @Cast("const float*") long lse, @Cast("const int32_t*") long keyMask, long b, long t, long c, long nh,
      int causal, float dropoutP, @Cast("uint64_t") long seed, @Cast("uint64_t") long offset,
      @Cast("lmt_dtype") int dt);

  public static native int lmt_softmax_cross_entropy(@Cast("lmt_ctx*") long ctx, @Cast("float*") long lossSum,
      @Cast("float*") long rowLoss, @Cast("int32_t*") long predictions, @Cast("void*") long dlogits,
      @Cast("const void*") long logits, @Cast("const int32_t*") long labels, @Cast("const float*") long rowWeight,
      long n, long v, long ld, int ignoreIndex, float gradScale, @Cast("lmt_dtype") int dt);

  public static native int lmt_embedding_forward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long out,
      @Cast("const int32_t*") long ids, @Cast("const int32_t*") long typeIds, @Cast("const void*") long wte,
      @Cast("const void*") long wpe, @Cast("const void*") long wtt, long b, long t, long c, long v, long p, long tt,
      long posOffset, @Cast("lmt_dtype") int dt);

  public static native int lmt_embedding_backward(@Cast("lmt_ctx*") long ctx, @Cast("float*") long dwte,
      @Cast("float*") long dwpe, @Cast("float*") long dwtt, @Cast("const void*") long dout,
      @Cast("const int32_t*") long ids, @Cast("const int32_t*") long typeIds, long b, long t, long c, long v, long p,
      long tt, long posOffset, @Cast("lmt_dtype") int dt);

  public static native int lmt_adamw_step(@Cast("lmt_ctx*") long ctx, @Cast("float*") long params,
      @Cast("void*") long paramsWork, @Cast("float*") long m, @Cast("float*") long v, @Cast("const float*") long grads,
      @Cast("const uint8_t*") long decayMask, long n, float lr, float beta1, float beta2, float eps, float weightDecay,
      long step, float gradScale, @Cast("lmt_dtype") int workDt);

  public static native int lmt_dropout_forward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long out, @Cast("const void*") long x,
      long n, float p, @Cast("uint64_t") long seed, @Cast("uint64_t") long offset, @Cast("lmt_dtype") int dt);

  public static native int lmt_dropout_backward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dx,
      @Cast("const void*") long dout, long n, float p, @Cast("uint64_t") long seed, @Cast("uint64_t") long offset,
      @Cast("lmt_dtype") int dt);

  public static native int lmt_gather_rows_forward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long out,
      @Cast("const void*") long x, @Cast("const int32_t*") long rows, long m, long n, long c, @Cast("lmt_dtype") int dt);

  public static native int lmt_gather_rows_backward(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dx,
      @Cast("const void*") long dout, @Cast("const int32_t*") long rows, long m, long n, long c,
      @Cast("lmt_dtype") int dt);

  public static native int lmt_pointwise_loss(@Cast("lmt_ctx*") long ctx, @Cast("float*") long lossSum,
      @Cast("void*") long dlogits, @Cast("const void*") long logits, @Cast("const float*") long targets, long n,
      @Cast("lmt_pointwise_loss_kind") int kind, float gradScale, @Cast("lmt_dtype") int dt);

  public static native int lmt_add(@Cast("lmt_ctx*") long ctx, @Cast("void*") long out, @Cast("const void*") long a,
      @Cast("const void*") long b, long n, @Cast("lmt_dtype") int dt);

  public static native int lmt_scale(@Cast("lmt_ctx*") long ctx, @Cast("void*") long x, float alpha, long n,
      @Cast("lmt_dtype") int dt);

  public static native int lmt_cast(@Cast("lmt_ctx*") long ctx, @Cast("void*") long dst, @Cast("lmt_dtype") int dstDt,
      @Cast("const void*") long src, @Cast("lmt_dtype") int srcDt, long n);

  public static native int lmt_sum_squares(@Cast("lmt_ctx*") long ctx, @Cast("float*") long out, @Cast("const void*") long x,
      long n, @Cast("lmt_dtype") int dt);

  public static native int lmt_count_nonfinite(@Cast("lmt_ctx*") long ctx, @Cast("int64_t*") long out,
      @Cast("const void*") long x, long n, @Cast("lmt_dtype") int dt);

  // ---------------------------------------------------------------- collectives (lmt_comm_*, native/dist/)

  public static native int lmt_comm_init_mpi(@Cast("lmt_comm**") long[] out, String shimPath, double timeoutS);

  public static native int lmt_nccl_unique_id(@Cast("uint8_t*") byte[] id, String ncclLibrary);

  public static native int lmt_comm_init_nccl(@Cast("lmt_comm**") long[] out, @Cast("lmt_ctx*") long ctx,
      @Cast("const uint8_t*") byte[] id, int rank, int size, String ncclLibrary, double timeoutS);

  public static native int lmt_comm_info(@Cast("lmt_comm*") long comm, int[] rank, int[] size, int[] localRank,
      int[] localSize);

  public static native int lmt_comm_all_reduce(@Cast("lmt_comm*") long comm, @Cast("void*") long buf, long n,
      @Cast("lmt_dtype") int dt, @Cast("lmt_reduce_op") int op);

  public static native int lmt_comm_all_reduce_host(@Cast("lmt_comm*") long comm, @Cast("void*") double[] values,
      long n, @Cast("lmt_dtype") int dt, @Cast("lmt_reduce_op") int op);

  public static native int lmt_comm_all_reduce_host(@Cast("lmt_comm*") long comm, @Cast("void*") long[] values,
      long n, @Cast("lmt_dtype") int dt, @Cast("lmt_reduce_op") int op);

  public static native int lmt_comm_broadcast(@Cast("lmt_comm*") long comm, @Cast("void*") long buf, long bytes,
      int root);

  public static native int lmt_comm_barrier(@Cast("lmt_comm*") long comm);

  public static native int lmt_comm_abort(@Cast("lmt_comm*") long comm, int code);

  public static native int lmt_comm_destroy(@Cast("lmt_comm*") long comm);
}
