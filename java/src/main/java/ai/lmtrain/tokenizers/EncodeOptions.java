package ai.lmtrain.tokenizers;

/**
 * How to encode, mirroring the arguments of Hugging Face's {@code tokenizer(...)} call. Build from
 * {@link #defaults()} with the {@code with...} methods.
 *
 * @param addSpecialTokens add the post-processor's special tokens ([CLS]/[SEP] for BERT; GPT-2
 *     adds none)
 * @param maxLength the length limit for truncation and {@link Padding#MAX_LENGTH}; 0 = none
 * @param truncation truncate to {@code maxLength} (longest-first for pairs)
 * @param padding padding strategy (always on the right)
 * @param padId id used for padding; -1 = the tokenizer's pad token
 * @param returnOverflowing keep the truncated-away tokens as further fixed-length chunks (single
 *     texts only)
 * @param stride number of tokens each overflow chunk repeats from the end of the previous one
 * @param returnOffsets compute character offsets
 */
public record EncodeOptions(
    boolean addSpecialTokens,
    int maxLength,
    boolean truncation,
    Padding padding,
    int padId,
    boolean returnOverflowing,
    int stride,
    boolean returnOffsets) {

  /** Padding strategies (HF {@code padding=}). */
  public enum Padding {
    /** No padding. */
    NONE,
    /** Pad every row of a batch to the longest row. */
    LONGEST,
    /** Pad every row to {@code maxLength}. */
    MAX_LENGTH
  }

  /** Validates the combination of options. */
  public EncodeOptions {
    if (maxLength < 0 || stride < 0) {
      throw new TokenizerException("maxLength and stride must be >= 0, got " + maxLength + " and " + stride);
    }
    if ((truncation || padding == Padding.MAX_LENGTH || returnOverflowing) && maxLength == 0) {
      throw new TokenizerException("truncation, max_length padding and overflow need maxLength > 0");
    }
    if (returnOverflowing && !truncation) {
      throw new TokenizerException("returnOverflowing needs truncation");
    }
  }

  /** Special tokens on, no truncation, no padding, no offsets. */
  public static EncodeOptions defaults() {
    return new EncodeOptions(true, 0, false, Padding.NONE, -1, false, 0, false);
  }

  /** Returns a copy with {@code addSpecialTokens} set. */
  public EncodeOptions withAddSpecialTokens(boolean v) {
    return new EncodeOptions(v, maxLength, truncation, padding, padId, returnOverflowing, stride, returnOffsets);
  }

  /** Returns a copy with the length limit set, without switching truncation on. */
  public EncodeOptions withMaxLength(int max) {
    return new EncodeOptions(addSpecialTokens, max, truncation, padding, padId, returnOverflowing, stride, returnOffsets);
  }

  /** Returns a copy that truncates to {@code max} tokens (special tokens included). */
  public EncodeOptions withTruncation(int max) {
    return new EncodeOptions(addSpecialTokens, max, true, padding, padId, returnOverflowing, stride, returnOffsets);
  }

  /** Returns a copy with the given padding strategy and pad id (-1 = the tokenizer's pad token). */
  public EncodeOptions withPadding(Padding p, int id) {
    return new EncodeOptions(addSpecialTokens, maxLength, truncation, p, id, returnOverflowing, stride, returnOffsets);
  }

  /** Returns a copy that keeps overflow chunks, each repeating {@code strideTokens} tokens. */
  public EncodeOptions withOverflow(int strideTokens) {
    return new EncodeOptions(addSpecialTokens, maxLength, truncation, padding, padId, true, strideTokens, returnOffsets);
  }

  /** Returns a copy with offsets on or off. */
  public EncodeOptions withOffsets(boolean v) {
    return new EncodeOptions(addSpecialTokens, maxLength, truncation, padding, padId, returnOverflowing, stride, v);
  }
}
