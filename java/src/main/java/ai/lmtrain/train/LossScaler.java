package ai.lmtrain.train;

/**
 * Dynamic loss scaling for fp16 (torch.cuda.amp.GradScaler semantics): the loss is multiplied by
 * the scale before the backward; a step whose gradients overflow is skipped and the scale halved;
 * after {@code growthInterval} clean steps in a row the scale doubles. For fp32/bf16 the scale is
 * fixed at 1 and nothing is ever skipped.
 */
public final class LossScaler {
  private final boolean dynamic;
  private final int growthInterval;
  private float scale;
  private int cleanSteps;

  private LossScaler(boolean dynamic, float scale, int growthInterval) {
    this.dynamic = dynamic;
    this.scale = scale;
    this.growthInterval = growthInterval;
  }

  /** The scaler a precision needs: dynamic from 2^16 with growth every 2000 steps for fp16, else none. */
  public static LossScaler forPrecision(Precision precision) {
    return precision == Precision.FP16 ? new LossScaler(true, 65536f, 2000) : new LossScaler(false, 1f, 0);
  }

  public float scale() {
    return scale;
  }

  public boolean dynamic() {
    return dynamic;
  }

  /**
   * Records the outcome of a step.
   *
   * @return true if the step's update must be skipped (overflow)
   */
  public boolean update(boolean overflow) {
    if (!dynamic) {
      return false;
    }
    if (overflow) {
      scale = Math.max(scale / 2f, 1f / 65536f);
      cleanSteps = 0;
      return true;
    }
    if (++cleanSteps >= growthInterval) {
      scale *= 2f;
      cleanSteps = 0;
    }
    return false;
  }

  /** For checkpoints: the clean-step counter. */
  public int cleanSteps() {
    return cleanSteps;
  }

  /** Restores the state saved in a checkpoint. */
  public void restore(float scale, int cleanSteps) {
    this.scale = scale;
    this.cleanSteps = cleanSteps;
  }
}
