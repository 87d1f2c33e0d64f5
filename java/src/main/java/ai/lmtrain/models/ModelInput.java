package ai.lmtrain.models;

import ai.lmtrain.data.Batch;

/**
 * One batch as the models take it: row-major (B, T) int arrays.
 *
 * @param batch B
 * @param seqLen T
 * @param inputIds token ids (B*T)
 * @param attentionMask 1 for real tokens, 0 for padding (B*T), or null for no padding
 * @param tokenTypeIds segment ids (B*T) for BERT, or null (all 0)
 * @param labels targets (B*T) with -100 where no loss is taken, or null (inference); unshifted for
 *     GPT-2 (the model compares position t with label t+1, as Hugging Face does)
 */
public record ModelInput(int batch, int seqLen, int[] inputIds, int[] attentionMask, int[] tokenTypeIds, int[] labels) {

  /** Label value that takes no loss. */
  public static final int IGNORE_INDEX = -100;

  public ModelInput {
    if (batch <= 0 || seqLen <= 0) {
      throw new IllegalArgumentException("batch and sequence length must be > 0 (got " + batch + " x " + seqLen + ")");
    }
    long n = (long) batch * seqLen;
    check("input_ids", inputIds, n, false);
    check("attention_mask", attentionMask, n, true);
    check("token_type_ids", tokenTypeIds, n, true);
    check("labels", labels, n, true);
  }

  /** The model input of a collated batch. */
  public static ModelInput from(Batch b) {
    return new ModelInput(b.batchSize(), b.seqLen(), b.inputIds(), b.attentionMask(), b.tokenTypeIds(), b.labels());
  }

  /** A single unpadded sequence without labels. */
  public static ModelInput of(int[] ids) {
    return new ModelInput(1, ids.length, ids, null, null, null);
  }

  /** Number of positions B*T. */
  public int positions() {
    return batch * seqLen;
  }

  private static void check(String name, int[] values, long n, boolean optional) {
    if (values == null) {
      if (!optional) {
        throw new IllegalArgumentException(name + " is required");
      }
      return;
    }
    if (values.length != n) {
      throw new IllegalArgumentException(name + " has " + values.length + " values, expected batch x seq_len = " + n);
    }
  }
}
