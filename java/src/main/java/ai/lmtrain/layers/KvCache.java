package ai.lmtrain.layers;

import ai.lmtrain.tensor.Backend;
import ai.lmtrain.tensor.DType;
import ai.lmtrain.tensor.DeviceBuffer;
import ai.lmtrain.tensor.Tensor;

/**
 * The key/value cache of one attention layer for incremental decoding of a single sequence: the
 * packed q|k|v rows of every position decoded so far, (capacity, 3C). A decoding step projects
 * only the new tokens, appends their rows, and attends over the cached prefix.
 */
public final class KvCache implements AutoCloseable {
  private final DeviceBuffer buffer;
  private final int capacity;
  private final int width;
  private final DType dtype;
  private int length;

  /** A cache for up to {@code capacity} positions of packed width {@code 3C}. */
  public KvCache(Backend backend, int capacity, int packedWidth, DType dtype) {
    this.buffer = backend.allocate((long) capacity * packedWidth * dtype.bytes());
    this.capacity = capacity;
    this.width = packedWidth;
    this.dtype = dtype;
  }

  /** Positions cached so far. */
  public int length() {
    return length;
  }

  /** Copies {@code rows} (n, 3C) in after the cached positions and returns the whole prefix (1, length, 3C). */
  Tensor append(Backend backend, Tensor rows) {
    int n = Math.toIntExact(rows.rows());
    if (length + n > capacity) {
      throw new IllegalArgumentException("KV cache full: " + length + " + " + n + " positions exceed its capacity "
          + capacity);
    }
    backend.copy(buffer.at((long) length * width * dtype.bytes(), dtype, n, width), rows);
    length += n;
    return buffer.at(0, dtype, 1, length, width);
  }

  @Override
  public void close() {
    buffer.close();
  }
}
