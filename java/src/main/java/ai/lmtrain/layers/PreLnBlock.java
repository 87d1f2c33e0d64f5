package ai.lmtrain.layers;

import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.Tensor;

/**
 * A pre-LN transformer block — GPT-2's decoder block, and the encoder layer of transformers'
 * RobertaPreLayerNorm (pre-LN BERT) — with the parameter names of either ({@link #gpt2},
 * {@link #robertaPreLayerNorm}):
 * <pre>
 *   x = x + dropout(proj(attn(LN_1(x))))              GPT-2: causal attention
 *   x = x + dropout(fc_out(gelu(fc_in(LN_2(x)))))
 * </pre>
 * x (B*T, C).
 */
public final class PreLnBlock implements TransformerBlock {
  private final LayerNorm ln1;
  private final SelfAttention attention;
  private final Dropout attentionDropout;
  private final LayerNorm ln2;
  private final FeedForward mlp;
  private final Dropout mlpDropout;

  private PreLnBlock(LayerNorm ln1, SelfAttention attention, float attentionDropout, LayerNorm ln2, FeedForward mlp,
      float mlpDropout) {
    this.ln1 = ln1;
    this.attention = attention;
    this.attentionDropout = new Dropout(attentionDropout);
    this.ln2 = ln2;
    this.mlp = mlp;
    this.mlpDropout = new Dropout(mlpDropout);
  }

  /**
   * GPT-2's block, parameters under {@code prefix} (e.g. "transformer.h.0"): ln_1, attn.c_attn
   * (q|k|v columns), attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj; Conv1D weights (in, out); causal.
   */
  public static PreLnBlock gpt2(String prefix, int embd, int inner, int heads, GeluKind gelu, float residDropout,
      float attnDropout, float eps) {
    return new PreLnBlock(new LayerNorm(prefix + ".ln_1", embd, eps),
        new SelfAttention(
            new Linear(prefix + ".attn.c_attn.weight", prefix + ".attn.c_attn.bias", embd, 3 * embd,
                Linear.Layout.IN_OUT),
            new Linear(prefix + ".attn.c_proj.weight", prefix + ".attn.c_proj.bias", embd, embd, Linear.Layout.IN_OUT),
            heads, true, attnDropout),
        residDropout,
        new LayerNorm(prefix + ".ln_2", embd, eps),
        new FeedForward(
            new Linear(prefix + ".mlp.c_fc.weight", prefix + ".mlp.c_fc.bias", embd, inner, Linear.Layout.IN_OUT),
            new Linear(prefix + ".mlp.c_proj.weight", prefix + ".mlp.c_proj.bias", inner, embd, Linear.Layout.IN_OUT),
            gelu),
        residDropout);
  }

  /**
   * transformers' RobertaPreLayerNormLayer, parameters under {@code prefix} (e.g.
   * "roberta_prelayernorm.encoder.layer.0"): attention.LayerNorm, attention.self.{query,key,value}
   * (packed into one (3H, H) matrix), attention.output.dense, intermediate.LayerNorm,
   * intermediate.dense, output.dense; nn.Linear weights (out, in); bidirectional.
   */
  public static PreLnBlock robertaPreLayerNorm(String prefix, int hidden, int intermediate, int heads, GeluKind gelu,
      float hiddenDropout, float probsDropout, float eps) {
    String self = prefix + ".attention.self";
    return new PreLnBlock(new LayerNorm(prefix + ".attention.LayerNorm", hidden, eps),
        new SelfAttention(
            new Linear(self + ".query.weight", self + ".query.bias", hidden, 3 * hidden, Linear.Layout.OUT_IN),
            new Linear(prefix + ".attention.output.dense.weight", prefix + ".attention.output.dense.bias", hidden,
                hidden, Linear.Layout.OUT_IN),
            heads, false, probsDropout),
        hiddenDropout,
        new LayerNorm(prefix + ".intermediate.LayerNorm", hidden, eps),
        new FeedForward(
            new Linear(prefix + ".intermediate.dense.weight", prefix + ".intermediate.dense.bias", hidden, intermediate,
                Linear.Layout.OUT_IN),
            new Linear(prefix + ".output.dense.weight", prefix + ".output.dense.bias", intermediate, hidden,
                Linear.Layout.OUT_IN),
            gelu),
        hiddenDropout);
  }

  @Override
  public Tensor forward(Pass pass, Tensor x, int batch, int seqLen, Tensor keyMask) {
    Tensor attended = attentionDropout.forward(pass, attention.forward(pass, ln1.forward(pass, x), batch, seqLen, keyMask));
    Tensor x1 = Residual.sum(pass, x, attended);
    Tensor transformed = mlpDropout.forward(pass, mlp.forward(pass, ln2.forward(pass, x1)));
    return Residual.sum(pass, x1, transformed);
  }

  /** Incremental decoding of n new positions x (n, C) with this block's {@link KvCache}. */
  public Tensor forwardCached(Pass pass, Tensor x, KvCache cache) {
    Tensor x1 = Residual.sum(pass, x, attention.forwardCached(pass, ln1.forward(pass, x), cache));
    return Residual.sum(pass, x1, mlp.forward(pass, ln2.forward(pass, x1)));
  }

  @Override
  public Tensor backward(Pass pass, Tensor dy) {
    Tensor dx1 = ln2.backward(pass, mlp.backward(pass, mlpDropout.backward(pass, dy)));
    Residual.accumulate(pass, dx1, dy);
    Tensor dx = ln1.backward(pass, attention.backward(pass, attentionDropout.backward(pass, dx1)));
    Residual.accumulate(pass, dx, dx1);
    return dx;
  }
}
