package ai.lmtrain.train;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.Model;
import ai.lmtrain.tensor.Arena;
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
}
