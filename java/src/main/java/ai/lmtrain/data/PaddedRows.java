package ai.lmtrain.data;

import java.util.Arrays;
import java.util.List;

/** Right-pads examples into row-major (B, T) arrays; shared by the collators. */
record PaddedRows(int batchSize, int seqLen, int[] inputIds, int[] attentionMask) {

  /**
   * Pads to the longest example, or to {@code length} when it is &gt; 0.
   *
   * @throws IllegalArgumentException if an example is longer than {@code length}, or none given
   */
  static PaddedRows of(List<int[]> examples, int padId, int length) {
    if (examples.isEmpty()) {
      throw new IllegalArgumentException("cannot collate an empty list of examples");
    }
    int longest = examples.stream().mapToInt(e -> e.length).max().getAsInt();
    if (length > 0 && longest > length) {
      throw new IllegalArgumentException("an example has " + longest + " tokens, more than the padding length " + length);
    }
    int t = length > 0 ? length : longest;
    int b = examples.size();
    int[] ids = new int[b * t];
    int[] mask = new int[b * t];
    Arrays.fill(ids, padId);
    for (int r = 0; r < b; r++) {
      int[] e = examples.get(r);
      System.arraycopy(e, 0, ids, r * t, e.length);
      Arrays.fill(mask, r * t, r * t + e.length, 1);
    }
    return new PaddedRows(b, t, ids, mask);
  }

  /** A batch with zero token type ids and the given labels. */
  Batch withLabels(int[] inputs, int[] labels) {
    return new Batch(batchSize, seqLen, inputs, attentionMask, new int[batchSize * seqLen], labels);
  }
}
