package ai.lmtrain.data;

import java.util.Arrays;

/**
 * One training batch packed for the native core: every array is row-major (B, T) int32.
 *
 * @param batchSize B
 * @param seqLen T
 * @param inputIds token ids (B, T)
 * @param attentionMask 1 real token, 0 padding (B, T)
 * @param tokenTypeIds segment ids (B, T)
 * @param labels target ids, -100 where no loss is taken (B, T)
 * @param sequenceTargets per-sequence targets of sequence classification, (B, W) row-major: the
 *     class id (W = 1) of single-label classification, a 0/1 vector over the labels of multi-label
 *     classification, the values of regression; null for token-level (language-model) batches
 */
public record Batch(int batchSize, int seqLen, int[] inputIds, int[] attentionMask, int[] tokenTypeIds, int[] labels,
    float[] sequenceTargets) {

  /** Label value that the loss ignores (PyTorch's {@code ignore_index}). */
  public static final int IGNORE = -100;

  /** Checks the array sizes. */
  public Batch {
    int n = batchSize * seqLen;
    if (inputIds.length != n || attentionMask.length != n || tokenTypeIds.length != n || labels.length != n) {
      throw new IllegalArgumentException("batch arrays must all hold " + batchSize + " x " + seqLen + " values");
    }
    if (sequenceTargets != null && sequenceTargets.length % batchSize != 0) {
      throw new IllegalArgumentException("sequence targets must hold a multiple of " + batchSize + " values");
    }
  }

  /** Rows [first, first + count) of this batch (one rank's share of a data-parallel batch). */
  public Batch rows(int first, int count) {
    if (first < 0 || count <= 0 || first + count > batchSize) {
      throw new IllegalArgumentException("rows [" + first + ", " + (first + count) + ") are not in a batch of "
          + batchSize);
    }
    int from = first * seqLen;
    int to = (first + count) * seqLen;
    int width = sequenceTargets == null ? 0 : sequenceTargets.length / batchSize;
    return new Batch(count, seqLen, Arrays.copyOfRange(inputIds, from, to), Arrays.copyOfRange(attentionMask, from, to),
        Arrays.copyOfRange(tokenTypeIds, from, to), Arrays.copyOfRange(labels, from, to), sequenceTargets == null ? null
            : Arrays.copyOfRange(sequenceTargets, first * width, (first + count) * width));
  }

  /** A token-level batch (no sequence targets). */
  public Batch(int batchSize, int seqLen, int[] inputIds, int[] attentionMask, int[] tokenTypeIds, int[] labels) {
    this(batchSize, seqLen, inputIds, attentionMask, tokenTypeIds, labels, null);
  }
}
