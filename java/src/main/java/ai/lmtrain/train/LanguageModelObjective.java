package ai.lmtrain.train;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;
import java.util.Set;

/**
 * Language modelling (masked for BERT, causal for GPT-2): the {@link LossStep} cross-entropy with a
 * {@link LossWeighting}, evaluated by {@link Evaluation}.
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

  @Override
  public EvalResult evaluate(DataLoader batches, Arena arena) {
    return Evaluation.run(model, batches, arena);
  }

  @Override
  public Set<String> metricNames() {
    return Set.of("loss", "perplexity", "accuracy");
  }
}
