package ai.lmtrain.tensor;

/**
 * The math of lmtrain: memory and every kernel, on one device. Model code calls only this
 * interface; {@link CpuBackend} runs the C++ kernels and a CUDA backend the CUDA kernels, both
 * through the same native C ABI ({@code native/include/lmtrain.h}).
 *
 * <p>Conventions: outputs come first. Parameter gradients accumulate ({@code +=}), activation
 * gradients are overwritten. Statistics and parameter gradients are F32; activations may be F32,
 * BF16 or F16. Shapes are checked here and again natively; a mismatch is an
 * {@link IllegalArgumentException} naming the op, the argument and what was expected.
 */
public interface Backend extends AutoCloseable {

  /** The device this backend runs on. */
  Device device();

  // ---------------------------------------------------------------- memory

  /**
   * The device's total memory in bytes (the host's RAM, or the container's limit, for the CPU), or
   * -1 when unknown: what size checks compare a model against before allocating it.
   */
  default long memoryBytes() {
    return -1;
  }

  /** One allocation of {@code bytes} uninitialised bytes. */
  DeviceBuffer allocate(long bytes);

  /** Frees an address obtained from {@link #allocate}; used by {@link DeviceBuffer#close()}. */
  void free(long address);

  /** Waits for all queued work. */
  void synchronize();

  void zero(Tensor t);

  /** dst = src (same type and element count). */
  void copy(Tensor dst, Tensor src);

  /** Uploads host values; F32 tensors take floats, BF16/F16 tensors take floats converted on the way. */
  void upload(Tensor dst, float[] src);

  /** Uploads ints into an I32 tensor. */
  void upload(Tensor dst, int[] src);

  /** Uploads bytes into a U8 tensor. */
  void upload(Tensor dst, byte[] src);

  /** Downloads a float tensor (any float type) as floats. */
  float[] downloadFloats(Tensor src);

  /** Downloads an I32 tensor. */
  int[] downloadInts(Tensor src);

  /** Downloads the raw little-endian bytes of any tensor. */
  byte[] downloadBytes(Tensor src);

  /** Uploads raw little-endian bytes into any tensor of the same size. */
  void uploadBytes(Tensor dst, byte[] src);

  // ---------------------------------------------------------------- kernels

  /**
   * c = alpha * op(a) . op(b) + beta * c (+ bias). Tensors are seen as matrices (leading dimensions
   * flattened into rows). op(a) is (M, K): a is (M, K), or (K, M) when {@code transA}. op(b) is
   * (K, N): b is (K, N), or (N, K) when {@code transB}. c is (M, N), of a's type or F32.
   */
  void matmul(Tensor c, Tensor a, Tensor b, Tensor bias, boolean transA, boolean transB, float alpha, float beta);

  /** dbias (N) F32 += column sums of dy (M, N). */
  void biasGrad(Tensor dbias, Tensor dy);

