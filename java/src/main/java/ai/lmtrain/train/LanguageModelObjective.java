package ai.lmtrain.train;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.train.dist.DataParallel;
import java.util.Arrays;
import java.util.Set;

/**
 * Language modelling (masked for BERT, causal for GPT-2): the {@link LossStep} cross-entropy with a
 * {@link LossWeighting}, evaluated by {@link Evaluation}; trains and evaluates data-parallel.
 *
 * @param model the language model
 * @param weighting the loss weighting hook
 */
public record LanguageModelObjective(LanguageModel model, LossWeighting weighting) implements TrainingObjective {

  @Override
  public BatchLoss run(Pass pass, Batch batch, boolean backward, float gradScale) {
    LossStep.Result r = LossStep.run(model, pass, ModelInput.from(batch), weighting, backward, gradScale);
    return new BatchLoss(r.lossSum(), r.meanScale(), r.scoredPositions());
  }

  /**
   * The rows' cross-entropy weighted by the whole batch's normalisation: 1 / (scored positions of
   * {@code global}) for the mean loss, or the {@link LossWeighting} evaluated on {@code global}.
   */
  @Override
  public BatchLoss runRows(Pass pass, Batch global, int first, int count, boolean backward, float gradScale) {
    ModelInput all = ModelInput.from(global);
    int[] labels = model.lossLabels(all);
    float[] weights = weighting.rowWeights(all, labels);
    if (weights == null) {
      int scored = 0;
      for (int label : labels) {
        scored += label == ModelInput.IGNORE_INDEX ? 0 : 1;
      }
      weights = new float[labels.length];
      float mean = scored == 0 ? 0f : 1f / scored;
      for (int i = 0; i < labels.length; i++) {
        weights[i] = labels[i] == ModelInput.IGNORE_INDEX ? 0f : mean;
      }
    }
    float[] mine = Arrays.copyOfRange(weights, first * global.seqLen(), (first + count) * global.seqLen());
    LossStep.Result r = LossStep.run(model, pass, ModelInput.from(global.rows(first, count)), (input, l) -> mine,
        backward, gradScale);
    return new BatchLoss(r.lossSum(), r.meanScale(), r.scoredPositions());
  }

  @Override
  public EvalResult evaluate(DataLoader batches, Arena arena) {
    return Evaluation.run(model, batches, arena);
  }

  @Override
  public EvalResult evaluate(DataLoader batches, Arena arena, DataParallel parallel) {
    return Evaluation.run(model, batches, arena, parallel);
  }

  @Override
  public Set<String> metricNames() {
    return Set.of("loss", "perplexity", "accuracy");
  }
}
