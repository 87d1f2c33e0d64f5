package ai.lmtrain.layers;

import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.Tensor;

/**
 * The masked-LM head's transform before the output projection (Hugging Face's
 * BertPredictionHeadTransform, and the first half of RobertaLMHead):
 * <pre>
 *   y = LN(gelu(dense(x)))        x, y (rows, H); dense.weight (H, H) stored (out, in)
 * </pre>
 */
public final class PredictionHeadTransform {
  private final Linear dense;
  private final GeluKind gelu;
  private final LayerNorm norm;
  private Tensor x;
  private Tensor transformed;

  /**
   * @param dense the dense layer's prefix (e.g. "cls.predictions.transform.dense")
   * @param norm the LayerNorm's prefix (e.g. "cls.predictions.transform.LayerNorm")
   */
  public PredictionHeadTransform(String dense, String norm, int hidden, GeluKind gelu, float eps) {
    this.dense = new Linear(dense + ".weight", dense + ".bias", hidden, hidden, Linear.Layout.OUT_IN);
    this.gelu = gelu;
    this.norm = new LayerNorm(norm, hidden, eps);
  }

  /** y (rows, H). */
  public Tensor forward(Pass pass, Tensor x) {
    this.x = x;
    transformed = dense.forward(pass, x);
    Tensor activated = pass.activation(transformed.shape());
    pass.backend().gelu(activated, transformed, gelu);
    return norm.forward(pass, activated);
  }

  /** dx (rows, H); accumulates the dense layer's and the LayerNorm's gradients. */
  public Tensor backward(Pass pass, Tensor dy) {
    Tensor d = norm.backward(pass, dy);
    pass.backend().geluBackward(d, transformed, d, gelu);
    return dense.backward(pass, d, x, true);
  }
}
