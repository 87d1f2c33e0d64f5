package ai.lmtrain.train;

/**
 * Where a run stands: everything besides weights and optimizer moments that exact resumption needs.
 *
 * @param globalStep optimizer steps taken (skipped fp16 overflow steps included, as HF counts them)
 * @param epoch current epoch (0-based)
 * @param nextBatch index of the next batch of that epoch
 * @param microBatches batches consumed since the start (drives the dropout stream)
 * @param tokensSeen non-padding input tokens consumed
 * @param lossScale fp16 loss scale (1 otherwise)
 * @param cleanSteps fp16 steps since the last overflow
 * @param bestEvalLoss lowest evaluation loss so far (NaN before the first evaluation)
 * @param bestStep step of that evaluation (-1 before)
 */
public record TrainState(long globalStep, int epoch, int nextBatch, long microBatches, long tokensSeen, float lossScale,
    int cleanSteps, double bestEvalLoss, long bestStep) {

  /** The state of a run that has not started. */
  public static TrainState start(float lossScale) {
    return new TrainState(0, 0, 0, 0, 0, lossScale, 0, Double.NaN, -1);
  }
}
