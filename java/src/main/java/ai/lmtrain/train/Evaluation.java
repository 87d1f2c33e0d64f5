package ai.lmtrain.train;

import ai.lmtrain.data.DataLoader;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;

/**
 * Evaluation of a language model over a batch source: loss, perplexity, and accuracy on scored
 * positions (the argmax of each scored position's logits, computed with the chunked loss, lowest id
 * among ties).
 */
public final class Evaluation {
  private Evaluation() {}

  /** Runs every remaining batch of the loader's current epoch in inference mode. */
  public static EvalResult run(LanguageModel model, DataLoader source, Arena arena) {
    double lossSum = 0;
    long scored = 0;
    long correct = 0;
    while (source.hasNext()) {
      ModelInput input = ModelInput.from(source.next());
      arena.reset();
      LossStep.Result r = LossStep.evaluate(model, Pass.inference(model.parameters(), arena), input);
      if (r.scoredPositions() == 0) {
        continue;
      }
      lossSum += r.loss() * r.scoredPositions();
      scored += r.scoredPositions();
      correct += r.correctPredictions();
    }
    if (scored == 0) {
      throw new IllegalArgumentException("the evaluation set has no scored position (no labels other than -100)");
    }
    double loss = lossSum / scored;
    return new EvalResult(loss, Math.exp(loss), correct / (double) scored, scored);
  }
}
