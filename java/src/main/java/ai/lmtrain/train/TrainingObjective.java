package ai.lmtrain.train;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.Model;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.train.dist.DataParallel;
import java.util.Set;

/**
 * What the {@link Trainer} optimises: a model and the loss it takes on a batch. Implementations:
 * {@link LanguageModelObjective} (masked / causal language modelling) and
 * {@link ClassificationObjective} (sequence classification).
 */
public interface TrainingObjective {

  /** The model whose parameters are trained (and saved in checkpoints). */
  Model model();

  /**
   * Forward and loss of one batch; with {@code backward}, the parameter gradients accumulate the
   * gradient of {@code gradScale * batch loss}. Nothing here waits for the device.
   */
  BatchLoss run(Pass pass, Batch batch, boolean backward, float gradScale);

  /** Runs every remaining batch of the loader's current epoch in inference mode. */
  EvalResult evaluate(DataLoader batches, Arena arena);

  /** The {@link EvalResult#metric} names this objective's evaluations have (metric_for_best_model). */
  Set<String> metricNames();

  /**
   * Forward and loss of rows [first, first + count) of {@code global}: one rank's share of a
   * data-parallel batch. The loss is normalised as the whole batch's, not as the rows' own, so
   * that the ranks' gradients add up to the gradient of {@link #run} on {@code global}. Objectives
   * that do not train data-parallel keep this default, which refuses.
   */
  default BatchLoss runRows(Pass pass, Batch global, int first, int count, boolean backward, float gradScale) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not train data-parallel");
  }

  /**
   * {@link #evaluate} as one rank of {@code parallel}: {@code batches} yields global batches, the
   * rank evaluates its rows of each, and the totals are reduced over the ranks. The default
   * evaluates in a single process only.
   */
  default EvalResult evaluate(DataLoader batches, Arena arena, DataParallel parallel) {
    if (parallel.distributed()) {
      throw new UnsupportedOperationException(getClass().getSimpleName() + " does not evaluate data-parallel");
    }
    return evaluate(batches, arena);
  }
}
