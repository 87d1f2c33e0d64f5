package ai.lmtrain.tensor;

/** The two GELU variants: exact (BERT's "gelu") and tanh-approximated (GPT-2's "gelu_new"). */
public enum GeluKind {
  EXACT(0),
  TANH(1);

  private final int code;

  GeluKind(int code) {
    this.code = code;
  }

  /** The native {@code lmt_gelu_kind} code. */
  public int code() {
    return code;
  }

  /** Maps an HF activation name ("gelu", "gelu_new", "gelu_pytorch_tanh"). */
  public static GeluKind fromHfName(String name) {
    return switch (name) {
      case "gelu" -> EXACT;
      case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> TANH;
      default -> throw new IllegalArgumentException(
          "unsupported activation '" + name + "' (expected gelu, gelu_new or gelu_pytorch_tanh)");
    };
  }
}
