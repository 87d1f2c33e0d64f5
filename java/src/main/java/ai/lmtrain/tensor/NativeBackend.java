package ai.lmtrain.tensor;

import static ai.lmtrain.nativebridge.NativeCalls.check;

import ai.lmtrain.nativebridge.LmtNative;
import java.util.Objects;

/**
 * The {@link Backend} over the native C ABI; the native context decides whether the C++ or the
 * CUDA kernels run. This class derives every size from tensor shapes and checks them, so a bad
 * call fails here with the op and argument named, before any native code runs.
 */
public abstract class NativeBackend implements Backend {
  private static final int H2D = 0;
  private static final int D2H = 1;
  private static final int D2D = 2;

  private final Device device;
  private long ctx;

  protected NativeBackend(Device device) {
    this.device = device;
    long[] out = new long[1];
    check(LmtNative.lmt_ctx_create(out, device.nativeId()));
    this.ctx = out[0];
  }

  @Override
  public Device device() {
    return device;
  }

  /**
   * The native context handle ({@code lmt_ctx*}), for native code that queues work on this
   * backend's device and stream (the NCCL collectives of {@code train.dist}).
   */
  public long nativeContext() {
    return ctx();
  }

  /** The native context handle. */
  protected long ctx() {
    if (ctx == 0) {
      throw new IllegalStateException("backend for " + device + " is closed");
    }
    return ctx;
  }

  @Override
  public void close() {
    if (ctx != 0) {
      check(LmtNative.lmt_ctx_destroy(ctx));
      ctx = 0;
    }
  }

  // ---------------------------------------------------------------- memory

