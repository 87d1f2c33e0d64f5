package ai.lmtrain.layers;

import ai.lmtrain.tensor.Tensor;

/**
 * Inverted dropout with the counter-based mask: active only in training passes with p > 0; the
 * backward regenerates the forward's mask from the counters it took.
 */
public final class Dropout {
  private final float p;
  private boolean applied;
  private long offset;

  public Dropout(float p) {
    if (!(p >= 0 && p < 1)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1) (got " + p + ")");
    }
    this.p = p;
  }

  /** x itself when inactive, else a new tensor with dropped elements. */
  public Tensor forward(Pass pass, Tensor x) {
    applied = pass.training() && p > 0;
    if (!applied) {
      return x;
    }
    offset = pass.takeDropoutCounters(x.numel());
    Tensor out = pass.activation(x.shape());
    pass.backend().dropoutForward(out, x, p, pass.seed(), offset);
    return out;
  }

  /** dout itself when inactive, else a new tensor with the forward's mask applied. */
  public Tensor backward(Pass pass, Tensor dout) {
    if (!applied) {
      return dout;
    }
    Tensor dx = pass.activation(dout.shape());
    pass.backend().dropoutBackward(dx, dout, p, pass.seed(), offset);
    return dx;
  }
}
