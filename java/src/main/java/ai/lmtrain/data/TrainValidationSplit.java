package ai.lmtrain.data;

import java.util.ArrayList;
import java.util.List;

/**
 * A deterministic train/validation split: the examples are shuffled with {@link SplitMix64}
 * seeded by {@code seed}, the first {@code round(n * ratio)} go to validation (at least one when
 * {@code ratio > 0} and n &gt; 1), the rest to training, each keeping the original order.
 *
 * @param train the training examples
 * @param validation the validation examples
 * @param <T> example type
 */
public record TrainValidationSplit<T>(List<T> train, List<T> validation) {

  /** Splits {@code examples}; {@code validationRatio} in [0, 1). */
  public static <T> TrainValidationSplit<T> of(List<T> examples, double validationRatio, long seed) {
    if (!(validationRatio >= 0 && validationRatio < 1)) {
      throw new IllegalArgumentException("validation ratio must be in [0, 1), got " + validationRatio);
    }
    int n = examples.size();
    int nVal = (int) Math.round(n * validationRatio);
    if (validationRatio > 0 && nVal == 0 && n > 1) {
      nVal = 1;
    }
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    new SplitMix64(seed).shuffle(order);
    boolean[] isVal = new boolean[n];
    for (int i = 0; i < nVal; i++) {
      isVal[order[i]] = true;
    }
    List<T> train = new ArrayList<>(n - nVal);
    List<T> val = new ArrayList<>(nVal);
    for (int i = 0; i < n; i++) {
      (isVal[i] ? val : train).add(examples.get(i));
    }
    return new TrainValidationSplit<>(List.copyOf(train), List.copyOf(val));
  }
}
