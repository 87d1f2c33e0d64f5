package ai.lmtrain.train;

import ai.lmtrain.data.Batch;
import ai.lmtrain.data.DataLoader;
import ai.lmtrain.layers.Pass;
import ai.lmtrain.models.LanguageModel;
import ai.lmtrain.models.ModelInput;
import ai.lmtrain.tensor.Arena;
import ai.lmtrain.train.dist.DataParallel;

/**
 * Evaluation of a language model over a batch source: loss, perplexity, and accuracy on scored
 * positions (the argmax of each scored position's logits, computed with the chunked loss, lowest id
 * among ties).
 */
public final class Evaluation {
  private Evaluation() {}

  /** Runs every remaining batch of the loader's current epoch in inference mode. */
  public static EvalResult run(LanguageModel model, DataLoader source, Arena arena) {
    return run(model, source, arena, DataParallel.SINGLE);
  }

  /**
   * The same over several ranks: {@code source} yields global batches, each rank evaluates its
   * rows of each, and the totals are summed over the ranks.
   */
  public static EvalResult run(LanguageModel model, DataLoader source, Arena arena, DataParallel parallel) {
    Totals totals = new Totals();
    while (source.hasNext()) {
      Batch batch = source.next();
      DataParallel.Rows rows = parallel.rows(batch.batchSize());
      if (rows.isEmpty()) {
        continue; // a short last batch with fewer rows than ranks
      }
      ModelInput input = ModelInput.from(rows.whole() ? batch : batch.rows(rows.first(), rows.count()));
      arena.reset();
      totals.add(LossStep.evaluate(model, Pass.inference(model.parameters(), arena), input));
    }
    totals.sumOver(parallel);
    return totals.result();
  }

  /** Running sums of a language-model evaluation: loss and argmax hits over the scored positions. */
  static final class Totals {
    private double lossSum;
    private long scored;
    private long correct;

    /** Adds a batch's result of {@link LossStep#evaluate} (or another run with predictions). */
    void add(LossStep.Result r) {
      if (r.scoredPositions() == 0) {
        return;
      }
      lossSum += r.loss() * r.scoredPositions();
      scored += r.scoredPositions();
      correct += r.correctPredictions();
    }

    /** Replaces each sum by its sum over the ranks of {@code parallel}. */
    void sumOver(DataParallel parallel) {
      double[] totals = {lossSum, scored, correct};
      parallel.sum(totals);
      lossSum = totals[0];
      scored = (long) totals[1];
      correct = (long) totals[2];
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
