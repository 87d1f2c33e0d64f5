package ai.lmtrain.tokenizers;

import java.util.Arrays;

/**
 * The raw output of a tokenizer's model for one text, before special tokens, truncation and
 * padding: parallel arrays of ids, token strings, special flags and (optionally) character
 * offsets into the original text.
 *
 * @param ids token ids
 * @param tokens token strings (vocabulary form, e.g. {@code ##ing} or {@code Ġworld})
 * @param special 1 where the token is a special added token matched in the text, else 0
 * @param starts start char offset of each token in the original text, or {@code null}
 * @param ends end char offset (exclusive) of each token, or {@code null}
 */
public record TokenSequence(int[] ids, String[] tokens, int[] special, int[] starts, int[] ends) {

  /** Number of tokens. */
  public int length() {
    return ids.length;
  }

  /** Whether offsets were computed. */
  public boolean hasOffsets() {
    return starts != null;
  }

  /** The tokens {@code [from, to)} as a new sequence. */
  public TokenSequence slice(int from, int to) {
    return new TokenSequence(
        Arrays.copyOfRange(ids, from, to),
        Arrays.copyOfRange(tokens, from, to),
        Arrays.copyOfRange(special, from, to),
        starts == null ? null : Arrays.copyOfRange(starts, from, to),
        ends == null ? null : Arrays.copyOfRange(ends, from, to));
  }

  /** Growable builder used by the tokenizer models. */
  static final class Builder {
    private final boolean offsets;
    private int[] ids = new int[16];
    private String[] tokens = new String[16];
    private int[] special = new int[16];
    private int[] starts;
    private int[] ends;
    private int size;

    Builder(boolean offsets) {
      this.offsets = offsets;
      if (offsets) {
        starts = new int[16];
        ends = new int[16];
      }
    }

    void add(int id, String token, boolean isSpecial, int start, int end) {
      if (size == ids.length) {
        int n = size * 2;
        ids = Arrays.copyOf(ids, n);
        tokens = Arrays.copyOf(tokens, n);
        special = Arrays.copyOf(special, n);
        if (offsets) {
          starts = Arrays.copyOf(starts, n);
          ends = Arrays.copyOf(ends, n);
        }
      }
      ids[size] = id;
      tokens[size] = token;
      special[size] = isSpecial ? 1 : 0;
      if (offsets) {
        starts[size] = start;
        ends[size] = end;
      }
      size++;
    }

    boolean wantsOffsets() {
      return offsets;
    }

    TokenSequence build() {
      return new TokenSequence(
          Arrays.copyOf(ids, size),
          Arrays.copyOf(tokens, size),
          Arrays.copyOf(special, size),
          offsets ? Arrays.copyOf(starts, size) : null,
          offsets ? Arrays.copyOf(ends, size) : null);
    }
  }
}