  /** out (N, C) = LayerNorm(x) over the last dimension; mean, rstd (N) F32 saved for the backward. */
  void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor weight, Tensor bias, float eps);

  /** dx = ..., dweight += ..., dbias += ... given dout and the forward's x, mean, rstd. */
  void layerNormBackward(Tensor dx, Tensor dweight, Tensor dbias, Tensor dout, Tensor x, Tensor weight, Tensor mean,
      Tensor rstd);

  /** out = gelu(x), elementwise. */
  void gelu(Tensor out, Tensor x, GeluKind kind);

  /** dx = dout * gelu'(x); dx may be dout. */
  void geluBackward(Tensor dx, Tensor x, Tensor dout, GeluKind kind);

  /** out = tanh(x), elementwise. */
  void tanh(Tensor out, Tensor x);

  /** dx = dout * (1 - y^2) from the forward's output y = tanh(x); dx may be dout. */
  void tanhBackward(Tensor dx, Tensor y, Tensor dout);

  /**
   * Multi-head attention from packed qkv (B, T, 3C) into out (B, T, C); lse (B, NH, T) F32 saved for
   * the backward. keyMask (B, T) I32 (1 keep, 0 padded key) may be null. Dropout on probabilities
   * with {@code dropoutP} from (seed, offset).
   */
  void attentionForward(Tensor out, Tensor lse, Tensor qkv, Tensor keyMask, int numHeads, boolean causal,
      float dropoutP, long seed, long offset);

  /** dqkv (B, T, 3C) from dout (B, T, C) and the forward's qkv, out, lse (same masks, same dropout stream). */
  void attentionBackward(Tensor dqkv, Tensor dout, Tensor qkv, Tensor out, Tensor lse, Tensor keyMask, int numHeads,
      boolean causal, float dropoutP, long seed, long offset);

  /**
   * Fused softmax cross-entropy over logits (N, V) with labels (N) I32 (ignoreIndex skipped).
   * lossSum (1) F32 = sum of (weighted) row losses; rowLoss (N) F32; dlogits (N, V) =
   * gradScale * w * (softmax - onehot), may be the logits tensor itself. Any output may be null
   * (not all three). rowWeight (N) F32 may be null.
   */
  default void softmaxCrossEntropy(Tensor lossSum, Tensor rowLoss, Tensor dlogits, Tensor logits, Tensor labels,
      Tensor rowWeight, int ignoreIndex, float gradScale) {
    softmaxCrossEntropy(lossSum, rowLoss, null, dlogits, logits, logits.dim(-1), labels, rowWeight, ignoreIndex,
        gradScale);
  }

  /**
   * Fused softmax cross-entropy over the first {@code classes} columns of logits (N, ld): the other
   * ld - classes columns are padding (a padded vocabulary), never read, as if their logits were -inf.
   * lossSum (1) F32 = sum of (weighted) row losses; rowLoss (N) F32; predictions (N) I32 = each row's
   * argmax over the scored columns (lowest among ties), -1 for ignored rows; dlogits (N, ld) =
   * gradScale * w * (softmax - onehot) in the scored columns, 0 in the padding ones and ignored rows,
   * and may be the logits tensor itself. Any output may be null (not all four). rowWeight (N) F32 may
   * be null.
   */
  void softmaxCrossEntropy(Tensor lossSum, Tensor rowLoss, Tensor predictions, Tensor dlogits, Tensor logits,
      long classes, Tensor labels, Tensor rowWeight, int ignoreIndex, float gradScale);

  /** out (B, T, C) = wte[ids] + wpe[posOffset + t] (+ wtt[typeIds]); wpe, wtt/typeIds may be null. */
  void embeddingForward(Tensor out, Tensor ids, Tensor typeIds, Tensor wte, Tensor wpe, Tensor wtt, long posOffset);

  /** Accumulates dwte, dwpe, dwtt (F32) from dout (B, T, C). */
  void embeddingBackward(Tensor dwte, Tensor dwpe, Tensor dwtt, Tensor dout, Tensor ids, Tensor typeIds,
      long posOffset);

  /**
   * One AdamW step over contiguous F32 params, moments m and v and grads; paramsWork (same element
   * count, any float type) receives the updated weights when not null; decayMask (U8 0/1) may be null.
   */
  void adamwStep(Tensor params, Tensor paramsWork, Tensor m, Tensor v, Tensor grads, Tensor decayMask, AdamWParams p);

  /** out = dropout(x) with the counter-based mask of (seed, offset); out may be x. */
  void dropoutForward(Tensor out, Tensor x, float p, long seed, long offset);

  /** dx = the same mask applied to dout; dx may be dout. */
  void dropoutBackward(Tensor dx, Tensor dout, float p, long seed, long offset);

  /**
   * out (M, C) = rows {@code rows} (M) I32 of x (N, C); the rows must lie in [0, N) and be distinct
   * (checked for host memory).
   */
  void gatherRows(Tensor out, Tensor x, Tensor rows);

  /** dx (N, C) = dout (M, C) scattered back to the rows {@code rows} (M) I32, zero elsewhere. */
  void gatherRowsBackward(Tensor dx, Tensor dout, Tensor rows);

  /**
   * Losses of every logit (n) against F32 targets (n): lossSum (1) F32 = sum of the element losses;
   * dlogits = gradScale * d loss_i / d logit_i, may be the logits tensor itself. Either output may
   * be null (not both).
   */
  void pointwiseLoss(Tensor lossSum, Tensor dlogits, Tensor logits, Tensor targets, PointwiseLoss kind,
      float gradScale);

  /** out = a + b; out may be a or b. */
  void add(Tensor out, Tensor a, Tensor b);

  /** x *= alpha. */
  void scale(Tensor x, float alpha);

  /** dst = src converted to dst's float type. */
  void cast(Tensor dst, Tensor src);

  /** out (1) F32 = sum of squares of x, deterministic. */
  void sumSquares(Tensor out, Tensor x);

  /** out (1) I64 = number of NaN/Inf elements of x. */
  void countNonfinite(Tensor out, Tensor x);

  @Override
  void close();
}
