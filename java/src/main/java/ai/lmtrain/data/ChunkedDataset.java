package ai.lmtrain.data;

import java.util.Arrays;
import java.util.List;

/**
 * Causal-LM blocks by concatenate-and-chunk (HF {@code group_texts}): all token streams are joined
 * and cut into consecutive blocks of {@code contextLength}; the short remainder is dropped.
 */
public final class ChunkedDataset implements TokenDataset {

  private final int[] tokens;
  private final int contextLength;
  private final int size;

  /**
   * @param sequences token sequences, concatenated in order (add an end-of-text id yourself if
   *     documents should be separated)
   * @param contextLength block length, &gt; 0
   */
  public ChunkedDataset(List<int[]> sequences, int contextLength) {
    if (contextLength <= 0) {
      throw new IllegalArgumentException("context length must be positive, got " + contextLength);
    }
    this.tokens = sequences.stream().flatMapToInt(Arrays::stream).toArray();
    this.contextLength = contextLength;
    this.size = tokens.length / contextLength;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public int[] get(int index) {
    java.util.Objects.checkIndex(index, size);
    return Arrays.copyOfRange(tokens, index * contextLength, (index + 1) * contextLength);
  }
}
