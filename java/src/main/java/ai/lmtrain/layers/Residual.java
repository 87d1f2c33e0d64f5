package ai.lmtrain.layers;

import ai.lmtrain.tensor.Tensor;

/** Residual connections: out = a + b in a new activation, and gradient accumulation in place. */
final class Residual {
  private Residual() {}

  /** A new tensor a + b. */
  static Tensor sum(Pass pass, Tensor a, Tensor b) {
    Tensor out = pass.activation(a.shape());
    pass.backend().add(out, a, b);
    return out;
  }

  /** grad += other (the two gradient paths of a residual connection meet). */
  static void accumulate(Pass pass, Tensor grad, Tensor other) {
    pass.backend().add(grad, grad, other);
  }
}
