package ai.lmtrain.tokenizers;

import java.util.List;

/**
 * One encoded text (or text pair), as Hugging Face's {@code Encoding}. All arrays have the same
 * length (padding included). Arrays are exposed as-is; do not mutate them.
 *
 * @param ids token ids
 * @param typeIds segment ids: 0 for the first text (and its special tokens), 1 for the pair
 * @param attentionMask 1 for real tokens, 0 for padding
 * @param specialTokensMask 1 for special tokens (added by post-processing, matched in the text, or
 *     padding), 0 for ordinary tokens
 * @param tokens token strings
 * @param starts start char offsets in the source text ({@code null} unless offsets were requested;
 *     0 for added special tokens and padding)
 * @param ends end char offsets, exclusive ({@code null} unless offsets were requested)
 * @param overflowing the further chunks of a long text when overflow was requested, else empty
 */
public record Encoding(
    int[] ids,
    int[] typeIds,
    int[] attentionMask,
    int[] specialTokensMask,
    String[] tokens,
    int[] starts,
    int[] ends,
    List<Encoding> overflowing) {

  /** Number of positions, padding included. */
  public int length() {
    return ids.length;
  }
}
