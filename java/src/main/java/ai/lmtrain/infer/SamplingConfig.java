package ai.lmtrain.infer;

/**
 * How to choose the next token, with the meaning of transformers' {@code generate()} arguments.
 * Greedy decoding takes the argmax; sampling applies, in order, temperature, top-k and top-p and
 * draws from a seeded generator. The repetition penalty applies in both modes. The defaults are
 * transformers' (temperature 1, top_k 50, top_p 1, repetition_penalty 1).
 *
 * @param doSample false: greedy argmax; true: sample
 * @param temperature logits are divided by it when sampling; {@code > 0}
 * @param topK keep the k most likely tokens (and ties with the k-th); 0 disables
 * @param topP keep the smallest most-likely set whose probability reaches p; in (0, 1], 1 disables
 * @param repetitionPenalty {@code >= 1} discourages ids already in the sequence; 1 disables
 * @param seed the sampling generator's seed: the same seed gives the same tokens
 */
public record SamplingConfig(
    boolean doSample, float temperature, int topK, float topP, float repetitionPenalty, long seed) {

  /** transformers' default top_k. */
  public static final int DEFAULT_TOP_K = 50;

  /**
   * Validates the values.
   *
   * @throws IllegalArgumentException naming the generate() argument and the accepted range
   */
  public SamplingConfig {
    if (!(temperature > 0) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be a finite number > 0, got " + temperature
          + " (for deterministic output use greedy decoding)");
    }
    if (topK < 0) {
      throw new IllegalArgumentException("top_k must be >= 0 (0 disables it), got " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top_p must be in (0, 1] (1 disables it), got " + topP);
    }
    if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
      throw new IllegalArgumentException("repetition_penalty must be a finite number > 0 (1 disables it), got "
          + repetitionPenalty);
    }
  }

  /** Greedy decoding (argmax), no repetition penalty. */
  public static SamplingConfig greedy() {
    return new SamplingConfig(false, 1f, DEFAULT_TOP_K, 1f, 1f, 0L);
  }

  /** Sampling with transformers' defaults (temperature 1, top_k 50, top_p 1) and {@code seed}. */
  public static SamplingConfig sampling(long seed) {
    return new SamplingConfig(true, 1f, DEFAULT_TOP_K, 1f, 1f, seed);
  }

  /** This config with another temperature. */
  public SamplingConfig withTemperature(float value) {
    return new SamplingConfig(doSample, value, topK, topP, repetitionPenalty, seed);
  }

  /** This config with another top_k (0 disables). */
  public SamplingConfig withTopK(int value) {
    return new SamplingConfig(doSample, temperature, value, topP, repetitionPenalty, seed);
  }

  /** This config with another top_p (1 disables). */
  public SamplingConfig withTopP(float value) {
    return new SamplingConfig(doSample, temperature, topK, value, repetitionPenalty, seed);
  }

  /** This config with another repetition penalty (1 disables). */
  public SamplingConfig withRepetitionPenalty(float value) {
    return new SamplingConfig(doSample, temperature, topK, topP, value, seed);
  }
}
