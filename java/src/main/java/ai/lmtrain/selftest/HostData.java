package ai.lmtrain.selftest;

import ai.lmtrain.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Host-side encoding of tensor contents as the little-endian bytes a backend stores, and decoding
 * of downloaded bytes into doubles, so that one comparison routine serves every storage type.
 */
final class HostData {
  private HostData() {}

  /** {@code values} stored as {@code dtype} (F32, BF16 or F16; rounded to nearest even). */
  static byte[] encodeFloats(DType dtype, float[] values) {
    ByteBuffer out = ByteBuffer.allocate(values.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      switch (dtype) {
        case F32 -> out.putFloat(v);
        case BF16 -> out.putShort(DType.floatToBf16(v));
        case F16 -> out.putShort(DType.floatToF16(v));
        default -> throw new IllegalArgumentException("float values cannot be stored as " + dtype);
      }
    }
    return out.array();
  }

  /** {@code values} stored as I32. */
  static byte[] encodeInts(int[] values) {
    ByteBuffer out = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      out.putInt(v);
    }
    return out.array();
  }

  /** The elements of {@code bytes} (of type {@code dtype}) as doubles; exact for every type but huge I64s. */
  static double[] decode(DType dtype, byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    double[] out = new double[bytes.length / dtype.bytes()];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (dtype) {
        case F32 -> in.getFloat();
        case BF16 -> DType.bf16ToFloat(in.getShort());
        case F16 -> DType.f16ToFloat(in.getShort());
        case I32 -> in.getInt();
        case I64 -> in.getLong();
        case U8 -> in.get() & 0xff;
      };
    }
    return out;
  }
}
