package ai.lmtrain.train;

import ai.lmtrain.data.DataLoader;
import ai.lmtrain.infer.LogitsProcessor;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.tensor.Backend;

/** Evaluation of a language model over a batch source: loss, perplexity, accuracy on scored positions. */
public final class Evaluation {
  private Evaluation() {}

  /** Runs every remaining batch of the loader's current epoch in inference mode. */
  public static EvalResult run(LanguageModel model, DataLoader source, Arena arena) {
    Totals totals = new Totals();
    while (source.hasNext()) {
      ModelInput input = ModelInput.from(source.next());
      arena.reset();
      totals.add(model, input, LossStep.run(model, Pass.inference(model.parameters(), arena), input,
          LossWeighting.MEAN, false, 1f));
    }
    return totals.result();
  }

  /** Running sums of a language-model evaluation: loss and argmax hits over the scored positions. */
  static final class Totals {
    private double lossSum;
    private long scored;
    private long correct;

    /** Adds the batch {@code input} whose (inference) loss step gave {@code r}. */
    void add(LanguageModel model, ModelInput input, LossStep.Result r) {
      if (r.scoredPositions() == 0) {
        return;
      }
      Backend backend = model.parameters().backend();
      lossSum += r.loss() * r.scoredPositions();
      scored += r.scoredPositions();
      int[] labels = model.lossLabels(input);
      for (int row = 0; row < labels.length; row++) {
        if (labels[row] != ModelInput.IGNORE_INDEX) {
          correct += LogitsProcessor.argmax(backend.downloadFloats(r.logits().row(row))) == labels[row] ? 1 : 0;
        }
      }
    }

    /** Mean loss over the scored positions. */
    double loss() {
      requireScored();
      return lossSum / scored;
    }

    /** The result: loss, perplexity exp(loss), accuracy. */
    EvalResult result() {
      double loss = loss();
      return new EvalResult(loss, Math.exp(loss), correct / (double) scored, scored);
    }

    private void requireScored() {
      if (scored == 0) {
        throw new IllegalArgumentException("the evaluation set has no scored position (no labels other than -100)");
      }
    }
  }
}
