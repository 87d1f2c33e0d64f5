package ai.lmtrain.train;

import ai.lmtrain.models.ModelInput;

/**
 * The custom-loss hook: weights per scored position, so that the loss is
 * {@code sum_i w_i * CE_i} over non-ignored positions i. Returning null means the standard loss,
 * the mean over non-ignored positions ({@code w_i = 1 / count}), as Hugging Face computes it.
 *
 * <p>Positions follow the logits' rows: (B*T), already shifted for GPT-2 ({@code lossLabels}).
 */
@FunctionalInterface
public interface LossWeighting {

  /** Weights (B*T) for the batch, or null for the mean over non-ignored positions. */
  float[] rowWeights(ModelInput input, int[] lossLabels);

  /** The standard mean loss. */
  LossWeighting MEAN = (input, labels) -> null;

  /**
   * Per-sample weighting as in the CLM guide's key-token loss: each sample's mean token loss is
   * multiplied by {@code sampleWeight(b)} and the batch loss is the mean over samples:
   * {@code loss = (1/B) sum_b w_b * mean_t CE_bt}.
   */
  static LossWeighting perSample(SampleWeight sampleWeight) {
    return (input, labels) -> {
      float[] w = new float[labels.length];
      for (int b = 0; b < input.batch(); b++) {
        int count = 0;
        for (int t = 0; t < input.seqLen(); t++) {
          count += labels[b * input.seqLen() + t] == ModelInput.IGNORE_INDEX ? 0 : 1;
        }
        if (count == 0) {
          continue;
        }
        float rowWeight = (float) (sampleWeight.weight(input, b) / count / input.batch());
        for (int t = 0; t < input.seqLen(); t++) {
          w[b * input.seqLen() + t] = rowWeight;
        }
      }
      return w;
    };
  }

  /**
   * The key-token weighting of the Hugging Face course: {@code w_b = 1 + alpha * (number of
   * occurrences of the key token ids in sample b's inputs)}.
   */
  static LossWeighting keyTokens(int[] keyTokenIds, double alpha) {
    java.util.Set<Integer> keys = new java.util.HashSet<>();
    for (int id : keyTokenIds) {
      keys.add(id);
    }
    return perSample((input, b) -> {
      int hits = 0;
      for (int t = 0; t < input.seqLen(); t++) {
        hits += keys.contains(input.inputIds()[b * input.seqLen() + t]) ? 1 : 0;
      }
      return 1 + alpha * hits;
    });
  }

  /** The weight of sample b of a batch. */
  @FunctionalInterface
  interface SampleWeight {
    double weight(ModelInput input, int b);
  }
}
