package ai.lmtrain.train;

import ai.lmtrain.tensor.DType;

/** Training precision: the activation/working-weight type; master weights and moments stay F32. */
public enum Precision {
  FP32(DType.F32),
  BF16(DType.BF16),
  FP16(DType.F16);

  private final DType computeType;

  Precision(DType computeType) {
    this.computeType = computeType;
  }

  /** Type of activations and working weights. */
  public DType computeType() {
    return computeType;
  }

  /** Parses "fp32", "bf16" or "fp16" (case-insensitive). */
  public static Precision parse(String text) {
    return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "fp32", "f32", "float32" -> FP32;
      case "bf16", "bfloat16" -> BF16;
      case "fp16", "f16", "float16" -> FP16;
      default -> throw new IllegalArgumentException("unknown precision '" + text + "' (expected fp32, bf16 or fp16)");
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
