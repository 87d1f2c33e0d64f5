package ai.lmtrain.layers;

import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.Tensor;

/**
 * One GPT-2 decoder block (pre-LN), parameter names under {@code transformer.h.{i}}:
 * <pre>
 *   x = x + dropout(c_proj(causal_attn(ln_1(x))))
 *   x = x + dropout(mlp.c_proj(gelu_new(mlp.c_fc(ln_2(x)))))
 * </pre>
 * x (B*T, E).
 */
public final class Gpt2Block {
  private final LayerNorm ln1;
  private final SelfAttention attention;
  private final Dropout attentionDropout;
  private final LayerNorm ln2;
  private final FeedForward mlp;
  private final Dropout mlpDropout;

  /**
   * @param prefix e.g. "transformer.h.0"
   */
  public Gpt2Block(String prefix, int embd, int inner, int heads, GeluKind gelu, float residDropout,
      float attnDropout, float eps) {
    ln1 = new LayerNorm(prefix + ".ln_1", embd, eps);
    attention = new SelfAttention(
        new Linear(prefix + ".attn.c_attn.weight", prefix + ".attn.c_attn.bias", embd, 3 * embd, Linear.Layout.IN_OUT),
        new Linear(prefix + ".attn.c_proj.weight", prefix + ".attn.c_proj.bias", embd, embd, Linear.Layout.IN_OUT),
        heads, true, attnDropout);
    attentionDropout = new Dropout(residDropout);
    ln2 = new LayerNorm(prefix + ".ln_2", embd, eps);
    mlp = new FeedForward(
        new Linear(prefix + ".mlp.c_fc.weight", prefix + ".mlp.c_fc.bias", embd, inner, Linear.Layout.IN_OUT),
        new Linear(prefix + ".mlp.c_proj.weight", prefix + ".mlp.c_proj.bias", inner, embd, Linear.Layout.IN_OUT),
        gelu);
    mlpDropout = new Dropout(residDropout);
  }

  public Tensor forward(Pass pass, Tensor x, int batch, int seqLen, Tensor keyMask) {
    Tensor attended = attentionDropout.forward(pass, attention.forward(pass, ln1.forward(pass, x), batch, seqLen, keyMask));
    Tensor x1 = Residual.sum(pass, x, attended);
    Tensor transformed = mlpDropout.forward(pass, mlp.forward(pass, ln2.forward(pass, x1)));
    return Residual.sum(pass, x1, transformed);
  }

  /** Incremental decoding of n new positions x (n, E) with this block's {@link KvCache}. */
  public Tensor forwardCached(Pass pass, Tensor x, KvCache cache) {
    Tensor x1 = Residual.sum(pass, x, attention.forwardCached(pass, ln1.forward(pass, x), cache));
    return Residual.sum(pass, x1, mlp.forward(pass, ln2.forward(pass, x1)));
  }

  public Tensor backward(Pass pass, Tensor dy) {
    Tensor dx1 = ln2.backward(pass, mlp.backward(pass, mlpDropout.backward(pass, dy)));
    Residual.accumulate(pass, dx1, dy);
    Tensor dx = ln1.backward(pass, attention.backward(pass, attentionDropout.backward(pass, dx1)));
    Residual.accumulate(pass, dx, dx1);
    return dx;
  }
}
