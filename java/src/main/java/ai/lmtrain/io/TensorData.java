package ai.lmtrain.io;

import ai.lmtrain.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One named tensor of a safetensors file: its dtype name ("F32", "BF16", ...), its shape
 * (row-major) and its little-endian bytes.
 *
 * <p>{@code data} holds exactly {@code numel * dtype size} bytes from position 0 to its limit;
 * the constructor takes a little-endian {@link ByteBuffer#slice() slice} of the buffer's remaining
 * bytes, so later position changes on the caller's buffer do not affect it. Tensors read from a
 * file are read-only slices of a memory mapping: pages load from disk when touched. Records
 * compare arrays and buffers by identity; compare {@link #shape()} and {@link #data()} contents
 * explicitly.
 *
 * @param dtype a {@link SafeTensorsDType} name
 * @param shape dimensions, each {@code >= 0}; {@code []} for a scalar
 * @param data the element bytes, little-endian, row-major
 */
public record TensorData(String dtype, long[] shape, ByteBuffer data) {
  /** Validates the dtype, the shape and that the byte count matches them. */
  public TensorData {
    SafeTensorsDType type = SafeTensorsDType.of(dtype);
    shape = shape.clone();
    long bytes = Math.multiplyExact(numel(shape), type.size());
    if (data.remaining() != bytes) {
      throw new IllegalArgumentException("tensor of dtype " + dtype + " and shape "
          + Arrays.toString(shape) + " needs " + bytes + " bytes, got " + data.remaining());
    }
    data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** An F32 tensor holding a copy of {@code values}; {@code shape} must have values.length elements. */
  public static TensorData ofFloats(long[] shape, float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, Float.BYTES))
        .order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    return new TensorData(SafeTensorsDType.F32.name(), shape, bytes);
  }

  /** A tensor of the project's storage type {@code dtype} over {@code data}'s remaining bytes. */
  public static TensorData of(DType dtype, long[] shape, ByteBuffer data) {
    return new TensorData(dtype.safetensorsName(), shape, data);
  }

  /** The element type. */
  public SafeTensorsDType type() {
    return SafeTensorsDType.of(dtype);
  }

  /** The number of elements (1 for a scalar). */
  public long numel() {
    return numel(shape);
  }

  /** A copy of the shape. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** A duplicate of the data view (position 0, little-endian), safe to read from independently. */
  @Override
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The elements as fp32 values; F32 is copied, BF16 and F16 are widened exactly.
   *
   * @throws IllegalStateException for other dtypes or more than 2^31-1 elements
   */
  public float[] toFloats() {
    long n = numel();
    if (n > Integer.MAX_VALUE) {
      throw new IllegalStateException("tensor has " + n + " elements, too many for a float[]");
    }
    float[] out = new float[(int) n];
    ByteBuffer bytes = data();
    switch (type()) {
      case F32 -> bytes.asFloatBuffer().get(out);
      case BF16 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = DType.bf16ToFloat(bytes.getShort(2 * i));
        }
      }
      case F16 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = DType.f16ToFloat(bytes.getShort(2 * i));
        }
      }
      default -> throw new IllegalStateException(
          "tensor of dtype " + dtype + " cannot be read as floats (expected F32, BF16 or F16)");
    }
    return out;
  }

  /** The product of {@code shape}; throws on negative dimensions or overflow. */
  static long numel(long[] shape) {
    long n = 1;
    for (long dim : shape) {
      if (dim < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, dim);
    }
    return n;
  }
}
