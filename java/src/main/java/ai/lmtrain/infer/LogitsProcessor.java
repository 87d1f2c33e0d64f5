package ai.lmtrain.infer;

import java.util.Arrays;

/**
 * The logits processors and warpers of transformers' {@code generate()}, over one position's
 * fp32 logits {@code [V]}. Each {@code apply*} method edits the array in place; removed tokens get
 * {@link Float#NEGATIVE_INFINITY}, as transformers' {@code filter_value}. Orderings break ties by
 * the lower token id, so results never depend on sort stability.
 */
public final class LogitsProcessor {
  private LogitsProcessor() {}

  /**
   * transformers' RepetitionPenaltyLogitsProcessor: for every distinct id in {@code previousIds}
   * (prompt and generated tokens), {@code s < 0 ? s * penalty : s / penalty}. Applied once per
   * id however often it occurs.
   *
   * @throws IllegalArgumentException for an id outside [0, V)
   */
  public static void applyRepetitionPenalty(float[] logits, int[] previousIds, float penalty) {
    boolean[] seen = new boolean[logits.length];
    for (int id : previousIds) {
      if (id < 0 || id >= logits.length) {
        throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, "
            + logits.length + ")");
      }
      if (!seen[id]) {
        seen[id] = true;
        float score = logits[id];
        logits[id] = score < 0 ? score * penalty : score / penalty;
      }
    }
  }

  /**
   * transformers' TemperatureLogitsWarper: {@code s / temperature}. When that would overflow a
   * float (a tiny temperature such as 1e-45), the scores become {@code (s - max) / temperature}
   * instead: the same distribution (softmax, top-k and top-p ignore a common shift), whose largest
   * score is 0 rather than +inf (softmax of +inf is NaN) — in the limit, greedy among the ties.
   */
  public static void applyTemperature(float[] logits, float temperature) {
    if (!(temperature > 0) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be a finite number > 0, got " + temperature);
    }
    float max = Float.NEGATIVE_INFINITY;
    boolean overflows = false;
    for (float value : logits) {
      max = Math.max(max, value);
      overflows |= Float.isInfinite(value / temperature) && !Float.isInfinite(value);
    }
    float shift = overflows ? max : 0f;
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (logits[i] - shift) / temperature;
    }
  }

  /**
   * transformers' TopKLogitsWarper: removes every token whose logit is below the k-th largest;
   * tokens tied with the k-th are kept. {@code k >= V} keeps everything.
   */
  public static void applyTopK(float[] logits, int k) {
    if (k <= 0) {
      throw new IllegalArgumentException("top_k must be > 0 here, got " + k);
    }
    if (k >= logits.length) {
      return;
    }
    float[] sorted = logits.clone();
    Arrays.sort(sorted);
    float kth = sorted[sorted.length - k];
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] < kth) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /**
   * transformers' TopPLogitsWarper (nucleus): keeps the smallest set of most likely tokens whose
   * probability reaches {@code p}, i.e. a token stays when the probability of the tokens ranked
   * above it is below {@code p}; the most likely token always stays. (transformers phrases it as
   * removing tokens whose ascending cumulative probability is at most 1 - p.)
   */
  public static void applyTopP(float[] logits, double p) {
    if (!(p > 0 && p <= 1)) {
      throw new IllegalArgumentException("top_p must be in (0, 1], got " + p);
    }
    double[] probs = softmax(logits);
    int[] order = idsByDescendingLogit(logits);
    double above = 0;
    for (int rank = 0; rank < order.length; rank++) {
      int id = order[rank];
      if (rank > 0 && above >= p) {
        logits[id] = Float.NEGATIVE_INFINITY;
      }
      above += probs[id];
    }
  }

  /**
   * Softmax in double precision with the max subtracted; removed tokens ({@code -inf}) get 0.
   *
   * @throws IllegalArgumentException for empty logits, a NaN, or all logits {@code -inf}
   */
  public static double[] softmax(float[] logits) {
    requireValid(logits);
    float max = Float.NEGATIVE_INFINITY;
    for (float value : logits) {
      max = Math.max(max, value);
    }
    if (max == Float.NEGATIVE_INFINITY) {
      throw new IllegalArgumentException("every logit is -inf: no token can be chosen");
    }
    double[] probs = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      probs[i] = Math.exp((double) logits[i] - max);
      sum += probs[i];
    }
    for (int i = 0; i < probs.length; i++) {
      probs[i] /= sum;
    }
    return probs;
  }

  /**
   * The id of the largest logit, the lowest id among ties (greedy decoding).
   *
   * @throws IllegalArgumentException for empty logits or a NaN
   */
  public static int argmax(float[] logits) {
    requireValid(logits);
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /** All ids ordered by descending logit, ties by ascending id. Logits must not be NaN. */
  static int[] idsByDescendingLogit(float[] logits) {
    // One primitive sort of (reversed sortable logit bits, id) keys: no boxing for V = 50k.
    long[] keys = new long[logits.length];
    for (int id = 0; id < logits.length; id++) {
      int bits = Float.floatToIntBits(logits[id] == 0f ? 0f : logits[id]); // -0 ties with +0
      int ascending = bits ^ ((bits >> 31) & 0x7fffffff);
      keys[id] = ((long) ~ascending << 32) | id;
    }
    Arrays.sort(keys);
    int[] ids = new int[keys.length];
    for (int i = 0; i < keys.length; i++) {
      ids[i] = (int) keys[i];
    }
    return ids;
  }

  /** Rejects empty logits and NaNs, naming the first bad index. */
  static void requireValid(float[] logits) {
    if (logits.length == 0) {
      throw new IllegalArgumentException("logits are empty (expected one value per vocabulary id)");
    }
    for (int i = 0; i < logits.length; i++) {
      if (Float.isNaN(logits[i])) {
        throw new IllegalArgumentException("logits[" + i + "] is NaN (the model output is not finite)");
      }
    }
  }
}
