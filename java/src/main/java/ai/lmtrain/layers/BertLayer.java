package ai.lmtrain.layers;

import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.Tensor;

/**
 * One BERT encoder layer (post-LN), parameter names under {@code bert.encoder.layer.{i}}:
 * <pre>
 *   a = LN(dropout(dense(attn(x))) + x)
 *   y = LN(dropout(dense_o(gelu(dense_i(a)))) + a)
 * </pre>
 * x, y (B*T, H).
 */
public final class BertLayer implements TransformerBlock {
  private final SelfAttention attention;
  private final Dropout attentionDropout;
  private final LayerNorm attentionNorm;
  private final FeedForward feedForward;
  private final Dropout outputDropout;
  private final LayerNorm outputNorm;

  /**
   * @param prefix e.g. "bert.encoder.layer.0"
   */
  public BertLayer(String prefix, int hidden, int intermediate, int heads, GeluKind gelu, float hiddenDropout,
      float probsDropout, float eps) {
    String self = prefix + ".attention.self";
    attention = new SelfAttention(
        new Linear(self + ".query.weight", self + ".query.bias", hidden, 3 * hidden, Linear.Layout.OUT_IN),
        new Linear(prefix + ".attention.output.dense.weight", prefix + ".attention.output.dense.bias", hidden, hidden,
            Linear.Layout.OUT_IN),
        heads, false, probsDropout);
    attentionDropout = new Dropout(hiddenDropout);
    attentionNorm = new LayerNorm(prefix + ".attention.output.LayerNorm", hidden, eps);
    feedForward = new FeedForward(
        new Linear(prefix + ".intermediate.dense.weight", prefix + ".intermediate.dense.bias", hidden, intermediate,
            Linear.Layout.OUT_IN),
        new Linear(prefix + ".output.dense.weight", prefix + ".output.dense.bias", intermediate, hidden,
            Linear.Layout.OUT_IN),
        gelu);
    outputDropout = new Dropout(hiddenDropout);
    outputNorm = new LayerNorm(prefix + ".output.LayerNorm", hidden, eps);
  }

  @Override
  public Tensor forward(Pass pass, Tensor x, int batch, int seqLen, Tensor keyMask) {
    Tensor attended = attentionDropout.forward(pass, attention.forward(pass, x, batch, seqLen, keyMask));
    Tensor a = attentionNorm.forward(pass, Residual.sum(pass, attended, x));
    Tensor transformed = outputDropout.forward(pass, feedForward.forward(pass, a));
    return outputNorm.forward(pass, Residual.sum(pass, transformed, a));
  }

  @Override
  public Tensor backward(Pass pass, Tensor dy) {
    Tensor dSum2 = outputNorm.backward(pass, dy);
    Tensor da = feedForward.backward(pass, outputDropout.backward(pass, dSum2));
    Residual.accumulate(pass, da, dSum2);
    Tensor dSum1 = attentionNorm.backward(pass, da);
    Tensor dx = attention.backward(pass, attentionDropout.backward(pass, dSum1));
    Residual.accumulate(pass, dx, dSum1);
    return dx;
  }
}
