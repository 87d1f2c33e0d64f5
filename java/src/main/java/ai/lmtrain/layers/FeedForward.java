package ai.lmtrain.layers;

import ai.lmtrain.tensor.GeluKind;
import ai.lmtrain.tensor.Tensor;

/** The position-wise MLP of a transformer block: y = proj(gelu(fc(x))). x (rows, C) -> y (rows, C). */
public final class FeedForward {
  private final Linear fc;
  private final Linear proj;
  private final GeluKind gelu;
  private Tensor x;
  private Tensor hidden;
  private Tensor activated;

  public FeedForward(Linear fc, Linear proj, GeluKind gelu) {
    this.fc = fc;
    this.proj = proj;
    this.gelu = gelu;
  }

  public Tensor forward(Pass pass, Tensor x) {
    this.x = x;
    hidden = fc.forward(pass, x);
    activated = pass.activation(hidden.shape());
    pass.backend().gelu(activated, hidden, gelu);
    return proj.forward(pass, activated);
  }

  /** dx (rows, C); accumulates both projections' gradients. */
  public Tensor backward(Pass pass, Tensor dy) {
    Tensor dActivated = proj.backward(pass, dy, activated, true);
    pass.backend().geluBackward(dActivated, hidden, dActivated, gelu);
    return fc.backward(pass, dActivated, x, true);
  }
}
