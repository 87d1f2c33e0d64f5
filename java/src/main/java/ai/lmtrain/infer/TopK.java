package ai.lmtrain.infer;

import java.util.ArrayList;
import java.util.List;

/**
 * The k most likely tokens of a softmax over one position's logits: fill-mask results (HF's
 * pipeline default k is 5) and next-token inspection.
 */
public final class TopK {
  private TopK() {}

  /**
   * One candidate token.
   *
   * @param id the token id
   * @param probability its softmax probability, in [0, 1]
   */
  public record Candidate(int id, double probability) {}

  /**
   * The {@code k} most likely ids with their softmax probabilities, most likely first, ties by
   * lower id; {@code k} larger than the vocabulary returns every id.
   *
   * @throws IllegalArgumentException for {@code k <= 0}, empty or NaN logits
   */
  public static List<Candidate> of(float[] logits, int k) {
    if (k <= 0) {
      throw new IllegalArgumentException("top_k must be > 0, got " + k);
    }
    double[] probs = LogitsProcessor.softmax(logits);
    int[] order = LogitsProcessor.idsByDescendingLogit(logits);
    List<Candidate> top = new ArrayList<>(Math.min(k, order.length));
    for (int rank = 0; rank < Math.min(k, order.length); rank++) {
      top.add(new Candidate(order[rank], probs[order[rank]]));
    }
    return top;
  }
}
