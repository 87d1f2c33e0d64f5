package ai.lmtrain.layers;

import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Tensor;

/**
 * Multi-head self-attention: a packed q|k|v projection, the fused attention kernel (causal and/or
 * key-padding mask, dropout on probabilities), and the output projection.
 * x (B*T, C) -> y (B*T, C).
 */
public final class SelfAttention {
  private final Linear qkv;
  private final Linear proj;
  private final int heads;
  private final boolean causal;
  private final float probsDropout;
  private Tensor x;
  private Tensor packed;
  private Tensor attended;
  private Tensor lse;
  private Tensor keyMask;
  private long dropoutOffset;

  /**
   * @param qkv projection C -> 3C whose output columns are q | k | v
   * @param proj output projection C -> C
   */
  public SelfAttention(Linear qkv, Linear proj, int heads, boolean causal, float probsDropout) {
    if (qkv.out() != 3 * qkv.in() || proj.in() != qkv.in()) {
      throw new IllegalArgumentException("attention projections must be C -> 3C and C -> C");
    }
    this.qkv = qkv;
    this.proj = proj;
    this.heads = heads;
    this.causal = causal;
    this.probsDropout = probsDropout;
  }

  /** y (B*T, C); {@code keyMask} (B, T) I32 marks real keys with 1, padding with 0 (null: none). */
  public Tensor forward(Pass pass, Tensor x, int batch, int seqLen, Tensor keyMask) {
    int c = qkv.in();
    this.x = x;
    this.keyMask = keyMask;
    packed = qkv.forward(pass, x).view(batch, seqLen, 3L * c);
    attended = pass.activation(batch, seqLen, c);
    lse = pass.scratch(DType.F32, (long) batch * heads * seqLen);
    float p = pass.training() ? probsDropout : 0f;
    dropoutOffset = p > 0 ? pass.takeDropoutCounters((long) batch * heads * seqLen * seqLen) : 0;
    pass.backend().attentionForward(attended, lse, packed, keyMask, heads, causal, p, pass.seed(), dropoutOffset);
    return proj.forward(pass, attended.view((long) batch * seqLen, c));
  }

  /**
   * Incremental decoding (inference only, one sequence): projects the n new rows x (n, C), appends
   * them to {@code cache}, attends over the whole cached prefix and returns y (n, C) for the new
   * positions. The result equals the rows of a full forward over the prefix.
   */
  public Tensor forwardCached(Pass pass, Tensor x, KvCache cache) {
    int c = qkv.in();
    int n = Math.toIntExact(x.rows());
    Tensor prefix = cache.append(pass.backend(), qkv.forward(pass, x));
    int total = cache.length();
    Tensor all = pass.activation(1, total, c);
    pass.backend().attentionForward(all, pass.scratch(DType.F32, (long) heads * total), prefix, null, heads, causal, 0f,
        0, 0);
    return proj.forward(pass, all.view((long) total * c).slice((long) (total - n) * c, n, c));
  }

  /** dx (B*T, C); accumulates the projections' gradients. */
  public Tensor backward(Pass pass, Tensor dy) {
    long rows = x.rows();
    int c = qkv.in();
    Tensor dAttended = proj.backward(pass, dy, attended.view(rows, c), true);
    Tensor dPacked = pass.activation(packed.shape());
    float p = pass.training() ? probsDropout : 0f;
    pass.backend().attentionBackward(dPacked, dAttended.view(attended.shape()), packed, attended, lse, keyMask, heads,
        causal, p, pass.seed(), dropoutOffset);
    return qkv.backward(pass, dPacked.view(rows, 3L * c), x, true);
  }
}
