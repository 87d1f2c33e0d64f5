package ai.lmtrain.tensor;

/** Storage types. The codes equal the native {@code lmt_dtype} values. */
public enum DType {
  F32(0, 4),
  BF16(1, 2),
  F16(2, 2),
  I32(3, 4),
  I64(4, 8),
  U8(5, 1);

  private final int code;
  private final int bytes;

  DType(int code, int bytes) {
    this.code = code;
    this.bytes = bytes;
  }

  /** The native {@code lmt_dtype} code. */
  public int code() {
    return code;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /** True for F32, BF16 and F16. */
  public boolean isFloat() {
    return this == F32 || this == BF16 || this == F16;
  }

  /** The safetensors name of this type ("F32", "BF16", ...). */
  public String safetensorsName() {
    return name();
  }

  /** bf16 bits to float. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** float to bf16 bits, round to nearest even (as the native core does). */
  public static short floatToBf16(float value) {
    int u = Float.floatToRawIntBits(value);
    if ((u & 0x7fffffff) > 0x7f800000) {
      return (short) ((u >>> 16) | 0x40);
    }
    u += 0x7fff + ((u >>> 16) & 1);
    return (short) (u >>> 16);
  }

  /** f16 bits to float (exact). */
  public static float f16ToFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int man = h & 0x3ff;
    if (exp == 0) {
      float v = man * 5.9604644775390625e-8f; // man * 2^-24
      return sign != 0 ? -v : v;
    }
    if (exp == 31) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (man << 13));
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (man << 13));
  }

  /** float to f16 bits, round to nearest even; overflow gives infinity (as the native core does). */
  public static short floatToF16(float value) {
    int u = Float.floatToRawIntBits(value);
    int sign = (u >>> 16) & 0x8000;
    int a = u & 0x7fffffff;
    if (a > 0x7f800000) {
      return (short) (sign | 0x7e00);
    }
    if (a >= 0x477ff000) {
      return (short) (sign | 0x7c00);
    }
    if (a < 0x38800000) { // subnormal: the float add rounds to nearest even
      float t = Float.intBitsToFloat(a) * 16777216.0f + 8388608.0f;
      return (short) (sign | (Float.floatToRawIntBits(t) - 0x4b000000));
    }
    int rounded = a + 0xfff + ((a >>> 13) & 1);
    return (short) (sign | (((rounded >>> 13) - (112 << 10)) & 0x7fff));
  }
}
