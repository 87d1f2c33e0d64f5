package ai.lmtrain.layers;

import ai.lmtrain.tensor.Tensor;

/**
 * An affine map y = x W' + b over the last dimension, for both weight layouts of Hugging Face
 * checkpoints: {@link Layout#OUT_IN} (torch.nn.Linear, W is (out, in), y = x W^T + b; BERT) and
 * {@link Layout#IN_OUT} (GPT-2's Conv1D, W is (in, out), y = x W + b).
 *
 * <p>Shapes: x (rows, in) -> y (rows, out). Backward: dx = dy W'^T (overwritten), dW += ..., db += sum dy.
 */
public final class Linear {

  /** Weight storage layouts. */
  public enum Layout {
    OUT_IN,
    IN_OUT
  }

  private final String weight;
  private final String bias;
  private final int in;
  private final int out;
  private final Layout layout;
  private final long[] weightShape;

  /**
   * @param weight checkpoint name of the weight (first of a packed run when the weight spans several entries)
   * @param bias checkpoint name of the bias (first of a packed run), or null
   */
  public Linear(String weight, String bias, int in, int out, Layout layout) {
    this.weight = weight;
    this.bias = bias;
    this.in = in;
    this.out = out;
    this.layout = layout;
    this.weightShape = layout == Layout.OUT_IN ? new long[] {out, in} : new long[] {in, out};
  }

  public int in() {
    return in;
  }

  public int out() {
    return out;
  }

  /** y (rows, out) = x (rows, in) W' + b. */
  public Tensor forward(Pass pass, Tensor x) {
    Tensor y = pass.activation(x.rows(), out);
    Tensor w = pass.params().paramSpan(weight, weightShape);
    Tensor b = bias == null ? null : pass.params().paramSpan(bias, out);
    pass.backend().matmul(y, x, w, b, false, layout == Layout.OUT_IN, 1f, 0f);
    return y;
  }

  /** Accumulates dW and db, and returns dx (rows, in) unless {@code needInputGrad} is false. */
  public Tensor backward(Pass pass, Tensor dy, Tensor x, boolean needInputGrad) {
    Tensor dw = pass.params().gradSpan(weight, weightShape);
    if (layout == Layout.OUT_IN) {
      pass.backend().matmul(dw, dy, x, null, true, false, 1f, 1f); // dW (out, in) += dy^T x
    } else {
      pass.backend().matmul(dw, x, dy, null, true, false, 1f, 1f); // dW (in, out) += x^T dy
    }
    if (bias != null) {
      pass.backend().biasGrad(pass.params().gradSpan(bias, out), dy);
    }
    if (!needInputGrad) {
      return null;
    }
    Tensor dx = pass.activation(x.rows(), in);
    Tensor w = pass.params().paramSpan(weight, weightShape);
    pass.backend().matmul(dx, dy, w, null, false, layout == Layout.IN_OUT, 1f, 0f);
    return dx;
  }
}
