package ai.lmtrain.tokenizers;

import java.util.List;

/**
 * The encodings of a batch of texts. With overflow, every chunk is its own row and
 * {@code sampleMapping[row]} names the input text it came from (HF's
 * {@code overflow_to_sample_mapping}).
 *
 * @param encodings one encoding per row
 * @param sampleMapping index of the source text of each row
 */
public record BatchEncoding(List<Encoding> encodings, int[] sampleMapping) {

  /** Number of rows. */
  public int size() {
    return encodings.size();
  }

  /** Ids of every row. */
  public int[][] ids() {
    return encodings.stream().map(Encoding::ids).toArray(int[][]::new);
  }

  /** Attention masks of every row. */
  public int[][] attentionMask() {
    return encodings.stream().map(Encoding::attentionMask).toArray(int[][]::new);
  }

  /** Token type ids of every row. */
  public int[][] typeIds() {
    return encodings.stream().map(Encoding::typeIds).toArray(int[][]::new);
  }
}
