package ai.lmtrain.train;

import ai.lmtrain.data.LoaderState;

/**
 * Where a run stands: everything besides weights and optimizer moments that exact resumption needs.
 *
 * @param globalStep optimizer steps taken (skipped fp16 overflow steps included, as HF counts them)
 * @param loader where the training data loader stands (epoch, batch position, collator RNG)
 * @param microBatches batches consumed since the start (drives the dropout stream)
 * @param tokensSeen non-padding input tokens consumed
 * @param lossScale fp16 loss scale (1 otherwise)
 * @param cleanSteps fp16 steps since the last overflow
 * @param bestMetric best value of metric_for_best_model so far (NaN before the first evaluation)
 * @param bestStep step of that evaluation (-1 before)
 */
public record TrainState(long globalStep, LoaderState loader, long microBatches, long tokensSeen, float lossScale,
    int cleanSteps, double bestMetric, long bestStep) {

  /** This state with a new best evaluation. */
  TrainState withBest(double metric, long step) {
    return new TrainState(globalStep, loader, microBatches, tokensSeen, lossScale, cleanSteps, metric, step);
  }
}
