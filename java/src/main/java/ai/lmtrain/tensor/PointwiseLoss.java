package ai.lmtrain.tensor;

/**
 * The element losses of {@link Backend#pointwiseLoss}: binary cross-entropy on logits (PyTorch's
 * {@code BCEWithLogitsLoss}, multi-label classification) and squared error ({@code MSELoss},
 * regression).
 */
public enum PointwiseLoss {
  /** max(x, 0) - x y + log(1 + exp(-|x|)); gradient sigmoid(x) - y. */
  BCE_WITH_LOGITS(0),
  /** (x - y)^2; gradient 2 (x - y). */
  MSE(1);

  private final int code;

  PointwiseLoss(int code) {
    this.code = code;
  }

  /** The native {@code lmt_pointwise_loss_kind} code. */
  public int code() {
    return code;
  }
}