  @Override
  public DeviceBuffer allocate(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("allocation size must be > 0 bytes (got " + bytes + ")");
    }
    long[] out = new long[1];
    check(LmtNative.lmt_malloc(ctx(), out, bytes));
    return new DeviceBuffer(this, out[0], bytes);
  }

  @Override
  public void free(long address) {
    check(LmtNative.lmt_free(ctx(), address));
  }

  @Override
  public void synchronize() {
    check(LmtNative.lmt_synchronize(ctx()));
  }

  @Override
  public void zero(Tensor t) {
    mine("zero", "t", t);
    check(LmtNative.lmt_memset(ctx(), t.address(), 0, t.bytes()));
  }

  @Override
  public void copy(Tensor dst, Tensor src) {
    mine("copy", "dst", dst);
    mine("copy", "src", src);
    require(dst.dtype() == src.dtype() && dst.numel() == src.numel(), "copy",
        "dst " + dst + " and src " + src + " must have the same type and element count");
    check(LmtNative.lmt_memcpy(ctx(), dst.address(), src.address(), src.bytes(), D2D));
  }

  @Override
  public void upload(Tensor dst, float[] src) {
    mine("upload", "dst", dst);
    requireCount("upload", dst, src.length);
    switch (dst.dtype()) {
      case F32 -> check(LmtNative.lmt_memcpy(ctx(), dst.address(), src, dst.bytes(), H2D));
      case BF16, F16 -> {
        short[] bits = new short[src.length];
        boolean bf16 = dst.dtype() == DType.BF16;
        for (int i = 0; i < src.length; i++) {
          bits[i] = bf16 ? DType.floatToBf16(src[i]) : DType.floatToF16(src[i]);
        }
        check(LmtNative.lmt_memcpy(ctx(), dst.address(), bits, dst.bytes(), H2D));
      }
      default -> throw new IllegalArgumentException("upload: float values need a float tensor, got " + dst);
    }
  }

  @Override
  public void upload(Tensor dst, int[] src) {
    mine("upload", "dst", dst);
    require(dst.dtype() == DType.I32, "upload", "int values need an I32 tensor, got " + dst);
    requireCount("upload", dst, src.length);
    check(LmtNative.lmt_memcpy(ctx(), dst.address(), src, dst.bytes(), H2D));
  }

  @Override
  public void upload(Tensor dst, byte[] src) {
    mine("upload", "dst", dst);
    require(dst.dtype() == DType.U8, "upload", "byte values need a U8 tensor, got " + dst);
    requireCount("upload", dst, src.length);
    check(LmtNative.lmt_memcpy(ctx(), dst.address(), src, dst.bytes(), H2D));
  }

  @Override
  public void uploadBytes(Tensor dst, byte[] src) {
    mine("uploadBytes", "dst", dst);
    require(src.length == dst.bytes(), "uploadBytes", dst + " needs " + dst.bytes() + " bytes, got " + src.length);
    check(LmtNative.lmt_memcpy(ctx(), dst.address(), src, dst.bytes(), H2D));
  }

  @Override
  public float[] downloadFloats(Tensor src) {
    mine("downloadFloats", "src", src);
    int n = hostCount("downloadFloats", src);
    float[] out = new float[n];
    switch (src.dtype()) {
      case F32 -> check(LmtNative.lmt_memcpy(ctx(), out, src.address(), src.bytes(), D2H));
      case BF16, F16 -> {
        short[] bits = new short[n];
        check(LmtNative.lmt_memcpy(ctx(), bits, src.address(), src.bytes(), D2H));
        boolean bf16 = src.dtype() == DType.BF16;
        for (int i = 0; i < n; i++) {
          out[i] = bf16 ? DType.bf16ToFloat(bits[i]) : DType.f16ToFloat(bits[i]);
        }
      }
      default -> throw new IllegalArgumentException("downloadFloats: " + src + " is not a float tensor");
    }
    return out;
  }

  @Override
  public int[] downloadInts(Tensor src) {
    mine("downloadInts", "src", src);
    require(src.dtype() == DType.I32, "downloadInts", src + " is not an I32 tensor");
    int[] out = new int[hostCount("downloadInts", src)];
    check(LmtNative.lmt_memcpy(ctx(), out, src.address(), src.bytes(), D2H));
    return out;
  }

  @Override
  public byte[] downloadBytes(Tensor src) {
    mine("downloadBytes", "src", src);
    require(src.bytes() <= Integer.MAX_VALUE - 8, "downloadBytes", src + " is too large for one Java array");
    byte[] out = new byte[(int) src.bytes()];
    check(LmtNative.lmt_memcpy(ctx(), out, src.address(), src.bytes(), D2H));
    return out;
  }

  // ---------------------------------------------------------------- kernels

  @Override
  public void matmul(Tensor c, Tensor a, Tensor b, Tensor bias, boolean transA, boolean transB, float alpha,
      float beta) {
    String op = "matmul";
    mine(op, "c", c);
    mine(op, "a", a);
    mine(op, "b", b);
    long m = transA ? a.dim(-1) : a.rows();
    long k = transA ? a.rows() : a.dim(-1);
    long kb = transB ? b.dim(-1) : b.rows();
    long n = transB ? b.rows() : b.dim(-1);
    require(k == kb, op, "inner dimensions differ: op(a) " + a + (transA ? " transposed" : "") + " has K=" + k
        + " but op(b) " + b + (transB ? " transposed" : "") + " has K=" + kb);
    require(c.rows() == m && c.dim(-1) == n, op, "c is " + c + " but op(a).op(b) is (" + m + ", " + n + ")");
    require(a.dtype() == b.dtype(), op, "a and b must have the same type (got " + a.dtype() + " and " + b.dtype() + ")");
    if (bias != null) {
      mine(op, "bias", bias);
      require(bias.numel() == n && bias.dtype() == c.dtype(), op, "bias must be (" + n + ") " + c.dtype() + ", got " + bias);
    }
    check(LmtNative.lmt_matmul(ctx(), c.address(), a.address(), b.address(), addr(bias), transA ? 1 : 0,
        transB ? 1 : 0, m, n, k, alpha, beta, a.dtype().code(), c.dtype().code()));
  }

  @Override
  public void biasGrad(Tensor dbias, Tensor dy) {
    mine("biasGrad", "dbias", dbias);
    mine("biasGrad", "dy", dy);
    requireF32("biasGrad", "dbias", dbias);
    require(dbias.numel() == dy.dim(-1), "biasGrad", "dbias " + dbias + " must have dy's column count " + dy.dim(-1));
    check(LmtNative.lmt_bias_grad(ctx(), dbias.address(), dy.address(), dy.rows(), dy.dim(-1), dy.dtype().code()));
  }

  @Override
  public void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor weight, Tensor bias, float eps) {
    String op = "layerNormForward";
    long n = x.rows();
    long c = x.dim(-1);
    sameShape(op, "out", out, x);
    stats(op, mean, rstd, n);
    vector(op, "weight", weight, c, x.dtype());
    vector(op, "bias", bias, c, x.dtype());
    check(LmtNative.lmt_layernorm_forward(ctx(), out.address(), mean.address(), rstd.address(), x.address(),
        weight.address(), bias.address(), n, c, eps, x.dtype().code()));
  }

  @Override
  public void layerNormBackward(Tensor dx, Tensor dweight, Tensor dbias, Tensor dout, Tensor x, Tensor weight,
      Tensor mean, Tensor rstd) {
    String op = "layerNormBackward";
    long n = x.rows();
    long c = x.dim(-1);
    sameShape(op, "dx", dx, x);
    sameShape(op, "dout", dout, x);
    stats(op, mean, rstd, n);
    vector(op, "weight", weight, c, x.dtype());
    vector(op, "dweight", dweight, c, DType.F32);
    vector(op, "dbias", dbias, c, DType.F32);
    check(LmtNative.lmt_layernorm_backward(ctx(), dx.address(), dweight.address(), dbias.address(), dout.address(),
        x.address(), weight.address(), mean.address(), rstd.address(), n, c, x.dtype().code()));
  }

  @Override
  public void gelu(Tensor out, Tensor x, GeluKind kind) {
    sameShape("gelu", "out", out, x);
    check(LmtNative.lmt_gelu_forward(ctx(), out.address(), x.address(), x.numel(), kind.code(), x.dtype().code()));
  }

  @Override
  public void geluBackward(Tensor dx, Tensor x, Tensor dout, GeluKind kind) {
    sameShape("geluBackward", "dx", dx, x);
    sameShape("geluBackward", "dout", dout, x);
    check(LmtNative.lmt_gelu_backward(ctx(), dx.address(), x.address(), dout.address(), x.numel(), kind.code(),
        x.dtype().code()));
  }

  @Override
  public void tanh(Tensor out, Tensor x) {
    sameShape("tanh", "out", out, x);
    check(LmtNative.lmt_tanh_forward(ctx(), out.address(), x.address(), x.numel(), x.dtype().code()));
  }

  @Override
  public void tanhBackward(Tensor dx, Tensor y, Tensor dout) {
    sameShape("tanhBackward", "dx", dx, y);
    sameShape("tanhBackward", "dout", dout, y);
    check(LmtNative.lmt_tanh_backward(ctx(), dx.address(), y.address(), dout.address(), y.numel(), y.dtype().code()));
  }

  @Override
  public void attentionForward(Tensor out, Tensor lse, Tensor qkv, Tensor keyMask, int numHeads, boolean causal,
      float dropoutP, long seed, long offset) {
    String op = "attentionForward";
    long[] btc = attentionShape(op, qkv, out, lse, keyMask, numHeads);
    check(LmtNative.lmt_attention_forward(ctx(), out.address(), lse.address(), qkv.address(), addr(keyMask), btc[0],
        btc[1], btc[2], numHeads, causal ? 1 : 0, dropoutP, seed, offset, qkv.dtype().code()));
  }

  @Override
  public void attentionBackward(Tensor dqkv, Tensor dout, Tensor qkv, Tensor out, Tensor lse, Tensor keyMask,
      int numHeads, boolean causal, float dropoutP, long seed, long offset) {
    String op = "attentionBackward";
    long[] btc = attentionShape(op, qkv, out, lse, keyMask, numHeads);
    sameShape(op, "dqkv", dqkv, qkv);
    sameShape(op, "dout", dout, out);
    check(LmtNative.lmt_attention_backward(ctx(), dqkv.address(), dout.address(), qkv.address(), out.address(),
        lse.address(), addr(keyMask), btc[0], btc[1], btc[2], numHeads, causal ? 1 : 0, dropoutP, seed, offset,
        qkv.dtype().code()));
  }

  @Override
  public void softmaxCrossEntropy(Tensor lossSum, Tensor rowLoss, Tensor predictions, Tensor dlogits, Tensor logits,
      long classes, Tensor labels, Tensor rowWeight, int ignoreIndex, float gradScale) {
    String op = "softmaxCrossEntropy";
    mine(op, "logits", logits);
    long n = logits.rows();
    long ld = logits.dim(-1);
    require(classes > 0 && classes <= ld, op, "classes must be in [1, " + ld + "] (the logits' columns), got "
        + classes);
    ids(op, "labels", labels, n);
    if (lossSum != null) {
      vector(op, "lossSum", lossSum, 1, DType.F32);
    }
    if (rowLoss != null) {
      vector(op, "rowLoss", rowLoss, n, DType.F32);
    }
    if (predictions != null) {
      ids(op, "predictions", predictions, n);
    }
    if (rowWeight != null) {
      vector(op, "rowWeight", rowWeight, n, DType.F32);
    }
    if (dlogits != null) {
      sameShape(op, "dlogits", dlogits, logits);
    }
    check(LmtNative.lmt_softmax_cross_entropy(ctx(), addr(lossSum), addr(rowLoss), addr(predictions), addr(dlogits),
        logits.address(), labels.address(), addr(rowWeight), n, classes, ld, ignoreIndex, gradScale,
        logits.dtype().code()));
  }

  @Override
  public void embeddingForward(Tensor out, Tensor ids, Tensor typeIds, Tensor wte, Tensor wpe, Tensor wtt,
      long posOffset) {
    String op = "embeddingForward";
    long[] btc = embeddingShape(op, out, ids, typeIds, wte, wpe, wtt, out.dtype());
    check(LmtNative.lmt_embedding_forward(ctx(), out.address(), ids.address(), addr(typeIds), wte.address(), addr(wpe),
        addr(wtt), btc[0], btc[1], btc[2], wte.dim(0), wpe == null ? 0 : wpe.dim(0), wtt == null ? 0 : wtt.dim(0),
        posOffset, out.dtype().code()));
  }

  @Override
  public void embeddingBackward(Tensor dwte, Tensor dwpe, Tensor dwtt, Tensor dout, Tensor ids, Tensor typeIds,
      long posOffset) {
    String op = "embeddingBackward";
    long[] btc = embeddingShape(op, dout, ids, typeIds, dwte, dwpe, dwtt, DType.F32);
    check(LmtNative.lmt_embedding_backward(ctx(), dwte.address(), addr(dwpe), addr(dwtt), dout.address(), ids.address(),
        addr(typeIds), btc[0], btc[1], btc[2], dwte.dim(0), dwpe == null ? 0 : dwpe.dim(0),
        dwtt == null ? 0 : dwtt.dim(0), posOffset, dout.dtype().code()));
  }

  @Override
  public void adamwStep(Tensor params, Tensor paramsWork, Tensor m, Tensor v, Tensor grads, Tensor decayMask,
      AdamWParams p) {
    String op = "adamwStep";
    long n = params.numel();
    vector(op, "params", params, n, DType.F32);
    vector(op, "m", m, n, DType.F32);
    vector(op, "v", v, n, DType.F32);
    vector(op, "grads", grads, n, DType.F32);
    if (decayMask != null) {
      vector(op, "decayMask", decayMask, n, DType.U8);
    }
    if (paramsWork != null) {
      mine(op, "paramsWork", paramsWork);
      require(paramsWork.numel() == n, op, "paramsWork " + paramsWork + " must have " + n + " elements");
    }
    check(LmtNative.lmt_adamw_step(ctx(), params.address(), addr(paramsWork), m.address(), v.address(),
        grads.address(), addr(decayMask), n, p.lr(), p.beta1(), p.beta2(), p.eps(), p.weightDecay(), p.step(),
        p.gradScale(), paramsWork == null ? DType.F32.code() : paramsWork.dtype().code()));
  }

  @Override
  public void dropoutForward(Tensor out, Tensor x, float p, long seed, long offset) {
    sameShape("dropoutForward", "out", out, x);
    check(LmtNative.lmt_dropout_forward(ctx(), out.address(), x.address(), x.numel(), p, seed, offset,
        x.dtype().code()));
  }

  @Override
  public void dropoutBackward(Tensor dx, Tensor dout, float p, long seed, long offset) {
    sameShape("dropoutBackward", "dx", dx, dout);
    check(LmtNative.lmt_dropout_backward(ctx(), dx.address(), dout.address(), dout.numel(), p, seed, offset,
        dout.dtype().code()));
  }

  @Override
  public void gatherRows(Tensor out, Tensor x, Tensor rows) {
    String op = "gatherRows";
    mine(op, "x", x);
    mine(op, "out", out);
    ids(op, "rows", rows, out.rows());
    require(out.dim(-1) == x.dim(-1) && out.dtype() == x.dtype(), op,
        "out " + out + " must have x's row length " + x.dim(-1) + " and type " + x.dtype());
    check(LmtNative.lmt_gather_rows_forward(ctx(), out.address(), x.address(), rows.address(), out.rows(), x.rows(),
        x.dim(-1), x.dtype().code()));
  }

  @Override
  public void gatherRowsBackward(Tensor dx, Tensor dout, Tensor rows) {
    String op = "gatherRowsBackward";
    mine(op, "dx", dx);
    mine(op, "dout", dout);
    ids(op, "rows", rows, dout.rows());
    require(dout.dim(-1) == dx.dim(-1) && dout.dtype() == dx.dtype(), op,
        "dout " + dout + " must have dx's row length " + dx.dim(-1) + " and type " + dx.dtype());
    check(LmtNative.lmt_gather_rows_backward(ctx(), dx.address(), dout.address(), rows.address(), dout.rows(),
        dx.rows(), dx.dim(-1), dx.dtype().code()));
  }

  @Override
  public void pointwiseLoss(Tensor lossSum, Tensor dlogits, Tensor logits, Tensor targets, PointwiseLoss kind,
      float gradScale) {
    String op = "pointwiseLoss";
    mine(op, "logits", logits);
    vector(op, "targets", targets, logits.numel(), DType.F32);
    if (lossSum != null) {
      vector(op, "lossSum", lossSum, 1, DType.F32);
    }
    if (dlogits != null) {
      sameShape(op, "dlogits", dlogits, logits);
    }
    check(LmtNative.lmt_pointwise_loss(ctx(), addr(lossSum), addr(dlogits), logits.address(), targets.address(),
        logits.numel(), kind.code(), gradScale, logits.dtype().code()));
  }

  @Override
  public void add(Tensor out, Tensor a, Tensor b) {
    sameShape("add", "out", out, a);
    sameShape("add", "b", b, a);
    check(LmtNative.lmt_add(ctx(), out.address(), a.address(), b.address(), a.numel(), a.dtype().code()));
  }

  @Override
  public void scale(Tensor x, float alpha) {
    mine("scale", "x", x);
    check(LmtNative.lmt_scale(ctx(), x.address(), alpha, x.numel(), x.dtype().code()));
  }

  @Override
  public void cast(Tensor dst, Tensor src) {
    mine("cast", "dst", dst);
    mine("cast", "src", src);
    require(dst.numel() == src.numel(), "cast", "dst " + dst + " and src " + src + " differ in element count");
    check(LmtNative.lmt_cast(ctx(), dst.address(), dst.dtype().code(), src.address(), src.dtype().code(), src.numel()));
  }

  @Override
  public void sumSquares(Tensor out, Tensor x) {
    mine("sumSquares", "x", x);
    vector("sumSquares", "out", out, 1, DType.F32);
    check(LmtNative.lmt_sum_squares(ctx(), out.address(), x.address(), x.numel(), x.dtype().code()));
  }

  @Override
  public void countNonfinite(Tensor out, Tensor x) {
    mine("countNonfinite", "x", x);
    vector("countNonfinite", "out", out, 1, DType.I64);
    check(LmtNative.lmt_count_nonfinite(ctx(), out.address(), x.address(), x.numel(), x.dtype().code()));
  }

  // ---------------------------------------------------------------- shape checks

  private long[] attentionShape(String op, Tensor qkv, Tensor out, Tensor lse, Tensor keyMask, int numHeads) {
    mine(op, "qkv", qkv);
    require(qkv.rank() == 3 && qkv.dim(2) % 3 == 0, op, "qkv must be (B, T, 3C), got " + qkv);
    long b = qkv.dim(0);
    long t = qkv.dim(1);
    long c = qkv.dim(2) / 3;
    require(numHeads > 0 && c % numHeads == 0, op, "C=" + c + " must be divisible by numHeads=" + numHeads);
    mine(op, "out", out);
    require(out.numel() == b * t * c && out.dtype() == qkv.dtype(), op,
        "out must be (" + b + ", " + t + ", " + c + ") " + qkv.dtype() + ", got " + out);
    vector(op, "lse", lse, b * numHeads * t, DType.F32);
    if (keyMask != null) {
      ids(op, "keyMask", keyMask, b * t);
    }
    return new long[] {b, t, c};
  }

  private long[] embeddingShape(String op, Tensor out, Tensor ids, Tensor typeIds, Tensor wte, Tensor wpe, Tensor wtt,
      DType tableType) {
    mine(op, "out", out);
    require(out.rank() == 3, op, "out must be (B, T, C), got " + out);
    long b = out.dim(0);
    long t = out.dim(1);
    long c = out.dim(2);
    ids(op, "ids", ids, b * t);
    table(op, "wte", wte, c, tableType);
    if (wpe != null) {
      table(op, "wpe", wpe, c, tableType);
    }
    require((typeIds == null) == (wtt == null), op, "typeIds and the token-type table must both be given or both be null");
    if (typeIds != null) {
      ids(op, "typeIds", typeIds, b * t);
      table(op, "wtt", wtt, c, tableType);
    }
    return new long[] {b, t, c};
  }

  private void table(String op, String name, Tensor t, long c, DType type) {
    mine(op, name, t);
    require(t.rank() == 2 && t.dim(1) == c && t.dtype() == type, op,
        name + " must be (rows, " + c + ") " + type + ", got " + t);
  }

  private void stats(String op, Tensor mean, Tensor rstd, long n) {
    vector(op, "mean", mean, n, DType.F32);
    vector(op, "rstd", rstd, n, DType.F32);
  }

  private void vector(String op, String name, Tensor t, long n, DType type) {
    mine(op, name, t);
    require(t.numel() == n && t.dtype() == type, op, name + " must have " + n + " " + type + " elements, got " + t);
  }

  private void ids(String op, String name, Tensor t, long n) {
    vector(op, name, t, n, DType.I32);
  }

  private void sameShape(String op, String name, Tensor t, Tensor like) {
    mine(op, name, t);
    mine(op, "input", like);
    require(java.util.Arrays.equals(t.shape(), like.shape()) && t.dtype() == like.dtype(), op,
        name + " must match " + like + ", got " + t);
  }

  private void requireF32(String op, String name, Tensor t) {
    require(t.dtype() == DType.F32, op, name + " must be F32, got " + t);
  }

  private void requireCount(String op, Tensor t, int length) {
    require(t.numel() == length, op, t + " has " + t.numel() + " elements but the array has " + length);
  }

  private int hostCount(String op, Tensor t) {
    require(t.numel() <= Integer.MAX_VALUE - 8, op, t + " is too large for one Java array");
    return (int) t.numel();
  }

  private void mine(String op, String name, Tensor t) {
    Objects.requireNonNull(t, () -> op + ": " + name + " is null");
    require(t.device().equals(device), op, name + " is on " + t.device() + " but this backend runs on " + device);
  }

  private static void require(boolean ok, String op, String message) {
    if (!ok) {
      throw new IllegalArgumentException(op + ": " + message);
    }
  }

  private static long addr(Tensor t) {
    return t == null ? 0L : t.address();
  }
}
