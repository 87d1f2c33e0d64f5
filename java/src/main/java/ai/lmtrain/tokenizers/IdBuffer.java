package ai.lmtrain.tokenizers;

import java.util.Arrays;

/**
 * A growable array of token ids that encoders append to ({@link Tokenizer#encodeIds(String, IdBuffer)}),
 * so that many texts can be encoded back to back without an array per text. Not thread-safe.
 */
public final class IdBuffer {
  private int[] ids;
  private int size;

  /** An empty buffer with room for {@code capacity} ids before it grows. */
  public IdBuffer(int capacity) {
    ids = new int[Math.max(1, capacity)];
  }

  /** Appends one id. */
  public void add(int id) {
    if (size == ids.length) {
      ids = Arrays.copyOf(ids, ids.length * 2);
    }
    ids[size++] = id;
  }

  /** Appends all of {@code more}. */
  public void addAll(int[] more) {
    if (size + more.length > ids.length) {
      ids = Arrays.copyOf(ids, Math.max(ids.length * 2, size + more.length));
    }
    System.arraycopy(more, 0, ids, size, more.length);
    size += more.length;
  }

  /** The number of ids appended. */
  public int size() {
    return size;
  }

  /** The backing array, whose first {@link #size()} elements are the ids (valid until the next append). */
  public int[] array() {
    return ids;
  }

  /** The ids as an array of their own. */
  public int[] toArray() {
    return Arrays.copyOf(ids, size);
  }
}
