package ai.lmtrain.tokenizers;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Streaming pre-token counts with a memory cap: when more than {@code maxWords} distinct
 * pre-tokens are held, those seen at most {@code t} times are dropped, for the smallest {@code t}
 * that brings the table to three quarters of the cap. Frequent pre-tokens — the ones BPE merges —
 * keep (nearly) exact counts; a pruned rare word that comes back starts counting again. Below the
 * cap nothing is dropped and the counts are exact.
 */
final class PreTokenCounts {
  private final int maxWords;
  private final Map<String, long[]> counts = new HashMap<>();
  private int prunes;
  private long pruneThreshold;

  /** @param maxWords the most distinct pre-tokens held, &gt;= 4 */
  PreTokenCounts(int maxWords) {
    if (maxWords < 4) {
      throw new TokenizerException("the pre-token cap must be at least 4, got " + maxWords);
    }
    this.maxWords = maxWords;
  }

  void add(String word) {
    long[] c = counts.get(word);
    if (c != null) {
      c[0]++;
      return;
    }
    counts.put(word, new long[] {1});
    if (counts.size() > maxWords) {
      prune();
    }
  }

  private void prune() {
    int target = maxWords / 4 * 3;
    for (long t = 1; counts.size() > target; t++) {
      long threshold = t;
      counts.values().removeIf(c -> c[0] <= threshold);
      pruneThreshold = Math.max(pruneThreshold, t);
    }
    prunes++;
  }

  /** How often the table was pruned. */
  int prunes() {
    return prunes;
  }

  /** The highest count that a prune dropped. */
  long pruneThreshold() {
    return pruneThreshold;
  }

  boolean isEmpty() {
    return counts.isEmpty();
  }

  /** The counts, sorted by pre-token (the order {@link BpeTrainer} expects for determinism). */
  TreeMap<String, Long> sorted() {
    TreeMap<String, Long> out = new TreeMap<>();
    counts.forEach((w, c) -> out.put(w, c[0]));
    return out;
  }
}
