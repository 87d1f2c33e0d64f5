package ai.lmtrain.train;

/**
 * Observes a {@link Trainer}: log lines, evaluations and the points where a checkpoint should be
 * written. The trainer itself does no I/O; the CLI wires metrics files, progress bars and
 * checkpoint folders through this interface.
 */
public interface TrainingListener {

  /** A training log point (every logging_steps and at the end). */
  default void onLog(TrainLog log) {}

  /** An evaluation finished. {@code improved}: it is the best so far. */
  default void onEvaluate(EvalResult result, long step, boolean improved) {}

  /** After every optimizer step (progress display). */
  default void onStep(TrainState state, long totalSteps) {}

  /** A checkpoint is due (save_strategy) or the run ended ({@code last}). */
  default void onSave(Trainer trainer, boolean last) {}

  /**
   * One training log point.
   *
   * @param step optimizer step
   * @param epoch fractional epoch
   * @param loss mean training loss since the previous log point
   * @param learningRate learning rate of the last step
   * @param gradNorm global gradient norm of the last step (before clipping)
   * @param tokensSeen tokens consumed so far
   * @param tokensPerSecond throughput since the previous log point
   * @param skippedSteps fp16 steps skipped for overflow since the previous log point
   * @param lossScale current fp16 loss scale (1 otherwise)
   */
  record TrainLog(long step, double epoch, double loss, double learningRate, double gradNorm, long tokensSeen,
      double tokensPerSecond, int skippedSteps, float lossScale) {}
}
