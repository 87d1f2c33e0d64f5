package ai.lmtrain.io;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The element types of the safetensors format, in the declaration order of the reference
 * implementation (huggingface/safetensors {@code Dtype}), which is increasing alignment. Writers
 * store tensors by descending order of this enum, then by name, as the reference writer does.
 * Sub-byte types (F4, F6) are not supported.
 */
public enum SafeTensorsDType {
  BOOL(1),
  U8(1),
  I8(1),
  F8_E5M2(1),
  F8_E4M3(1),
  F8_E8M0(1),
  I16(2),
  U16(2),
  F16(2),
  BF16(2),
  I32(4),
  U32(4),
  F32(4),
  F64(8),
  I64(8),
  U64(8);

  private final int size;

  SafeTensorsDType(int size) {
    this.size = size;
  }

  /** Bytes per element. */
  public int size() {
    return size;
  }

  /**
   * The type named {@code name} exactly as it appears in a header ("F32", "BF16", ...).
   *
   * @throws IllegalArgumentException naming the value and the accepted names
   */
  public static SafeTensorsDType of(String name) {
    for (SafeTensorsDType dtype : values()) {
      if (dtype.name().equals(name)) {
        return dtype;
      }
    }
    throw new IllegalArgumentException("unknown safetensors dtype '" + name + "' (expected one of "
        + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")) + ")");
  }
}
