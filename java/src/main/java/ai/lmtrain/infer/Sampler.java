package ai.lmtrain.infer;

import java.util.SplittableRandom;

/**
 * Picks the next token from one position's logits with transformers' {@code generate()}
 * semantics (see {@link SamplingConfig}): repetition penalty, then argmax (greedy) or
 * temperature, top-k, top-p and a draw from the processed distribution. The draws come from a
 * {@link SplittableRandom} seeded with {@link SamplingConfig#seed()}, so a sampler replays the
 * same tokens for the same logits. Not thread-safe: one sampler per generated sequence.
 */
public final class Sampler {
  private final SamplingConfig config;
  private final SplittableRandom random;

  /** A sampler following {@code config}, its generator seeded with {@code config.seed()}. */
  public Sampler(SamplingConfig config) {
    this.config = config;
    this.random = new SplittableRandom(config.seed());
  }

  /** The configuration. */
  public SamplingConfig config() {
    return config;
  }

  /**
   * The next token id.
   *
   * @param logits the model's fp32 logits {@code [V]} for the last position; not modified
   * @param contextIds the sequence so far (prompt and generated tokens), for the repetition penalty
   * @throws IllegalArgumentException for NaN logits or context ids outside [0, V)
   */
  public int next(float[] logits, int[] contextIds) {
    float[] scores = logits.clone();
    LogitsProcessor.requireValid(scores);
    if (config.repetitionPenalty() != 1f) {
      LogitsProcessor.applyRepetitionPenalty(scores, contextIds, config.repetitionPenalty());
    }
    if (!config.doSample()) {
      return LogitsProcessor.argmax(scores);
    }
    if (config.temperature() != 1f) {
      LogitsProcessor.applyTemperature(scores, config.temperature());
    }
    if (config.topK() > 0) {
      LogitsProcessor.applyTopK(scores, config.topK());
    }
    if (config.topP() < 1f) {
      LogitsProcessor.applyTopP(scores, config.topP());
    }
    return draw(LogitsProcessor.softmax(scores));
  }

  /** Inverse-CDF draw: the first id whose cumulative probability exceeds a uniform u in [0, 1). */
  private int draw(double[] probs) {
    double u = random.nextDouble();
    double cumulative = 0;
    int lastPossible = -1;
    for (int id = 0; id < probs.length; id++) {
      if (probs[id] > 0) {
        cumulative += probs[id];
        lastPossible = id;
        if (u < cumulative) {
          return id;
        }
      }
    }
    return lastPossible; // u beyond a cumulative sum that rounding left just under 1
  }
}
