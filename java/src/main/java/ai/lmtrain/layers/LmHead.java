package ai.lmtrain.layers;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Device;
import ai.lmtrain.tensor.Tensor;

/**
 * A language model's output projection, {@code logits = h W^T (+ b)} with W its token embedding
 * (tied) or an output weight of its own (tie_word_embeddings false),
 * fused with softmax cross-entropy and computed in chunks of rows, so that the logits of a whole
 * batch never exist at once (Liger-Kernel's fused linear cross-entropy, on our kernels).
 *
 * <p>The weight W (V, E) is stored with Vp = V rounded up to a multiple of 128 rows (and the
 * bias b, when there is one, with Vp entries): the padding rows are zero, their logit columns are
 * excluded from the softmax and the argmax, and their gradients are exactly zero.
 *
 * <p>Shapes: h (M, E) in the compute type, labels (M) I32 (rows labelled ignoreIndex take no loss),
 * row weights (M) F32 or none. Per chunk of c rows:
 * <pre>
 *   logits_c (c, Vp) = h_c W^T (+ b)
 *   loss += sum_i w_i CE(logits_c[i, 0:V], label_i)         (dlogits_c written over logits_c)
 *   dh_c (c, E) = dlogits_c W;  dW (Vp, E) += dlogits_c^T h_c;  db (Vp) += column sums of dlogits_c
 * </pre>
 * Memory: one (c, Vp) logits buffer reused by every chunk, with c = min(M, max(1, chunkBytes / (Vp x
 * element size))); the rest is O(M x E). Parameter gradients accumulate; dh is overwritten. The loss
 * sums of the chunks are added in order, so a single chunk gives exactly the unchunked sum and more
 * chunks round it at most once per chunk.
 */
public final class LmHead {
  /**
   * Logits memory per chunk on the CPU unless the caller picks another: 64 MiB, e.g. 333 rows of
   * GPT-2's padded 50304 fp32 logits. Larger chunks run the GEMMs more efficiently (the weight
   * gradient is read and written once per chunk); smaller ones bound the memory more tightly.
   */
  public static final long DEFAULT_CHUNK_BYTES = 64L << 20;

  /**
   * The same on a GPU: 1 GiB, e.g. 10,672 rows of bf16 logits over 50304 columns, so that GPT-2 124M's
   * 16 x 1024 tokens take two chunks whose products fill an H100 (at 64 MiB, 25 chunks of 667 rows
   * each re-read and re-write the 50304 x 768 weight gradient); PyTorch holds all 16,384 rows' logits.
   */
  public static final long DEFAULT_GPU_CHUNK_BYTES = 1L << 30;

  private final String weight;
  private final String bias;
  private final int vocabSize;
  private final int paddedVocabSize;
  private final int ignoreIndex;
  private long chunkBytes; // 0: the device's default

  /**
   * @param weight checkpoint name of the output weight (V, E): the tied embedding or an untied one,
   *     stored with {@code paddedVocabSize} rows
   * @param bias checkpoint name of the output bias (V), stored with {@code paddedVocabSize} entries, or null
   * @param ignoreIndex the label of rows that take no loss
   */
  public LmHead(String weight, String bias, int vocabSize, int paddedVocabSize, int ignoreIndex) {
    this.weight = weight;
    this.bias = bias;
    this.vocabSize = vocabSize;
    this.paddedVocabSize = paddedVocabSize;
    this.ignoreIndex = ignoreIndex;
  }

