package ai.lmtrain.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * Causal-LM windows over one token stream: window {@code i} starts at {@code i * stride}; its
 * inputs are {@code contextLength} tokens and its targets the same positions shifted by one (the
 * next tokens). Only full windows (with their last target) are kept.
 */
public final class SlidingWindowDataset implements TokenDataset {

  private final int[] tokens;
  private final int contextLength;
  private final int stride;
  private final int size;

  /**
   * @param tokens the token stream
   * @param contextLength window length, &gt; 0
   * @param stride distance between window starts, &gt; 0
   */
  public SlidingWindowDataset(int[] tokens, int contextLength, int stride) {
    if (contextLength <= 0 || stride <= 0) {
      throw new IllegalArgumentException("context length and stride must be positive, got " + contextLength + " and " + stride);
    }
    this.tokens = tokens.clone();
    this.contextLength = contextLength;
    this.stride = stride;
    this.size = tokens.length < contextLength + 1 ? 0 : (tokens.length - contextLength - 1) / stride + 1;
  }

  @Override
  public int size() {
    return size;
  }

  /** The inputs of window {@code index}. */
  @Override
  public int[] get(int index) {
    Objects.checkIndex(index, size);
    return Arrays.copyOfRange(tokens, index * stride, index * stride + contextLength);
  }

  /** The next-token targets of window {@code index}: {@code targets[t] = inputs[t + 1]} in the stream. */
  public int[] targets(int index) {
    Objects.checkIndex(index, size);
    return Arrays.copyOfRange(tokens, index * stride + 1, index * stride + contextLength + 1);
  }
}
