package ai.lmtrain.layers;

import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.Tensor;

/**
 * LayerNorm over the last dimension (biased variance), weight and bias from the checkpoint.
 * x (rows, C) -> out (rows, C); the forward keeps x, mean and rstd for the backward.
 */
public final class LayerNorm {
  private final String weight;
  private final String bias;
  private final int channels;
  private final float eps;
  private Tensor x;
  private Tensor mean;
  private Tensor rstd;

  public LayerNorm(String prefix, int channels, float eps) {
    this.weight = prefix + ".weight";
    this.bias = prefix + ".bias";
    this.channels = channels;
    this.eps = eps;
  }

  /** out (rows, C) = LayerNorm(x). */
  public Tensor forward(Pass pass, Tensor x) {
    long rows = x.rows();
    Tensor out = pass.activation(rows, channels);
    this.x = x;
    this.mean = pass.scratch(DType.F32, rows);
    this.rstd = pass.scratch(DType.F32, rows);
    pass.backend().layerNormForward(out, mean, rstd, x, pass.params().param(weight), pass.params().param(bias), eps);
    return out;
  }

  /** dx (rows, C); accumulates the weight and bias gradients. */
  public Tensor backward(Pass pass, Tensor dout) {
    Tensor dx = pass.activation(x.rows(), channels);
    pass.backend().layerNormBackward(dx, pass.params().grad(weight), pass.params().grad(bias), dout, x,
        pass.params().param(weight), mean, rstd);
    return dx;
  }
}
