package ai.lmtrain.models;

/**
 * How a new model's parameters are drawn: the config.json key {@code "initializer"} (an lmtrain
 * key; transformers keeps it as an unused attribute and initialises its own way). Both schemes run
 * on the host from the seed, so a model starts from the same weights on the CPU and on a GPU.
 */
public enum InitScheme {
  /**
   * Hugging Face's {@code _init_weights} (the default): weights N(0, initializer_range), biases 0,
   * LayerNorm 1 / 0, the padding token's embedding row 0; GPT-2's residual projections
   * ({@code c_proj}) N(0, initializer_range / sqrt(2 n_layer)).
   */
  HF("hf"),
  /**
   * What plain PyTorch modules do in their constructors, as in from-scratch tutorials:
   * {@code nn.Embedding} N(0, 1) (the padding_idx row 0 where the Hugging Face module has one);
   * {@code nn.Linear} weight kaiming_uniform(a = sqrt 5) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and
   * bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), where fan_in is the input width (GPT-2's Conv1D
   * weights are stored (in, out) but initialised as the nn.Linear they stand for);
   * {@code nn.LayerNorm} 1 / 0; bare parameters created as zeros (the masked-LM output bias) 0.
   */
  PYTORCH("pytorch");

  private final String key;

  InitScheme(String key) {
    this.key = key;
  }

  /** The config.json value: "hf" or "pytorch". */
  public String key() {
    return key;
  }

  /**
   * The scheme named by a config.json value.
   *
   * @throws IllegalArgumentException naming the key and the expected values
   */
  public static InitScheme parse(String value) {
    for (InitScheme s : values()) {
      if (s.key.equals(value)) {
        return s;
      }
    }
    throw new IllegalArgumentException("initializer must be \"hf\" or \"pytorch\", got "
        + (value == null ? "null" : "\"" + value + "\""));
  }
}