  /** Sets the logits memory per chunk (at least one row is computed at a time whatever the value). */
  public void setChunkBytes(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("logits chunk size must be > 0 bytes (got " + bytes + ")");
    }
    this.chunkBytes = bytes;
  }

  /**
   * What a loss pass produced, on the device, valid until the pass's arena resets.
   *
   * @param lossSum (1) F32: the sum over rows of w_i times the row's cross-entropy
   * @param predictions (M) I32: each row's argmax over the vocabulary, or null when not asked for
   * @param dh (M, E): the gradient of gradScale * lossSum with respect to h, or null without backward
   */
  public record Loss(Tensor lossSum, Tensor predictions, Tensor dh) {}

  /** Rows per chunk for {@code rows} rows of the pass's compute type. */
  public int chunkRows(Pass pass, long rows) {
    long perRow = (long) paddedVocabSize * pass.dtype().bytes();
    long budget = chunkBytes > 0 ? chunkBytes
        : pass.backend().device().kind() == Device.Kind.CUDA ? DEFAULT_GPU_CHUNK_BYTES : DEFAULT_CHUNK_BYTES;
    return (int) Math.min(rows, Math.max(1, budget / perRow));
  }

  /**
   * The summed cross-entropy of rows h (M, E) against labels (M) I32, weighted by rowWeights (M) F32
   * when not null; with {@code backward}, also dh and the accumulated gradients of the weight (and
   * bias) of {@code gradScale * lossSum}; with {@code predictions}, each row's argmax.
   */
  public Loss loss(Pass pass, Tensor h, Tensor labels, Tensor rowWeights, float gradScale, boolean backward,
      boolean predictions) {
    Backend backend = pass.backend();
    long rows = h.rows();
    long e = h.dim(-1);
    Tensor buffer = pass.activation(chunkRows(pass, rows), paddedVocabSize);
    long chunk = buffer.dim(0);
    Tensor lossSum = pass.scratch(DType.F32, 1);
    Tensor chunkLoss = rows > chunk ? pass.scratch(DType.F32, 1) : lossSum;
    Tensor argmax = predictions ? pass.scratch(DType.I32, rows) : null;
    Tensor dh = backward ? pass.activation(rows, e) : null;
    for (long r0 = 0; r0 < rows; r0 += chunk) {
      long c = Math.min(chunk, rows - r0);
      Tensor lc = chunkLogits(pass, h, r0, c, buffer);
      backend.softmaxCrossEntropy(chunkLoss, null, argmax == null ? null : argmax.slice(r0, c), backward ? lc : null,
          lc, vocabSize, labels.slice(r0, c), rowWeights == null ? null : rowWeights.slice(r0, c),
          ignoreIndex, gradScale);
      if (chunkLoss != lossSum) {
        if (r0 == 0) {
          backend.copy(lossSum, chunkLoss);
        } else {
          backend.add(lossSum, lossSum, chunkLoss);
        }
      }
      if (backward) {
        backend.matmul(pass.params().paddedGrad(weight), lc, h.slice(r0 * e, c, e), null, true, false, 1f, 1f);
        if (bias != null) {
          backend.biasGrad(pass.params().paddedGrad(bias), lc);
        }
        backend.matmul(dh.slice(r0 * e, c, e), lc, pass.params().paddedParam(weight), null, false, false, 1f, 0f);
      }
    }
    return new Loss(lossSum, argmax, dh);
  }

  /**
   * The logits of rows h (M, E) over the real vocabulary, as host arrays (M of V floats), computed
   * chunk by chunk: the padding columns never leave the device.
   */
  public float[][] logits(Pass pass, Tensor h) {
    long rows = h.rows();
    Tensor buffer = pass.activation(chunkRows(pass, rows), paddedVocabSize);
    long chunk = buffer.dim(0);
    float[][] out = new float[Math.toIntExact(rows)][];
    for (long r0 = 0; r0 < rows; r0 += chunk) {
      long c = Math.min(chunk, rows - r0);
      Tensor lc = chunkLogits(pass, h, r0, c, buffer);
      for (long i = 0; i < c; i++) {
        out[(int) (r0 + i)] = pass.backend().downloadFloats(lc.slice(i * paddedVocabSize, vocabSize));
      }
    }
    return out;
  }

  /** logits_c (c, Vp) = rows [r0, r0 + c) of h times W^T (+ b), in the first c rows of {@code buffer}. */
  private Tensor chunkLogits(Pass pass, Tensor h, long r0, long c, Tensor buffer) {
    long e = h.dim(-1);
    Tensor lc = buffer.slice(0, c, paddedVocabSize);
    Tensor b = bias == null ? null : pass.params().paddedParam(bias);
    pass.backend().matmul(lc, h.slice(r0 * e, c, e), pass.params().paddedParam(weight), b, false, true, 1f, 0f);
    return lc;
  }
}
